// What one forward step computes: many sequences, each with its new tokens, their positions and its KV block table.
// A single prompt is a batch of one; decode is a batch of sequences with one token each.
#pragma once

#include <cstdint>
#include <vector>

namespace strata {

struct SequenceStep {
  std::vector<int32_t> tokens;       // new tokens of this step
  int32_t start_pos = 0;             // position of tokens[0]; positions before it are already in the cache
  std::vector<int32_t> block_table;  // KV blocks covering positions [0, start_pos + tokens.size())
  bool all_logits = false;           // logits for every new token (scoring) instead of the last one only
};

struct ForwardBatch {
  std::vector<SequenceStep> seqs;
};

}  // namespace strata
