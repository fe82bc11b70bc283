#!/usr/bin/env bash
# Installs the Debian 12 packages SampleMind needs to build, test and benchmark.
# Idempotent: asks apt only for what is missing. Run as root (or with sudo).
set -euo pipefail

pkgs=(
  # build
  build-essential cmake pkg-config git python3
  # libraries (see ../shared/DESIGN.md, "Dependencies")
  libsndfile1-dev libsoxr-dev libfftw3-dev libebur128-dev libsodium-dev
  libjansson-dev libinih-dev libsqlite3-dev
  libmicrohttpd-dev libcurl4-openssl-dev libhiredis-dev
  # services the tests start on loopback ports in temp dirs
  redis-server
  # tests, fuzzing, sanitizers
  libcmocka-dev clang libclang-rt-14-dev
  # benchmarks: the tools we compare against
  aubio-tools bpm-tools ffmpeg sox hyperfine time
  wrk nginx-light python3-fastapi python3-uvicorn python3-redis
  # the browser tests: Debian's chromium, driven by npm playwright-core
  chromium
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm: any install will do (Debian's, or another that provides both
# commands); Debian's npm package would conflict with one that bundles npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
