#!/usr/bin/env bash
# Fuzzes the GGUF reader: builds gguf_reader_fuzz with clang + libFuzzer/ASan/UBSan in a separate build dir, runs it
# for FUZZ_SECONDS (default 60) over the committed seeds, the vocab-only GGUFs and the heads of the real models, and
# prints the number of executions. Exits non-zero when the fuzzer finds a crash, leak, timeout or OOM.
#
# Env: FUZZ_SECONDS (60), FUZZ_BUILD_DIR (build-fuzz), VOCAB_DIR (../shared/testdata/tokenizer), MODELS_DIR (models).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
vocab_dir="${VOCAB_DIR:-$root/../shared/testdata/tokenizer}"
models_dir="${MODELS_DIR:-$root/models}"
lock=/tmp/strata-build.lock  # shared with every other build on this machine (2 cores)

# Instrument everything (coverage + sanitizers) so strata_gguf is fuzzed from the inside; only the fuzz executable
# links libFuzzer's main (tests/fuzz/CMakeLists.txt adds -fsanitize=fuzzer to it).
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
flock "$lock" cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DSTRATA_BUILD_FUZZERS=ON -DSTRATA_ENABLE_CUDA=OFF -DSTRATA_BUILD_BENCH=OFF >/dev/null
flock "$lock" ninja -C "$build" gguf_reader_fuzz

# A fresh run corpus each time; libFuzzer adds the inputs it finds interesting to it.
corpus="$build/fuzz-corpus/gguf"
artifacts="$build/fuzz-artifacts/"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
cp "$root"/tests/fuzz/corpus/gguf/*.gguf "$corpus"/
if compgen -G "$vocab_dir/*.gguf" >/dev/null; then
  cp "$vocab_dir"/*.gguf "$corpus"/
else
  echo "fuzz: warning: no vocab GGUFs in $vocab_dir" >&2
fi
for model in "$models_dir"/*.gguf; do
  if [[ -f "$model" ]]; then
    head -c 65536 "$model" >"$corpus/head-$(basename "$model")"
  else
    echo "fuzz: warning: no models in $models_dir" >&2
  fi
done
echo "fuzz: run corpus $(ls "$corpus" | wc -l) files, ${seconds}s"

log="$build/fuzz-gguf.log"
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$build/tests/fuzz/gguf_reader_fuzz" "$corpus" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts" >"$log" 2>&1
rc=$?
set -e

if [[ $rc -ne 0 ]]; then
  tail -n 80 "$log"
else
  tail -n 15 "$log"
fi
execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
echo "fuzz: gguf_reader_fuzz executed ${execs:-0} inputs in ${seconds}s (log: $log)"
if [[ $rc -ne 0 ]]; then
  echo "fuzz: FAILED (exit $rc); crashing inputs are in $artifacts" >&2
  exit "$rc"
fi
