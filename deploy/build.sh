#!/usr/bin/env bash
# Configures and builds Strata in build/ (Release, Ninja, ccache). Extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Paths relative to the checkout, so every clone (CI's fresh one included) shares one ccache.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
build_dir=${STRATA_BUILD_DIR:-build}
jobs=${STRATA_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$jobs"
