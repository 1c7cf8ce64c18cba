#!/usr/bin/env bash
# npm run check:helm — the chart tested offline: `helm lint` and `helm template` for every value set
# (the defaults and infra/helm/values/*.yaml), each rendered object validated by infra/k8s-validate
# (strict decoding into the k8s.io/api types; KEDA resources against KEDA's own CRD schemas from
# its Go module), plus a self-test that the validator rejects check/invalid.yaml.
# Binaries: helm and the validator are built by `npm run setup` into ~/.cache/weightlens/bin.
set -euo pipefail
cd "$(dirname "$0")"
BIN_CACHE="${WEIGHTLENS_BIN_CACHE:-$HOME/.cache/weightlens/bin}"
HELM_VERSION=v3.21.4
KEDA_VERSION=v2.21.0
HELM="${WEIGHTLENS_HELM_BIN:-$BIN_CACHE/helm-$HELM_VERSION/helm}"
VALIDATE="$BIN_CACHE/k8s-validate-$(cat ../k8s-validate/go.sum ../k8s-validate/*.go | sha256sum | cut -c1-12)/k8s-validate"
for bin in "$HELM" "$VALIDATE"; do
  [[ -x "$bin" ]] || { echo "check:helm: $bin missing; run npm run setup" >&2; exit 1; }
done
keda_dir="$(go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
crds=(-crd "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml"
  -crd "$keda_dir/config/crd/bases/keda.sh_triggerauthentications.yaml")
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

sets=(default values/*.yaml)
for set in "${sets[@]}"; do
  args=()
  [[ "$set" == default ]] || args=(-f "$set")
  echo "== $set"
  "$HELM" lint weightlens "${args[@]}" --strict --quiet
  "$HELM" template weightlens-check weightlens "${args[@]}" >"$out/rendered.yaml"
  "$VALIDATE" -q "${crds[@]}" "$out/rendered.yaml"
done

echo "== self-test: the validator rejects check/invalid.yaml"
if "$VALIDATE" -q "${crds[@]}" check/invalid.yaml >"$out/invalid.txt"; then
  echo "check:helm: the validator accepted check/invalid.yaml" >&2
  exit 1
fi
grep -q 'unknown field spec.maxReplicas' "$out/invalid.txt"
grep -q 'containerPort of type int32' "$out/invalid.txt"
echo "check:helm: ${#sets[@]} value sets lint, render and validate"
