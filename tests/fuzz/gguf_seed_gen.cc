// Writes the committed seed corpus for gguf_reader_fuzz: small valid GGUF files covering every metadata value type,
// several tensor types and alignments. Regenerate with: build-fuzz/tests/fuzz/gguf_seed_gen tests/fuzz/corpus/gguf
#include <cstdio>
#include <string>

#include "tests/gguf/gguf_test_util.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  constexpr int kVariants = 5;
  for (int variant = 0; variant < kVariants; ++variant) {
    const strata::GgufWriter writer = strata::testing::make_sample_writer(variant);
    const std::string path = std::string(argv[1]) + "/sample-" + std::to_string(variant) + ".gguf";
    const absl::Status status = writer.write(path);
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s\n", path.c_str());
  }
  return 0;
}
