#!/usr/bin/env bash
# One prepared measuring run for a GPU machine (docs/gpu.md), within 10 minutes, everything as JSON
# into $OUT (default ./gpu-out; at most 8 files) with a short summary on the terminal:
#   1. the portable test suite on the machine's adapter (dist/tests, bundled by gpu-pack.sh);
#   2. the device report (doctor);
#   3. the conv3d, train and predict benchmarks (conv3d with its TensorFlow.js peer, whose Node bundles
#      gpu-pack.sh carries; train with the PyTorch peer on CUDA when python3 has torch);
#   4. PyTorch on the conv3d benchmark's own cases (TF32 off), when python3 has torch.
# Each step has its own time limit, so one that hangs leaves time for the rest: TEST_SECONDS (240),
# BENCH_SECONDS per benchmark (200) and PEER_SECONDS (120) shorten them for a short lease.
# Usage, from the project root after `source .gpu/activate.sh`: bash scripts/gpu-measure.sh [benchmarks]
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(conv3d train predict)
started=$SECONDS
step() { echo "[$((SECONDS - started)) s] $*"; }

# The device tool returns at most 8 files: the card goes to the terminal and every step's stderr to one log.
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
errors="$out/stderr.log"

step "tests (dist/tests)"
if [ -f dist/tests/run.mjs ]; then
  timeout "${TEST_SECONDS:-240}" node dist/tests/run.mjs --json "$out/tests.json" > "$out/tests.log" 2>&1
  echo "  exit $?: $(tail -n 1 "$out/tests.log")"
  grep -A3 '✗' "$out/tests.log" | head -n 40
else
  echo "  dist/tests is missing: run bash scripts/gpu-pack.sh (it bundles the suite) before carrying dist"
fi

step "doctor"
timeout 60 node dist/cli.js doctor --json > "$out/doctor.json" 2>> "$errors"
timeout 60 node dist/cli.js doctor 2>&1 | tail -n 4

python=""
for p in python3 /usr/bin/python3; do "$p" -c 'import torch' 2>/dev/null && { python=$p; break; }; done
gpu_torch=""
[ -n "$python" ] && "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && gpu_torch=1

for name in "${benches[@]}"; do
  step "bench $name"
  flags=()
  [ "$name" = conv3d ] && [ ! -d node_modules/@tensorflow/tfjs-core ] && flags+=(--no-peer)
  [ "$name" = train ] && { if [ -n "$gpu_torch" ]; then flags+=(--peer-cuda); else flags+=(--no-peer); fi; }
  timeout "${BENCH_SECONDS:-200}" node dist/bench.js "$name" --json "${flags[@]}" > "$out/bench-$name.json" 2>> "$errors"
  echo "  exit $?"
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const c of r.cases)console.log("  "+[c.name,c.shape,c.medianMs+" ms",c.gflops??c.gbps??"",c.ceilingFraction===null?"-":(100*c.ceilingFraction).toFixed(1)+"% of ceiling",c.peerRatio===null?"-":c.peerRatio+"x peer"].join("  "))' "$out/bench-$name.json" 2>/dev/null
done

if [ -n "$python" ] && [ -s "$out/bench-conv3d.json" ]; then
  step "PyTorch on the conv3d cases"
  timeout "${PEER_SECONDS:-120}" "$python" bench/peers/torch_conv3d.py "$out/bench-conv3d.json" --json "$out/torch-conv3d.json" 2>&1 | sed 's/^/  /'
elif [ -z "$python" ]; then
  step "no PyTorch peer for conv3d: no python3 here imports torch"
else
  step "no PyTorch peer for conv3d: the conv3d benchmark did not run or wrote nothing"
fi
step "done: $out"
