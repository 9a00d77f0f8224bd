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

int32_t argmax(std::span<const float> x) {
  const size_t n = x.size();
  // Eight running maxima (x > m ? x : m is exactly maxps, so this vectorizes without fast-math), then the first
  // index that holds the maximum.
  constexpr size_t kLanes = 8;
  float m[kLanes];
  std::fill(m, m + kLanes, -std::numeric_limits<float>::infinity());
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) m[l] = x[i + l] > m[l] ? x[i + l] : m[l];
  }
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float best = m[0];
  for (size_t l = 1; l < kLanes; ++l) best = m[l] > best ? m[l] : best;
  for (size_t j = 0; j < n; ++j) {
    if (x[j] == best) return static_cast<int32_t>(j);
  }
  return 0;  // every value NaN
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

SampleResult Sampler::sample(std::span<const float> logits, std::span<const int32_t> prompt,
                             std::span<const int32_t> generated) {
  const int32_t n_vocab = static_cast<int32_t>(logits.size());
  SampleResult result;

  std::span<const float> x = logits;  // the logits sampling sees: penalized when a penalty is on
  const bool penalize =
      params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  if (penalize) {
    work_.assign(logits.begin(), logits.end());
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
    x = work_;
  }

  const bool greedy = params_.temperature <= 0 || params_.top_k == 1;
  result.token = greedy ? argmax(x) : sample_filtered(x);

  if (params_.logprobs || params_.top_logprobs > 0) {
    // Log-softmax of the raw logits gives the reported logprobs (as OpenAI/vLLM report them). A pass of exp over
    // the vocabulary: only when asked for (~270 us per token at 49k tokens).
    const float max_logit = logits[argmax(logits)];
    double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - max_logit));
    const float log_norm = max_logit + static_cast<float>(std::log(sum));
    result.logprob = logits[result.token] - log_norm;
    if (params_.top_logprobs > 0) {
      const int32_t k = std::min(params_.top_logprobs, n_vocab);
      ids_.resize(n_vocab);
      std::iota(ids_.begin(), ids_.end(), 0);
      std::partial_sort(ids_.begin(), ids_.begin() + k, ids_.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
      });
      for (int32_t i = 0; i < k; ++i) result.top.push_back({ids_[i], logits[ids_[i]] - log_norm});
    }
  }
  return result;
}

// Temperature sampling after top-k, min-p and top-p, in O(n_vocab) plus a sort of the nucleus only: sorting the
// whole vocabulary took milliseconds per token at 50k-260k tokens.
int32_t Sampler::sample_filtered(std::span<const float> x) {
  const int32_t n_vocab = static_cast<int32_t>(x.size());
  const float top = x[argmax(x)];
  const float inv_t = 1.0f / params_.temperature;
  auto prob = [&](int32_t t) { return std::exp((x[t] - top) * inv_t); };  // 1 for the most likely token
  auto more_likely = [](const Candidate& a, const Candidate& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };

  // top-k by logit (the same order as by probability), ties to the lower id. One pass: a token enters the buffer
  // only when it beats the k-th best kept so far (in id order, a tie with it loses), and the buffer is cut back to
  // k when it reaches 2k, so the scan is a compare per token and the selections touch a few hundred entries.
  candidates_.clear();
  if (params_.top_k > 0 && params_.top_k < n_vocab) {
    const size_t k = static_cast<size_t>(params_.top_k);
    auto better = [](const Candidate& a, const Candidate& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };
    float threshold = -std::numeric_limits<float>::infinity();
    for (int32_t t = 0; t < n_vocab; ++t) {
      if (!(x[t] > threshold)) continue;
      candidates_.push_back({x[t], t});  // p holds the logit until the cut
      if (candidates_.size() == 2 * k) {
        std::nth_element(candidates_.begin(), candidates_.begin() + (k - 1), candidates_.end(), better);
        candidates_.resize(k);
        threshold = candidates_[k - 1].p;
      }
    }
    if (candidates_.size() > k) {
      std::nth_element(candidates_.begin(), candidates_.begin() + (k - 1), candidates_.end(), better);
      candidates_.resize(k);
    }
    for (Candidate& c : candidates_) c.p = prob(c.id);
  } else {
    candidates_.resize(n_vocab);
    for (int32_t t = 0; t < n_vocab; ++t) candidates_[t] = {prob(t), t};
  }
  double total = 0;  // the top-k survivors' mass: min-p and top-p are relative to it
  for (const Candidate& c : candidates_) total += c.p;

  if (params_.min_p > 0) {
    // The most likely token has p = 1, so this drops p < min_p * p_max and always keeps it.
    std::erase_if(candidates_, [&](const Candidate& c) { return c.p < params_.min_p; });
  }
  if (params_.top_p < 1) {
    // The nucleus: the shortest most-likely-first prefix whose mass reaches top_p. Select the m most likely
    // (O(n)), sort only those, and grow m until the prefix is long enough.
    const size_t n = candidates_.size();
    for (size_t m = std::min<size_t>(64, n);; m = std::min(n, m * 4)) {
      std::nth_element(candidates_.begin(), candidates_.begin() + (m - 1), candidates_.end(), more_likely);
      std::sort(candidates_.begin(), candidates_.begin() + m, more_likely);
      double cumulative = 0;
      size_t keep = 0;
      while (keep < m) {
        cumulative += candidates_[keep++].p / total;
        if (cumulative >= params_.top_p) break;
      }
      if (cumulative >= params_.top_p || m == n) {
        candidates_.resize(keep);
        break;
      }
    }
  }

  double kept_total = 0;
  for (const Candidate& c : candidates_) kept_total += c.p;
  const double r = std::uniform_real_distribution<double>(0.0, kept_total)(rng_);
  double acc = 0;
  for (const Candidate& c : candidates_) {
    acc += c.p;
    if (r < acc) return c.id;
  }
  return candidates_.back().id;
}

}  // namespace strata
