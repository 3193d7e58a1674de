#!/usr/bin/env bash
# One prepared GPU run (docs/gpu.md) of the shipped kNN recipe (descriptor, a bank of 4096, the scan's
# own cells as reference) trained for many more steps than a 2-core machine allows, all jobs at once:
# a step is bound by launch and submit cost, not by the GPU's arithmetic, so parallel processes
# share the GPU well. The jobs:
#   p<S>  phantoms (phantom --quality, made there), descriptor seed S for PHANTOM_STEPS steps (a seed
#         written S@N trains N steps instead, as the job pS-N), its bank
#         (300 steps, smoothed 6 mm), configured with the scan reference; then scored on the 28 test
#         phantoms (4 processes per seed) beside the intensity baseline and their combination
#   r<S>  real CT (.gpu-data/train.tar.xz from scripts/gpu-pack-data.sh), soft-tissue window
#         (REAL_WINDOW), descriptor seed S for as many steps as the time left allows, and its bank
# Steps are sized from each job's own step time, measured with all jobs running together. Everything
# lands in $OUT (default ./gpu-out): log.txt, doctor.json, models.tar (every model with its loss
# curves) and eval.tar (the eval reports and logs). Environment: BUDGET (seconds, default 540),
# EVAL_SECONDS (reserved for scoring, default 200), PHANTOM_SEEDS (default "0 1 2"), PHANTOM_STEPS
# (default 3000), PHANTOM_SPACING (the phantom jobs' voxel size in mm, default 4), EXTRA_MODELS (more
# models scored on the test phantoms, NAME=PATH ...; scored from the start, beside the training), REAL_SEEDS (default "0"), REAL_WINDOW (default -200,300), MAX_STEPS (default 20000),
# CALIBRATION_STEPS (default 60), BANK_STEPS (default 300 for phantoms, 200 for real CT), ALLOW_SOFTWARE=1 (run on a software adapter, to check the script),
# PHANTOM_FLAGS (extra `phantom` options, e.g. to make fewer for a check), EVAL_FLAGS.
# Usage, from the project root after `source .gpu/activate.sh`: bash scripts/gpu-train-knn.sh
set -uo pipefail
out=${OUT:-gpu-out}
budget=${BUDGET:-540}
eval_seconds=${EVAL_SECONDS:-200}
phantom_steps=${PHANTOM_STEPS:-3000}
phantom_spacing=${PHANTOM_SPACING:-4}
max_steps=${MAX_STEPS:-20000}
calibration_steps=${CALIBRATION_STEPS:-60}
real_window=${REAL_WINDOW:--200,300}
read -r -a phantom_seeds <<< "${PHANTOM_SEEDS-0 1 2}"
read -r -a real_seeds <<< "${REAL_SEEDS-0}"
read -r -a phantom_flags <<< "${PHANTOM_FLAGS:-}"
read -r -a eval_flags <<< "${EVAL_FLAGS:-}"
work=${WORK:-/tmp/screener-gpu-knn}
mkdir -p "$work/models" "$work/logs"
# shellcheck source=scripts/gpu-lease.sh
source "$(dirname "$0")/gpu-lease.sh"
recipe=(--preset small --colour 0.3 --cache "$work/cache")

