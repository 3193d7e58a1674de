#!/usr/bin/env bash
# One prepared measuring run for a GPU machine (see docs/gpu.md): the device report and every
# benchmark as JSON into $OUT (default ./gpu-out), a short table last.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
node dist/cli.js doctor --json > "$out/doctor.json" 2> "$out/doctor.err"
node dist/cli.js doctor 2>&1 | tail -n 4
for name in "$@"; do
  timeout 240 node dist/bench.js "$name" --json > "$out/bench-$name.json" 2> "$out/bench-$name.err"
  echo "bench $name: exit $?"
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const c of r.cases)console.log([c.benchmark,c.name,c.direction??"",c.shape,c.medianMs+" ms",c.gflops??c.gbps,(100*c.ceilingFraction).toFixed(1)+"%",c.peerRatio??"-"].join("  "))' "$out/bench-$name.json" 2>/dev/null
done
