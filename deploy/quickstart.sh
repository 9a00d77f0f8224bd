#!/usr/bin/env bash
# README command 1: install everything, build, fetch the default small real model, answer one question with it,
# then serve it over the OpenAI-compatible API until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/fetch-models.sh
bash deploy/build.sh
./build/coordinator/strata inspect models/SmolLM2-135M-Instruct.Q4_1.gguf
./build/coordinator/strata run -m models/SmolLM2-135M-Instruct.Q4_1.gguf --chat -p "What is the capital of France? Answer in one sentence." -n 64
echo "Serving on http://127.0.0.1:8080/v1 (Ctrl-C stops it)"
exec ./build/coordinator/strata serve -m models/SmolLM2-135M-Instruct.Q4_1.gguf --host 127.0.0.1 --port 8080
