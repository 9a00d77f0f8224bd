#!/usr/bin/env bash
# README command 1: install everything, build, fetch the default small real model and run the main job on it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/fetch-models.sh
bash deploy/build.sh
./build/coordinator/strata inspect models/SmolLM2-135M-Instruct.Q4_1.gguf
./build/coordinator/strata run -m models/SmolLM2-135M-Instruct.Q4_1.gguf --chat -p "What is the capital of France? Answer in one sentence." -n 64
