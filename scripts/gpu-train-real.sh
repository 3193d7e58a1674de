#!/usr/bin/env bash
# One prepared GPU run (docs/gpu.md): train Screener's `small` recipe on real CT for as many steps as
# the lease allows, then score it on a validation set with lesion masks beside the intensity
# baseline, within BUDGET seconds (default 560). Data comes from scripts/gpu-pack-data.sh
# (.gpu-data/{train,val}.tar.xz); everything lands in $OUT (default ./gpu-out), at most 8 files:
#   log.txt             this run's terminal output (nvidia-smi, doctor, step sizing, each stage)
#   doctor.json         the adapter and its measured FMA and copy ceilings
#   bench-train.json    one training step per stage, with PyTorch on CUDA as the peer
#   model.safetensors   the trained model; model.losses.csv its loss curves (the three stages)
#   eval.tar            one `screener eval --json` report per validation group, and their logs
# The steps per stage are sized from the benchmark's step times, then resized after the first stage
# from that stage's own step times. Scans are preprocessed into the cache by parallel processes
# while the benchmark runs. Environment: BUDGET, EVAL_SECONDS (reserved for scoring, default 150),
# MIN_STEPS and MAX_STEPS (bounds per stage, default 20 and 20000), COLOUR (default 0.3), SEED (0),
# HU_WINDOW (train --hu-window, e.g. -200,300; default the paper's window),
# BENCH_FLAGS (default --peer-cuda) and EVAL_FLAGS (extra `screener eval` options, default none).
# Usage, from the project root after `source .gpu/activate.sh`: bash scripts/gpu-train-real.sh
set -uo pipefail
out=${OUT:-gpu-out}
budget=${BUDGET:-560}
eval_seconds=${EVAL_SECONDS:-150}
min_steps=${MIN_STEPS:-20}
max_steps=${MAX_STEPS:-20000}
colour=${COLOUR:-0.3}
seed=${SEED:-0}
window_flags=()
[ -n "${HU_WINDOW:-}" ] && window_flags=(--hu-window "$HU_WINDOW")
read -r -a bench_flags <<< "${BENCH_FLAGS:---peer-cuda}"
read -r -a eval_flags <<< "${EVAL_FLAGS:-}"
work=${WORK:-/tmp/screener-gpu}
mkdir -p "$work"
# shellcheck source=scripts/gpu-lease.sh
source "$(dirname "$0")/gpu-lease.sh"
common=(--preset small --spacing 4 --cache "$work/cache")

step "unpacking .gpu-data"
for part in train val; do
  [ -f ".gpu-data/$part.tar.xz" ] || { echo "  .gpu-data/$part.tar.xz is missing: run scripts/gpu-pack-data.sh"; exit 1; }
  xz -dc -T0 ".gpu-data/$part.tar.xz" | tar -C "$work" -x
done
echo "  $(find "$work/train" -name 'ct.nii' | wc -l) training scans, $(find "$work/val" -name 'ct.nii' | wc -l) validation scans"

step "doctor"
require_gpu

step "preprocessing (one process per group) beside the train benchmark"
pids=()
for group in "$work"/train/g* "$work"/val/g*; do
  name=$(basename "$(dirname "$group")")-$(basename "$group")
  "${cli[@]}" train --data "$group" --out "$work/warm/$name.safetensors" "${common[@]}" "${window_flags[@]}" --stage descriptor --steps 1 --force \
    > "$work/warm-$name.log" 2>&1 &
  pids+=($!)
done
timeout 150 node dist/bench.js train --json "${bench_flags[@]}" > "$out/bench-train.json" 2> "$work/bench-train.err"
echo "  bench exit $?"
node -e 'const r=require(process.argv[1]);for(const c of r.cases)console.log(`  ${c.name}: ${c.medianMs} ms, ${c.gflops} GFLOP/s, ${(100*c.ceilingFraction).toFixed(2)} % of FMA ceiling, ${c.peerRatio ?? "-"}x peer`)' "$out/bench-train.json" 2>/dev/null
for pid in "${pids[@]}"; do wait "$pid" || echo "  a preprocessing process failed (logs in $work)"; done
step "preprocessed: $(ls "$work/cache" | wc -l) scans in the cache"

