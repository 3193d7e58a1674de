# Sourced by the scripts that use one GPU lease (gpu-train-real.sh, gpu-train-knn.sh) after they set
# $out and $budget: makes $out absolute and copies the run's terminal output to $out/log.txt, gives a
# clock against the budget (elapsed, left, step), the CLI to call (cli), and require_gpu.
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee -a "$out/log.txt") 2>&1
started=$SECONDS
elapsed() { echo $((SECONDS - started)); }
left() { echo $((budget - (SECONDS - started))); }
step() { echo "[$(elapsed) s] $*"; }
cli=(node dist/cli.js)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true

# Writes $out/doctor.json and prints the adapter; exits 3 on a software adapter, where a lease's
# figures would mean nothing (ALLOW_SOFTWARE=1 goes on, to check a script here).
require_gpu() {
  timeout 60 "${cli[@]}" doctor --json > "$out/doctor.json"
  node -e 'const r=require(process.argv[1]);console.log(`  ${r.adapter.description} (${r.adapter.vendor}/${r.adapter.architecture}) software=${r.adapter.software}; FMA ${r.fmaGflops} GFLOP/s, copy ${r.copyGBps} GB/s`);if(r.adapter.software&&!process.env.ALLOW_SOFTWARE)process.exit(3)' "$out/doctor.json" ||
    { echo "  no hardware adapter: stopping here (ALLOW_SOFTWARE=1 runs on a software one)"; exit 3; }
}
