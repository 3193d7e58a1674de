#!/usr/bin/env bash
# Installs what the tests, benchmarks and the command line need, where it is missing:
#   - Debian's chromium (headless test browser; its SwiftShader is the software WebGPU adapter when
#     there is no GPU) and libvulkan1 (the Vulkan loader Dawn needs);
#   - the npm packages, from package-lock.json. No browser is ever downloaded.
# Safe to run again: it does nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
{ ldconfig -p 2>/dev/null || true; } | grep -q 'libvulkan\.so\.1' || missing+=(libvulkan1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm ci when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
fi
