#include "core/tokenizer/spm_model.h"

#include <algorithm>
#include <utility>

#include "core/tokenizer/string_map.h"
#include "core/tokenizer/unicode.h"

namespace strata {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t begin;
  uint32_t length;  // 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  uint32_t size;
};

// Heap order of llama.cpp's llm_bigram_spm::comparator: highest score first, then the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const Vocab& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  void run(std::vector<int32_t>* out) {
    for (uint32_t offset = 0; offset < text_.size();) {
      const auto length = static_cast<uint32_t>(std::min(utf8_sequence_length(text_[offset]), text_.size() - offset));
      const auto index = static_cast<int32_t>(symbols_.size());
      offset += length;
      symbols_.push_back({index - 1, offset == text_.size() ? -1 : index + 1, offset - length, length});
    }
    if (symbols_.empty()) return;
    rev_merge_.reserve(symbols_.size());
    queue_.reserve(symbols_.size() * 2);
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) try_add_bigram(i - 1, i);

    while (!queue_.empty()) {
      std::pop_heap(queue_.begin(), queue_.end(), BigramLess());
      const Bigram bigram = queue_.back();
      queue_.pop_back();
      Symbol& left = symbols_[bigram.left];
      Symbol& right = symbols_[bigram.right];
      // Stale: one side was merged elsewhere since this pair was queued.
      if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.size) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = bigram.left;
      try_add_bigram(left.prev, bigram.left);
      try_add_bigram(bigram.left, left.next);
    }

    for (int32_t i = 0; i != -1; i = symbols_[i].next) resegment(symbols_[i], out, 0);
  }

 private:
  std::string_view symbol_text(const Symbol& s) const { return text_.substr(s.begin, s.length); }

  void try_add_bigram(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const std::string_view merged = text_.substr(symbols_[left].begin, symbols_[left].length + symbols_[right].length);
    const int32_t id = vocab_.find(merged);
    if (id < 0) return;
    queue_.push_back({left, right, vocab_.token(id).score, static_cast<uint32_t>(merged.size())});
    std::push_heap(queue_.begin(), queue_.end(), BigramLess());
    rev_merge_.insert_or_assign(merged, std::make_pair(left, right));
  }

  void resegment(const Symbol& symbol, std::vector<int32_t>* out, int depth) {
    const std::string_view text = symbol_text(symbol);
    const int32_t id = vocab_.find(text);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
    const auto it = rev_merge_.find(text);
    // The depth bound only guards against pathological input (llama.cpp would recurse without end there).
    if (it == rev_merge_.end() || depth > 64) {
      for (char c : text) {
        const int32_t byte_id = vocab_.byte_to_token(static_cast<uint8_t>(c));
        if (byte_id >= 0) {
          out->push_back(byte_id);
        } else if (vocab_.unk_id() >= 0) {
          out->push_back(vocab_.unk_id());
        }
      }
      return;
    }
    const auto [left, right] = it->second;
    resegment(symbols_[left], out, depth + 1);
    resegment(symbols_[right], out, depth + 1);
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::vector<Bigram> queue_;
  StringViewMap<std::pair<int32_t, int32_t>> rev_merge_;
};

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  SpmSession session(vocab, text);
  session.run(out);
}

}  // namespace strata
