#include "core/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace strata {

absl::Status SamplingParams::validate() const {
  auto bad = [](const char* name, double value, const char* range) {
    return absl::InvalidArgumentError(absl::StrCat(name, " = ", value, " is out of range ", range));
  };
  if (!std::isfinite(temperature) || temperature < 0 || temperature > 100)
    return bad("temperature", temperature, "[0, 100]");
  if (top_k < 0) return bad("top_k", top_k, "[0, n_vocab] (0 = off)");
  if (!(top_p > 0 && top_p <= 1)) return bad("top_p", top_p, "(0, 1]");
  if (!(min_p >= 0 && min_p <= 1)) return bad("min_p", min_p, "[0, 1]");
  if (!(repetition_penalty > 0 && repetition_penalty <= 10))
    return bad("repetition_penalty", repetition_penalty, "(0, 10]");
  if (!(frequency_penalty >= -2 && frequency_penalty <= 2))
    return bad("frequency_penalty", frequency_penalty, "[-2, 2]");
  if (!(presence_penalty >= -2 && presence_penalty <= 2)) return bad("presence_penalty", presence_penalty, "[-2, 2]");
  if (top_logprobs < 0 || top_logprobs > 20) return bad("top_logprobs", top_logprobs, "[0, 20]");
  return absl::OkStatus();
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

SampleResult Sampler::sample(std::span<const float> logits, std::span<const int32_t> prompt,
                             std::span<const int32_t> generated) {
  const int32_t n_vocab = static_cast<int32_t>(logits.size());
  SampleResult result;

  // Log-softmax of the raw logits gives the reported logprobs (as OpenAI/vLLM report them).
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max_logit));
  const float log_norm = max_logit + static_cast<float>(std::log(sum));

  work_.assign(logits.begin(), logits.end());
  const bool penalize =
      params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  if (penalize) {
    counts_.assign(n_vocab, 0);
    for (int32_t t : generated) {
      if (t >= 0 && t < n_vocab) ++counts_[t];
    }
    if (params_.repetition_penalty != 1.0f) {
      // Each token seen in the prompt or the output is penalized once, however often it occurred.
      seen_.assign(n_vocab, 0);
      auto mark = [&](int32_t t) {
        if (t >= 0 && t < n_vocab) seen_[t] = 1;
      };
      for (int32_t t : prompt) mark(t);
      for (int32_t t : generated) mark(t);
      for (int32_t t = 0; t < n_vocab; ++t) {
        if (seen_[t]) {
          work_[t] = work_[t] > 0 ? work_[t] / params_.repetition_penalty : work_[t] * params_.repetition_penalty;
        }
      }
    }
    for (int32_t t = 0; t < n_vocab; ++t) {
      if (counts_[t] > 0) work_[t] -= counts_[t] * params_.frequency_penalty + params_.presence_penalty;
    }
  }

  if (params_.temperature <= 0 || params_.top_k == 1) {
    result.token = static_cast<int32_t>(std::max_element(work_.begin(), work_.end()) - work_.begin());
  } else {
    candidates_.resize(n_vocab);
    std::iota(candidates_.begin(), candidates_.end(), 0);
    auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
    size_t n = candidates_.size();
    if (params_.top_k > 0 && params_.top_k < n_vocab) {
      n = static_cast<size_t>(params_.top_k);
      std::partial_sort(candidates_.begin(), candidates_.begin() + n, candidates_.end(), by_logit);
    } else {
      std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    // Probabilities of the survivors at this temperature, most likely first.
    std::vector<double> probs(n);
    const double top = work_[candidates_[0]];
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      probs[i] = std::exp((work_[candidates_[i]] - top) / params_.temperature);
      total += probs[i];
    }
    size_t keep = n;
    if (params_.min_p > 0) {
      // probs[0] is the largest: drop the tail below min_p of it.
      while (keep > 1 && probs[keep - 1] < params_.min_p * probs[0]) --keep;
    }
    if (params_.top_p < 1) {
      double cumulative = 0;
      for (size_t i = 0; i < keep; ++i) {
        cumulative += probs[i] / total;
        if (cumulative >= params_.top_p) {
          keep = i + 1;
          break;
        }
      }
    }
    double kept_total = 0;
    for (size_t i = 0; i < keep; ++i) kept_total += probs[i];
    const double r = std::uniform_real_distribution<double>(0.0, kept_total)(rng_);
    double acc = 0;
    result.token = candidates_[keep - 1];
    for (size_t i = 0; i < keep; ++i) {
      acc += probs[i];
      if (r < acc) {
        result.token = candidates_[i];
        break;
      }
    }
  }

  result.logprob = logits[result.token] - log_norm;
  if (params_.top_logprobs > 0) {
    const int32_t k = std::min(params_.top_logprobs, n_vocab);
    std::vector<int32_t> ids(n_vocab);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int32_t i = 0; i < k; ++i) result.top.push_back({ids[i], logits[ids[i]] - log_norm});
  }
  return result;
}

}  // namespace strata
