#!/usr/bin/env bash
# Packs what a bare GPU machine lacks for this project into .gpu/ (ignored by git): Node.js, Dawn's
# `webgpu` package (native addon for linux-x64 plus its small dependencies) and the Vulkan loader.
# Run from the project root after `npm run setup` and `npm run build`; it also bundles the portable test
# suite into dist/tests. Carry .gpu and dist to the GPU machine and start commands there with
# `source .gpu/activate.sh;` (docs/gpu.md), then `bash scripts/gpu-measure.sh`.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
addon=node_modules/webgpu/dist/linux-x64.dawn.node
[ -f "$addon" ] || { echo "gpu-pack: $addon is missing: run npm run setup first" >&2; exit 1; }
mkdir -p .gpu
# The portable test suite as plain Node modules (dist/tests), which scripts/gpu-measure.sh runs there.
node test/bundled/build.mjs
# Node without its symbols (strip, where present) is about 2 MB smaller packed, room for data in a carry.
if [ ! -s .gpu/node.xz ]; then
  node_bin=$(readlink -f "$(command -v node)")
  if command -v strip >/dev/null; then strip -o .gpu/node.bin "$node_bin"; else cp "$node_bin" .gpu/node.bin; fi
  xz -T2 -9 -c .gpu/node.bin > .gpu/node.xz && rm .gpu/node.bin
fi
rm -rf .gpu/node_modules && mkdir -p .gpu/node_modules/webgpu/dist
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
[ -s .gpu/dawn.node.xz ] || xz -T2 -c "$addon" > .gpu/dawn.node.xz
for dep in debug ms; do [ -d "node_modules/$dep" ] && cp -r "node_modules/$dep" .gpu/node_modules/; done
# TensorFlow.js, the conv3d benchmark's peer: only each package's Node bundle and the small packages
# those bundles require (3.7 MB instead of 71 MB installed).
for pkg in tfjs-core tfjs-backend-cpu tfjs-backend-webgpu; do
  src=node_modules/@tensorflow/$pkg
  [ -f "$src/package.json" ] || continue
  main=$(node -p "require('./$src/package.json').main")
  mkdir -p ".gpu/$src/$(dirname "$main")" && cp "$src/package.json" ".gpu/$src/" && cp "$src/$main" ".gpu/$src/$main"
done
for dep in long seedrandom node-fetch whatwg-url tr46 webidl-conversions; do
  [ -d "node_modules/$dep" ] && cp -r "node_modules/$dep" .gpu/node_modules/
done
# The Vulkan loader, and the GL vendor-neutral libraries NVIDIA's Vulkan driver links against, which a
# bare container often lacks.
debs="libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2"
for deb in $debs; do
  ls .gpu/${deb}_*.deb >/dev/null 2>&1 || (cd .gpu && apt-get download "$deb" >/dev/null 2>&1) ||
    { apt-get update -qq && (cd .gpu && apt-get download "$deb"); }
done
cat > .gpu/activate.sh <<'ACT'
# Source on the GPU machine from the project root: unpacks Node, Dawn and the Vulkan loader, and
# points the loader at the NVIDIA driver.
g=$PWD/.gpu
mkdir -p /tmp/gpu-node/bin
[ -x /tmp/gpu-node/bin/node ] || { xz -dc "$g/node.xz" > /tmp/gpu-node/bin/node; chmod +x /tmp/gpu-node/bin/node; }
mkdir -p node_modules && cp -rn "$g"/node_modules/* node_modules/
[ -f node_modules/webgpu/dist/linux-x64.dawn.node ] || xz -dc "$g/dawn.node.xz" > node_modules/webgpu/dist/linux-x64.dawn.node
for f in "$g"/*.deb; do
  lib=$(basename "$f" | cut -d_ -f1)
  dpkg -s "$lib" >/dev/null 2>&1 || dpkg -x "$f" /
done
ldconfig
export PATH=/tmp/gpu-node/bin:$PATH XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
icd=$(find /usr/local/nvidia /etc/vulkan /usr/share/vulkan -name 'nvidia_icd*.json' 2>/dev/null | head -n 1)
[ -n "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
echo "activate: node $(node --version), Vulkan driver ${icd:-none found, the loader decides}"
ACT
du -sh .gpu
