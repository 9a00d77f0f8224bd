#!/usr/bin/env bash
# README command 2: install everything, build, and run every test (ctest), then the GGUF fuzzer for a bounded time.
# CI (.ci/run) runs exactly this. CUDA is compiled for one architecture (86) to keep the build short.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/fetch-models.sh
bash deploy/build.sh -DCMAKE_CUDA_ARCHITECTURES=86
bash deploy/python-env.sh >/dev/null  # the openai client, pytest and requests for tests/api
ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ "${STRATA_SKIP_FUZZ:-0}" != 1 ]; then
  bash .ci/fuzz.sh
fi