# Steps for the three stages from seconds per step (descriptor, condition, density), filling the time
# left before scoring in the shares 0.4, 0.25, 0.35 less 20 s per stage for its start.
size_steps() {
  node -e '
    const [left, d, c, n, lo, hi, stages] = process.argv.slice(1).map(Number);
    const shares = [0.4, 0.25, 0.35].slice(3 - stages), per = [d, c, n].slice(3 - stages);
    const total = shares.reduce((a, b) => a + b, 0), usable = Math.max(0, left - 20 * stages);
    console.log(per.map((s, i) => Math.max(lo, Math.min(hi, Math.floor((usable * shares[i]) / total / s)))).join(" "));
  ' "$@"
}
read -r d_s c_s n_s < <(node -e '
  const r = require(process.argv[1]); const ms = (stage) => r.cases.find((c) => c.stage === stage).medianMs;
  console.log([ms("descriptor"), ms("condition"), ms("density")].map((m) => (1.3 * m) / 1000).join(" "));
' "$out/bench-train.json" 2>/dev/null || echo "1 1 1")
read -r steps_d steps_c steps_n < <(size_steps $(($(left) - eval_seconds)) "$d_s" "$c_s" "$n_s" "$min_steps" "$max_steps" 3)
step "sized from the benchmark (1.3x its step times): descriptor $steps_d, condition $steps_c, density $steps_n steps"

model="$work/model/model.safetensors"
mkdir -p "$work/model"
train_stage() {
  local stage=$1 steps=$2
  step "train $stage: $steps steps"
  timeout $(($(left) - 30)) "${cli[@]}" train --data "$work/train" --out "$model" "${common[@]}" --colour "$colour" --seed "$seed" "${window_flags[@]}" \
    --stage "$stage" --steps "$steps" 2>&1 | grep -v '\[#*-*\]' | tail -n 4
  # Each --stage run writes the curve of its own stage only.
  cp "${model%.safetensors}.losses.csv" "$work/model/losses-$stage.csv"
  # What is trained so far comes back even if a later step runs out of time.
  cp "$model" "$out/model.safetensors"
  (head -n 1 "$work/model/losses-descriptor.csv"; for csv in "$work"/model/losses-{descriptor,condition,density}.csv; do
    [ -f "$csv" ] && tail -n +2 "$csv"; done) > "$out/model.losses.csv"
}
train_stage descriptor "$steps_d"
# Resize the later stages by how much slower or faster the real steps were than the benchmark's.
ratio=$(node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(1).map((r) => r.split(","));
  const s = rows.filter((r) => r[0] === "descriptor").slice(1).map((r) => Number(r[4])).sort((a, b) => a - b);
  console.log(s.length ? s[s.length >> 1] / Number(process.argv[2]) : 1);
' "${model%.safetensors}.losses.csv" "$d_s" 2>/dev/null || echo 1)
read -r steps_c steps_n < <(size_steps $(($(left) - eval_seconds)) 1 "$(node -e "console.log($c_s*$ratio)")" "$(node -e "console.log($n_s*$ratio)")" "$min_steps" "$max_steps" 2)
step "real descriptor steps took ${ratio}x the sized time: condition $steps_c, density $steps_n steps"
train_stage condition "$steps_c"
train_stage density "$steps_n"

step "scoring the validation groups in parallel ($(left) s left)"
pids=()
for group in "$work"/val/g*; do
  name=$(basename "$group")
  timeout $(($(left) - 10)) "${cli[@]}" eval --data "$group" --model "$model" --baseline intensity --fit-data "$work/train" \
    --combined "${eval_flags[@]}" --cache "$work/cache" --json "$work/eval-$name.json" > "$work/eval-$name.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "  a scoring process failed or ran out of time"; done
(cd "$work" && tar -cf - eval-*.json eval-*.log warm-*.log bench-train.err 2>/dev/null) > "$out/eval.tar"
grep -h -A4 '^| method' "$work"/eval-g*.log | grep '^|' | sort -u
step "done: $out"
