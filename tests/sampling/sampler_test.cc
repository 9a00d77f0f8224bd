// The sampler against exact references: argmax, the logprobs of a float64 log-softmax, and the distributions each
// filter must produce, checked by drawing many tokens with fixed seeds (tolerances of ~5 standard deviations).
#include "core/sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

namespace strata {
namespace {

std::vector<float> random_logits(int n, uint32_t seed, float sd = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Token frequencies over `draws` samples of one sampler.
std::vector<double> frequencies(const SamplingParams& p, const std::vector<float>& logits, int draws) {
  Sampler s(p);
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) f[s.sample(logits, {}, {}).token] += 1.0 / draws;
  return f;
}

// softmax(logits / t) restricted to `keep` (renormalized over it).
std::vector<double> expected(const std::vector<float>& logits, double t, const std::vector<bool>& keep) {
  std::vector<double> p(logits.size(), 0.0);
  const double mx = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (keep[i]) total += p[i] = std::exp((logits[i] - mx) / t);
  }
  for (double& x : p) x /= total;
  return p;
}

void expect_distribution(const std::vector<double>& got, const std::vector<double>& want, int draws) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i] == 0) {
      EXPECT_EQ(got[i], 0) << "token " << i << " is filtered out but was drawn";
      continue;
    }
    const double sd = std::sqrt(want[i] * (1 - want[i]) / draws);
    EXPECT_NEAR(got[i], want[i], 5 * sd + 1e-9) << "token " << i;
  }
}

TEST(Argmax, FirstMaximumAndNaNsIgnored) {
  const std::vector<float> logits = random_logits(50000, 1);
  const int32_t want = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  EXPECT_EQ(argmax(logits), want);

  std::vector<float> ties(37, 1.0f);
  ties[5] = ties[30] = 2.0f;
  EXPECT_EQ(argmax(ties), 5);
  ties[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(argmax(ties), 5);
  const std::vector<float> lows(9, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(argmax(lows), 0);
  const std::vector<float> nans(11, std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(argmax(nans), 0);
}

TEST(Sampler, GreedyAndTopK1PickTheArgmax) {
  const std::vector<float> logits = random_logits(49152, 2);
  const int32_t want = argmax(logits);
  SamplingParams greedy;
  EXPECT_EQ(Sampler(greedy).sample(logits, {}, {}).token, want);
  SamplingParams k1;
  k1.temperature = 1.5f;
  k1.top_k = 1;
  k1.seed = 9;
  Sampler s(k1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits, {}, {}).token, want);
}

TEST(Sampler, LogprobsMatchAFloat64LogSoftmax) {
  const std::vector<float> logits = random_logits(3000, 3);
  double mx = -1e300, sum = 0;
  for (float l : logits) mx = std::max<double>(mx, l);
  for (float l : logits) sum += std::exp(l - mx);
  const double log_norm = mx + std::log(sum);

  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 4;
  p.logprobs = true;
  p.top_logprobs = 5;
  const SampleResult r = Sampler(p).sample(logits, {}, {});
  EXPECT_NEAR(r.logprob, logits[r.token] - log_norm, 1e-4);
  ASSERT_EQ(r.top.size(), 5u);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(r.top[i].token, order[i]);
    EXPECT_NEAR(r.top[i].logprob, logits[order[i]] - log_norm, 1e-4);
  }

  SamplingParams off;  // not asked for: not computed
  EXPECT_EQ(Sampler(off).sample(logits, {}, {}).logprob, 0.0f);
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  const std::vector<float> logits = random_logits(1000, 5, 1.0f);
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.9f;
  p.seed = 1234;
  Sampler a(p), b(p);
  p.seed = 1235;
  Sampler c(p);
  int differ = 0;
  for (int i = 0; i < 64; ++i) {
    const int32_t ta = a.sample(logits, {}, {}).token;
    EXPECT_EQ(ta, b.sample(logits, {}, {}).token);
    differ += ta != c.sample(logits, {}, {}).token;
  }
  EXPECT_GT(differ, 32);
}

TEST(Sampler, TemperatureFollowsTheSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 2.0f, 0.0f};
  constexpr int kDraws = 40000;
  for (float t : {0.5f, 1.0f, 2.0f}) {
    SamplingParams p;
    p.temperature = t;
    p.seed = 11;
    expect_distribution(frequencies(p, logits, kDraws), expected(logits, t, std::vector<bool>(logits.size(), true)),
                        kDraws);
  }
}

