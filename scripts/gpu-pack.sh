#!/usr/bin/env bash
# Packs what a bare GPU machine lacks for this project into .gpu/ (ignored by git): Node.js, Dawn's
# `webgpu` package (native addon for linux-x64 plus its small dependencies) and the Vulkan loader.
# Run from the project root after `npm run setup` and `npm run build`; carry .gpu and dist to the GPU
# machine and start commands there with `source .gpu/activate.sh;` (see ../shared/GPU.md).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
addon=node_modules/webgpu/dist/linux-x64.dawn.node
[ -f "$addon" ] || { echo "gpu-pack: $addon is missing: run npm run setup first" >&2; exit 1; }
mkdir -p .gpu
[ -s .gpu/node.xz ] || xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
rm -rf .gpu/node_modules && mkdir -p .gpu/node_modules/webgpu/dist
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
[ -s .gpu/dawn.node.xz ] || xz -T2 -c "$addon" > .gpu/dawn.node.xz
for dep in debug ms; do [ -d "node_modules/$dep" ] && cp -r "node_modules/$dep" .gpu/node_modules/; done
ls .gpu/libvulkan1_*.deb >/dev/null 2>&1 || (cd .gpu && apt-get download libvulkan1 >/dev/null 2>&1) ||
  { apt-get update -qq && (cd .gpu && apt-get download libvulkan1); }
cat > .gpu/activate.sh <<'ACT'
# Source on the GPU machine from the project root: unpacks Node, Dawn and the Vulkan loader, and
# points the loader at the NVIDIA driver.
g=$PWD/.gpu
mkdir -p /tmp/gpu-node/bin
[ -x /tmp/gpu-node/bin/node ] || { xz -dc "$g/node.xz" > /tmp/gpu-node/bin/node; chmod +x /tmp/gpu-node/bin/node; }
mkdir -p node_modules && cp -rn "$g"/node_modules/* node_modules/
[ -f node_modules/webgpu/dist/linux-x64.dawn.node ] || xz -dc "$g/dawn.node.xz" > node_modules/webgpu/dist/linux-x64.dawn.node
ldconfig -p | grep -q libvulkan.so.1 || { for f in "$g"/libvulkan1_*.deb; do dpkg -x "$f" /; done; ldconfig; }
export PATH=/tmp/gpu-node/bin:$PATH XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
  [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; }
done
ACT
du -sh .gpu
