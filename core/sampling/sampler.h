// Token sampling a worker runs on its own (the last pipeline stage returns token ids, never logits):
// penalties, greedy / temperature, top-k, top-p, min-p, a per-request seeded RNG, and optional top-N logprobs.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "absl/status/status.h"

namespace strata {

struct SamplingParams {
  float temperature = 0.0f;         // <= 0: greedy
  int32_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off; drops tokens with p < min_p * p_max
  float repetition_penalty = 1.0f;  // 1: off; divides positive / multiplies negative logits of seen tokens
  float frequency_penalty = 0.0f;   // subtracts count * penalty (generated tokens)
  float presence_penalty = 0.0f;    // subtracts penalty once per distinct generated token
  uint64_t seed = 0;
  bool logprobs = false;     // report the chosen token's logprob (SampleResult::logprob; 0 otherwise)
  int32_t top_logprobs = 0;  // how many alternatives to report (0: none; > 0 implies logprobs)

  // InvalidArgument naming the parameter when a value is out of its range.
  absl::Status validate() const;
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};

struct SampleResult {
  int32_t token = 0;
  float logprob = 0;              // of the chosen token under the model's distribution (before sampling filters)
                                  // when SamplingParams::logprobs or top_logprobs ask for it, else 0
  std::vector<TokenLogprob> top;  // the top_logprobs most likely tokens, most likely first
};

// Index of the largest value, the lowest index on ties; NaNs are never chosen (0 when every value is NaN).
// Vectorizes: ~3 us for 50k logits, where std::max_element takes ~50.
int32_t argmax(std::span<const float> x);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // `logits`: [n_vocab] of one position. `prompt` feeds the repetition penalty, `generated` every penalty.
  SampleResult sample(std::span<const float> logits, std::span<const int32_t> prompt,
                      std::span<const int32_t> generated);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  struct Candidate {
    float p;  // unnormalized probability exp((logit - max) / temperature)
    int32_t id;
  };
  int32_t sample_filtered(std::span<const float> logits);

  std::vector<float> work_;            // [n_vocab] penalized logits
  std::vector<int32_t> ids_;           // [n_vocab] scratch for top-k selection
  std::vector<Candidate> candidates_;  // tokens still in play
  std::vector<int32_t> counts_;        // [n_vocab] occurrences in `generated`
  std::vector<uint8_t> seen_;          // [n_vocab] seen in prompt or output (repetition penalty)
};

}  // namespace strata