TEST(Sampler, TopKKeepsTheKMostLikelyTiesToTheLowerId) {
  // 5000 tokens (the selection's buffer is cut back many times); ties at the k-th place.
  std::vector<float> logits = random_logits(5000, 6);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  logits[order[3]] = logits[order[2]];  // places 3 and 4 tie; with k = 3 the lower id wins
  const int32_t tie_winner = std::min(order[2], order[3]);
  std::vector<bool> keep(logits.size(), false);
  keep[order[0]] = keep[order[1]] = keep[tie_winner] = true;

  SamplingParams p;
  p.temperature = 3.0f;
  p.top_k = 3;
  p.seed = 12;
  constexpr int kDraws = 30000;
  expect_distribution(frequencies(p, logits, kDraws), expected(logits, 3.0, keep), kDraws);
}

TEST(Sampler, TopPKeepsTheShortestPrefixReachingP) {
  // Probabilities 0.4, 0.3, 0.2, 0.1 (in scrambled id order): top_p 0.65 keeps the first two (0.4 + 0.3 >= 0.65).
  const std::vector<float> logits = {std::log(0.2f), std::log(0.4f), std::log(0.1f), std::log(0.3f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.65f;
  p.seed = 13;
  constexpr int kDraws = 30000;
  expect_distribution(frequencies(p, logits, kDraws), expected(logits, 1.0, {false, true, false, true}), kDraws);
}

TEST(Sampler, TopPOverALargeFlatVocabularyGrowsTheNucleus) {
  // 20000 near-equal tokens: the nucleus of 0.5 holds ~10000 of them, far beyond the first selection of 64, so the
  // selection must grow; no token outside the exact nucleus may ever be drawn.
  const std::vector<float> logits = random_logits(20000, 7, 0.01f);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  const std::vector<double> all = expected(logits, 1.0, std::vector<bool>(logits.size(), true));
  std::vector<bool> in_nucleus(logits.size(), false);
  double cumulative = 0;
  size_t nucleus = 0;
  for (int32_t id : order) {
    in_nucleus[id] = true;
    ++nucleus;
    if ((cumulative += all[id]) >= 0.5) break;
  }
  ASSERT_GT(nucleus, 5000u);
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.5f;
  p.seed = 14;
  Sampler s(p);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(in_nucleus[s.sample(logits, {}, {}).token]);
}

TEST(Sampler, MinPDropsTokensBelowAShareOfTheMostLikely) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.04f), std::log(0.3f), std::log(0.16f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.1f;  // drops p < 0.05: token 1
  p.seed = 15;
  constexpr int kDraws = 30000;
  expect_distribution(frequencies(p, logits, kDraws), expected(logits, 1.0, {true, false, true, true}), kDraws);
}

TEST(Sampler, PenaltiesMoveTheGreedyChoice) {
  const std::vector<float> logits = {3.0f, 2.9f, -1.0f, 2.5f};
  SamplingParams rep;
  rep.repetition_penalty = 1.2f;  // 3.0 / 1.2 = 2.5 < 2.9
  const std::vector<int32_t> prompt = {0};
  EXPECT_EQ(Sampler(rep).sample(logits, prompt, {}).token, 1);
  SamplingParams neg;
  neg.repetition_penalty = 2.0f;  // a negative logit is multiplied: -1 -> -2, never chosen
  EXPECT_EQ(Sampler(neg).sample(logits, {}, std::vector<int32_t>{2}).token, 0);

  SamplingParams freq;
  freq.frequency_penalty = 0.3f;  // token 0 generated twice: 3.0 - 0.6 = 2.4 < token 1 once: 2.6, and token 3: 2.5
  const std::vector<int32_t> generated = {0, 0, 1};
  EXPECT_EQ(Sampler(freq).sample(logits, {}, generated).token, 1);
  freq.frequency_penalty = 0.5f;  // 2.0, 2.4, 2.5
  EXPECT_EQ(Sampler(freq).sample(logits, {}, generated).token, 3);
  SamplingParams presence;
  presence.presence_penalty = 0.5f;  // 3.0 -> 2.5, 2.9 -> 2.4: token 0 and 3 tie at 2.5, the lower id wins
  EXPECT_EQ(Sampler(presence).sample(logits, {}, generated).token, 0);
}

}  // namespace
}  // namespace strata
