#!/usr/bin/env bash
# Installs exactly the Debian packages Trinity's build, tests and benchmarks use.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache clang libclang-rt-14-dev
  # libraries
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libcli11-dev
  libssl-dev zlib1g-dev libbrotli-dev  # headers that cpp-httplib.pc (SSL, zlib, brotli support) pulls in
  libasio-dev                                   # peer transport (standalone Asio)
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # client API (gRPC 1.51, protobuf 3.21)
  # tests and benchmarks
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev libtbb-dev
  # multi-process tests and benchmarks against real etcd and real etcd clients
  etcd-server etcd-client python3-pytest python3-etcd3 python3-grpcio
  # formatting
  clang-format
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
