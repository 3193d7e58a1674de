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

# npm ci when node_modules was not installed from this very lock file. The lock file's hash, not its
# modification time, decides: a fresh checkout or a git worktree has a new file with the same content,
# and an npm ci through a node_modules that a worktree shares would empty it for everyone.
stamp=node_modules/.screener-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.package-lock.json ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi
