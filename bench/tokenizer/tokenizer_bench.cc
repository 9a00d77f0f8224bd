// Tokenizer throughput on ~1 MB of real English text (the GPL-3 licence, repeated) for both real models.
//
//   tokenizer_bench [TEXT_FILE] [MODEL.gguf ...]
//
// Prints, per model, encode MB/s and tokens/s (best of several runs) and decode MB/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"

namespace {

constexpr size_t kTargetBytes = 1 << 20;
constexpr int kRuns = 5;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string text_path = argc > 1 ? argv[1] : "/usr/share/common-licenses/GPL-3";
  std::vector<std::string> models;
  for (int i = 2; i < argc; ++i) models.push_back(argv[i]);
  if (models.empty()) {
    models = {STRATA_SOURCE_DIR "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
              STRATA_SOURCE_DIR "/models/gemma-3-270m-q4_k_m.gguf"};
  }

  std::ifstream in(text_path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string unit = buffer.str();
  if (unit.empty()) {
    std::fprintf(stderr, "tokenizer_bench: cannot read %s\n", text_path.c_str());
    return 1;
  }
  std::string text;
  while (text.size() < kTargetBytes) text += unit;
  const double megabytes = static_cast<double>(text.size()) / 1e6;
  std::printf("text: %s repeated, %.2f MB\n", text_path.c_str(), megabytes);

  for (const std::string& path : models) {
    auto file = strata::GgufFile::open(path);
    if (!file.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s: %s\n", path.c_str(), std::string(file.status().message()).c_str());
      return 1;
    }
    const auto load_start = std::chrono::steady_clock::now();
    auto tokenizer = strata::Tokenizer::from_gguf(**file);
    const double load_seconds = seconds_since(load_start);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s: %s\n", path.c_str(),
                   std::string(tokenizer.status().message()).c_str());
      return 1;
    }

    double best_encode = 1e30;
    std::vector<int32_t> ids;
    for (int run = 0; run < kRuns; ++run) {
      const auto start = std::chrono::steady_clock::now();
      ids = (*tokenizer)->encode(text, /*add_special=*/false, /*parse_special=*/false);
      best_encode = std::min(best_encode, seconds_since(start));
    }
    double best_decode = 1e30;
    std::string decoded;
    for (int run = 0; run < kRuns; ++run) {
      const auto start = std::chrono::steady_clock::now();
      decoded = (*tokenizer)->decode(ids);
      best_decode = std::min(best_decode, seconds_since(start));
    }
    std::printf(
        "%-40s %-5s pre=%-8s load %6.0f ms | encode %7.2f MB/s %10.0f tokens/s (%zu tokens, %.1f ms) | "
        "decode %7.1f MB/s | round trip %s\n",
        path.substr(path.find_last_of('/') + 1).c_str(), std::string((*tokenizer)->model_name()).c_str(),
        std::string((*tokenizer)->pre_name()).c_str(), load_seconds * 1e3, megabytes / best_encode,
        static_cast<double>(ids.size()) / best_encode, ids.size(), best_encode * 1e3, megabytes / best_decode,
        decoded == text ? "exact" : "DIFFERS");
  }
  return 0;
}