step "phantoms and real CT unpacked in the background; doctor"
"${cli[@]}" phantom --quality --out "$work/q" "${phantom_flags[@]}" > "$work/logs/phantom.log" 2>&1 &
phantom_pid=$!
unpack_pid=
if [ ${#real_seeds[@]} -gt 0 ]; then
  [ -f .gpu-data/train.tar.xz ] || { echo "  .gpu-data/train.tar.xz is missing: run scripts/gpu-pack-data.sh (or REAL_SEEDS=)"; exit 1; }
  (xz -dc -T0 .gpu-data/train.tar.xz | tar -C "$work" -x) &
  unpack_pid=$!
fi
require_gpu
wait "$phantom_pid" || { echo "  phantom failed:"; tail -n 5 "$work/logs/phantom.log"; exit 1; }
[ -n "$unpack_pid" ] && { wait "$unpack_pid" || { echo "  unpacking failed"; exit 1; }; }

# Scoring: the 28 test phantoms in four groups, one eval process per group and model (beside the
# intensity baseline and the combination); every process id joins score_pids.
score_pids=()
make_groups() {
  mkdir -p "$work/groups"
  local cases c g i=0
  cases=$(cd "$work/q/test" && ls -d */ | tr -d / | sort -V)
  for c in $cases; do
    g="$work/groups/g$((i % 4))"; mkdir -p "$g"; [ -d "$g/$c" ] || cp -r "$work/q/test/$c" "$g/"; i=$((i + 1))
  done
}
score() {
  local job=$1 model=$2 g name
  for g in "$work"/groups/g*; do
    name=$job-$(basename "$g")
    timeout $(( $(left) - 10 )) "${cli[@]}" eval --data "$g" --model "$model" --baseline intensity \
      --fit-data "$work/q/healthy" --combined --cache "$work/cache" "${eval_flags[@]}" --json "$work/eval-$name.json" \
      > "$work/logs/eval-$name.log" 2>&1 &
    score_pids+=($!)
  done
}
make_groups
read -r -a extra_models <<< "${EXTRA_MODELS:-}"
[ ${#extra_models[@]} -gt 0 ] && step "scoring ${#extra_models[@]} given models in the background"
for entry in "${extra_models[@]}"; do score "${entry%%=*}" "${entry#*=}"; done

# Each job: its name, its training data and its descriptor flags.
jobs=()
declare -A job_data job_flags job_cap
phantom_jobs=()
for entry in "${phantom_seeds[@]}"; do
  s=${entry%@*}; job=p$s; cap=$phantom_steps
  [[ $entry == *@* ]] && { cap=${entry#*@}; job=p$s-$cap; }
  jobs+=("$job"); phantom_jobs+=("$job"); job_data[$job]="--data $work/q/train"; job_flags[$job]="--seed $s --spacing $phantom_spacing"; job_cap[$job]=$cap
done
for s in "${real_seeds[@]}"; do
  jobs+=("r$s"); job_data[r$s]="--data $work/train"; job_flags[r$s]="--seed $s --spacing 4 --hu-window $real_window"
done

# The first run of every job preprocesses its scans into the shared cache (one process per folder
# group, writes are atomic) and measures its step time while all jobs run together.
step "preprocessing and calibration (${calibration_steps} steps per job, all jobs together)"
pids=()
for group in "$work"/train/g* "$work/q/train" "$work/q/healthy" "$work/q/test"; do
  [ -d "$group" ] || continue
  flags=(--spacing 4 --hu-window "$real_window"); [[ $group == "$work/q/"* ]] && flags=(--spacing "$phantom_spacing")
  "${cli[@]}" train --data "$group" --out "$work/warm/$(basename "$group").safetensors" "${recipe[@]}" "${flags[@]}" \
    --stage descriptor --steps 1 --force > "$work/logs/warm-$(basename "$group").log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "  a preprocessing process failed (logs/warm-*.log)"; done
step "preprocessed: $(ls "$work/cache" | wc -l) scans in the cache"
pids=()
for job in "${jobs[@]}"; do
  # shellcheck disable=SC2086
  "${cli[@]}" train ${job_data[$job]} --out "$work/cal/$job.safetensors" "${recipe[@]}" ${job_flags[$job]} \
    --stage descriptor --steps "$calibration_steps" --force > "$work/logs/cal-$job.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "  a calibration run failed (logs/cal-*.log)"; done

# Seconds per step of each job: the median of its calibration steps after the first ten.
median_step() {
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").slice(11).map((r) => Number(r.split(",")[4]));
    rows.sort((a, b) => a - b); console.log(rows.length ? rows[rows.length >> 1] : 1);
  ' "$work/cal/$1.losses.csv" 2>/dev/null || echo 1
}
# The descriptors train together in the time left before the banks (about 40 s) and scoring.
train_seconds=$(( $(left) - eval_seconds - 60 ))
declare -A job_steps
for job in "${jobs[@]}"; do
  per=$(median_step "$job")
  cap=${job_cap[$job]:-$max_steps}
  job_steps[$job]=$(node -e "console.log(Math.min($cap, Math.max(20, Math.floor(0.85 * $train_seconds / $per))))")
  echo "  $job: $per s a step together -> ${job_steps[$job]} steps"
done

step "descriptors, all jobs together ($train_seconds s)"
pids=()
for job in "${jobs[@]}"; do
  # shellcheck disable=SC2086
  timeout $(( $(left) - eval_seconds - 20 )) "${cli[@]}" train ${job_data[$job]} --out "$work/models/d-$job.safetensors" \
    "${recipe[@]}" ${job_flags[$job]} --stage descriptor --steps "${job_steps[$job]}" > "$work/logs/d-$job.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "  a descriptor run failed or ran out of time (logs/d-*.log)"; done
for job in "${jobs[@]}"; do echo "  $job: $(tail -n 1 "$work/models/d-$job.losses.csv" 2>/dev/null)"; done

step "banks, all jobs together"
pids=()
for job in "${jobs[@]}"; do
  bank_steps=200; [[ $job == p* ]] && bank_steps=300
  bank_steps=${BANK_STEPS:-$bank_steps}
  # shellcheck disable=SC2086
  "${cli[@]}" train ${job_data[$job]} --from "$work/models/d-$job.safetensors" --out "$work/models/b-$job.safetensors" \
    --cache "$work/cache" --stage density --density knn --smooth 6 --steps "$bank_steps" > "$work/logs/b-$job.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || echo "  a bank failed (logs/b-*.log)"; done
declare -A scored
for job in "${phantom_jobs[@]}"; do
  "${cli[@]}" configure --model "$work/models/b-$job.safetensors" --out "$work/models/knn-scan-$job.safetensors" --reference scan \
    > "$work/logs/configure-$job.log" 2>&1 || echo "  configure $job failed"
  scored[$job]=$work/models/knn-scan-$job.safetensors
done
(cd "$work/models" && tar -cf - --exclude "*.checkpoint.safetensors" ./*.safetensors ./*.losses.csv) > "$out/models.tar"
step "models saved ($(left) s left)"

step "scoring the test phantoms, four processes per model"
for job in "${phantom_jobs[@]}"; do score "$job" "${scored[$job]}"; done
for pid in "${score_pids[@]}"; do wait "$pid" || echo "  a scoring process failed or ran out of time"; done
(cd "$work" && tar -cf - eval-*.json logs 2>/dev/null) > "$out/eval.tar"
step "done: $out ($(ls "$work"/eval-*.json 2>/dev/null | wc -l) reports)"
