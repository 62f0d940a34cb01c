#!/usr/bin/env bash
# Installs what building, running and testing Strand need on Debian 12, only if missing.
# Idempotent; run as root (make does it for you).
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  clang libclang-rt-14-dev lld
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libboost1.74-dev libyaml-cpp-dev libsimdjson-dev rapidjson-dev
  libzstd-dev zstd libdeflate-dev liblz4-dev libsnappy-dev zlib1g-dev libre2-dev libxxhash-dev
  libfmt-dev libspdlog-dev libcli11-dev libssl-dev openssl libcrypt-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js may come from outside Debian's packages (a newer build, as on this project's
# machines); Debian 12's (18) is installed only when there is none.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: need root to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# What the tests need beyond the packages above, which this project's machines come with
# (a plain Debian 12 system does not): warned about, not installed.
if [[ "${1:-}" != "--npm" ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ((node_major < 20)); then
    echo "install-deps: warning: Node.js $(node --version 2>/dev/null) is older than 20:" \
      "Strand builds and runs, but the web UI end-to-end test (Playwright) needs Node.js 20" >&2
  fi
  if ! command -v kubectl >/dev/null; then
    echo "install-deps: warning: kubectl is not installed: the Kubernetes suite" \
      "(tests/k8s, make k8s-test) renders the overlays with it and fails without it" >&2
  fi
fi

# npm packages for the web UI, the end-to-end tests, the Kubernetes tests and the TraceQL
# grammar check, from
# the committed lock files.
if [[ "${1:-}" == "--npm" ]]; then
  for dir in web tests/e2e tests/k8s tests/traceql/lezer; do
    if [[ -f "$dir/package-lock.json" ]]; then
      stamp="$dir/node_modules/.strand-lock"
      if [[ ! -f "$stamp" ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$dir/package-lock.json" "$stamp"
      fi
    fi
  done
fi
