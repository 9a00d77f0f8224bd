#include "core/tokenizer/special_tokens.h"

#include <algorithm>

namespace strata {
namespace {

// C isspace in the "C" locale, which llama.cpp's strip loops use (bytes >= 0x80 are never space).
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

struct Occurrence {
  int32_t rank;
  uint32_t position;
};

}  // namespace

void SpecialTokenMatcher::Trie::insert(std::string_view text, int32_t rank) {
  if (nodes.empty()) nodes.emplace_back();
  first_byte[static_cast<uint8_t>(text[0])] = true;
  int32_t node = 0;
  for (char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), byte,
                               [](const std::pair<uint8_t, int32_t>& e, uint8_t b) { return e.first < b; });
    if (it != children.end() && it->first == byte) {
      node = it->second;
      continue;
    }
    const auto next = static_cast<int32_t>(nodes.size());
    children.insert(it, {byte, next});
    nodes.emplace_back();
    node = next;
  }
  nodes[node].rank = rank;
}

int32_t SpecialTokenMatcher::Trie::child(int32_t node, uint8_t byte) const {
  const auto& children = nodes[node].children;
  const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                   [](const std::pair<uint8_t, int32_t>& e, uint8_t b) { return e.first < b; });
  return it != children.end() && it->first == byte ? it->second : -1;
}

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab) : vocab_(vocab) {
  const std::vector<int32_t>& specials = vocab.special_tokens();
  for (size_t rank = 0; rank < specials.size(); ++rank) {
    const int32_t id = specials[rank];
    const std::string& text = vocab.token(id).text;
    all_.insert(text, static_cast<int32_t>(rank));
    if (!vocab.has_attr(id, TokenAttr::kControl | TokenAttr::kUnknown)) {
      user_defined_only_.insert(text, static_cast<int32_t>(rank));
    }
  }
}

void SpecialTokenMatcher::partition(std::string_view text, bool parse_special, std::vector<Fragment>* out) const {
  out->clear();
  if (text.empty()) return;
  const Trie& trie = parse_special ? all_ : user_defined_only_;
  const std::vector<int32_t>& specials = vocab_.special_tokens();

  // Every occurrence of every eligible special token.
  std::vector<Occurrence> occurrences;
  if (!trie.nodes.empty()) {
    for (uint32_t i = 0; i < text.size(); ++i) {
      if (!trie.first_byte[static_cast<uint8_t>(text[i])]) continue;
      int32_t node = 0;
      for (uint32_t j = i; j < text.size(); ++j) {
        node = trie.child(node, static_cast<uint8_t>(text[j]));
        if (node < 0) break;
        if (trie.nodes[node].rank >= 0) occurrences.push_back({trie.nodes[node].rank, i});
      }
    }
  }
  if (occurrences.empty()) {
    out->push_back({-1, 0, static_cast<uint32_t>(text.size())});
    return;
  }

  // Replay llama.cpp's precedence: token by token in special_tokens() order, left to right within a token. An
  // occurrence survives when none of its bytes was taken by an earlier token or swallowed as stripped whitespace.
  std::sort(occurrences.begin(), occurrences.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.position < b.position;
  });
  std::vector<uint8_t> taken(text.size(), 0);
  std::vector<Fragment> tokens;
  for (const Occurrence& occurrence : occurrences) {
    const int32_t id = specials[occurrence.rank];
    const uint32_t begin = occurrence.position;
    const auto end = static_cast<uint32_t>(begin + vocab_.token(id).text.size());
    if (std::any_of(taken.begin() + begin, taken.begin() + end, [](uint8_t t) { return t != 0; })) continue;
    std::fill(taken.begin() + begin, taken.begin() + end, 1);
    tokens.push_back({id, begin, end});
    if (vocab_.has_attr(id, TokenAttr::kLstrip)) {
      for (uint32_t k = begin; k > 0 && taken[k - 1] == 0 && is_c_space(text[k - 1]); --k) taken[k - 1] = 1;
    }
    if (vocab_.has_attr(id, TokenAttr::kRstrip)) {
      for (uint32_t k = end; k < text.size() && taken[k] == 0 && is_c_space(text[k]); ++k) taken[k] = 1;
    }
  }

  // Raw text is what lies between tokens, minus swallowed whitespace (which always touches a token).
  std::sort(tokens.begin(), tokens.end(), [](const Fragment& a, const Fragment& b) { return a.begin < b.begin; });
  const auto emit_raw = [&](uint32_t begin, uint32_t end) {
    while (begin < end && taken[begin] != 0) ++begin;
    while (end > begin && taken[end - 1] != 0) --end;
    if (begin < end) out->push_back({-1, begin, end});
  };
  uint32_t cursor = 0;
  for (const Fragment& token : tokens) {
    emit_raw(cursor, token.begin);
    out->push_back(token);
    cursor = token.end;
  }
  emit_raw(cursor, static_cast<uint32_t>(text.size()));
}

}  // namespace strata
