#!/usr/bin/env bash
# Packs CT scans for scripts/gpu-train-real.sh into .gpu-data/ (ignored by git): training scans and a
# validation set with lesion masks, as uncompressed NIfTI inside tar.xz. xz over raw voxels packs
# OpenKBP's scans about 20 % smaller than their own gzip, which decides how many fit in a carry
# (64 MiB with .gpu and dist). Cases are split into folder groups so that the GPU machine can
# preprocess and score them in parallel processes; `--data` reads grouped folders at any depth.
# Usage, from the project root:
#   bash scripts/gpu-pack-data.sh TRAIN_DIR VAL_DIR [TRAIN_CASES]
# TRAIN_DIR: case folders with ct.nii.gz (the first TRAIN_CASES by id, default all);
# VAL_DIR: case folders with ct.nii.gz and lesion.nii.gz (e.g. a `screener insert-lesions` output), or
# - for none (room for more training scans when scoring happens elsewhere).
# PACK_GROUPS (default 4): how many folder groups, that is parallel preprocessing processes there.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
train=${1:?training folder}
val=${2:?validation folder}
limit=${3:-100000}
groups=${PACK_GROUPS:-4}
for dir in "$train" $([ "$val" = - ] || echo "$val"); do
  [ -d "$dir" ] || { echo "gpu-pack-data: $dir is not a folder" >&2; exit 1; }
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Copies case folders (sorted by their numeric id) into GROUPS subfolders, round robin, unpacking
# the named NIfTI files and keeping the case's case.json.
spread() {
  local from=$1 to=$2 groups=$3 count=$4 i=0 case
  shift 4
  for case in $(cd "$from" && ls -d */ | tr -d / | sort -V | head -n "$count"); do
    local dest="$to/g$((i % groups))/$case"
    mkdir -p "$dest"
    for name in "$@"; do
      [ -f "$from/$case/$name.nii.gz" ] && gzip -dc "$from/$case/$name.nii.gz" > "$dest/$name.nii"
    done
    [ -f "$from/$case/case.json" ] && cp "$from/$case/case.json" "$dest/"
    i=$((i + 1))
  done
  # Checked before .gpu-data is touched: an empty pack would only fail on the GPU machine.
  [ "$i" -gt 0 ] || { echo "gpu-pack-data: no case folder in $from" >&2; exit 1; }
  echo "gpu-pack-data: $i cases of $from in $groups groups"
}

spread "$train" "$stage/train" "$groups" "$limit" ct
[ "$val" = - ] || spread "$val" "$stage/val" "$groups" 100000 ct lesion
mkdir -p .gpu-data
rm -f .gpu-data/*.tar.xz
for part in train val; do
  if [ -d "$stage/$part" ]; then tar -C "$stage" -c "$part" | xz -9 -T2 > ".gpu-data/$part.tar.xz"; fi
done
du -sh .gpu-data/*.tar.xz
