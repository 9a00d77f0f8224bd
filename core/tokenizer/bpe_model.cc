#include "core/tokenizer/bpe_model.h"

#include <algorithm>

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
  int32_t rank;
  uint32_t size;
};

// Heap order of llama.cpp's llm_bigram_bpe::comparator: lowest rank first, then the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Per-thread buffers reused across words.
struct BpeScratch {
  std::string encoded;
  std::string key;
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;
};

BpeScratch& bpe_scratch() {
  thread_local BpeScratch scratch;
  return scratch;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::create(const Vocab& vocab, const std::vector<std::string>& merges) {
  std::unique_ptr<BpeModel> model(new BpeModel(vocab));
  model->ranks_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    // llama.cpp splits at the first space after the first byte; a line without one merges nothing that can occur.
    const std::string& line = merges[i];
    const size_t space = line.find(' ', 1);
    if (space == std::string::npos) continue;
    model->ranks_.emplace(line, static_cast<int32_t>(i));
  }
  return model;
}

void BpeModel::tokenize_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  BpeScratch& scratch = bpe_scratch();
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
  std::string& encoded = scratch.encoded;
  encoded.clear();
  for (char c : word) encoded.append(alphabet.encode(static_cast<uint8_t>(c)));
  const std::string_view text = encoded;

  if (vocab_.ignore_merges()) {
    const int32_t id = vocab_.find(text);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }

  std::vector<Symbol>& symbols = scratch.symbols;
  std::vector<Bigram>& queue = scratch.queue;
  symbols.clear();
  queue.clear();
  for (uint32_t offset = 0; offset < text.size();) {
    const auto length = static_cast<uint32_t>(std::min(utf8_sequence_length(text[offset]), text.size() - offset));
    const auto index = static_cast<int32_t>(symbols.size());
    offset += length;
    symbols.push_back({index - 1, offset == text.size() ? -1 : index + 1, offset - length, length});
  }

  std::string& key = scratch.key;
  const auto add_bigram = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    key.assign(text.substr(l.begin, l.length));
    key.push_back(' ');
    key.append(text.substr(r.begin, r.length));
    const auto it = ranks_.find(key);
    if (it == ranks_.end()) return;
    queue.push_back({left, right, it->second, l.length + r.length});
    std::push_heap(queue.begin(), queue.end(), BigramLess());
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) add_bigram(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), BigramLess());
    const Bigram bigram = queue.back();
    queue.pop_back();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // Stale: a side was merged elsewhere. Symbols only grow rightwards from a fixed start, so equal lengths mean
    // equal text (llama.cpp compares the strings).
    if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.size) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    add_bigram(left.prev, bigram.left);
    add_bigram(bigram.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& symbol = symbols[i];
    if (symbol.length == 0) continue;
    const std::string_view piece = text.substr(symbol.begin, symbol.length);
    const int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t byte_id = vocab_.find(std::string_view(&c, 1));
      if (byte_id >= 0) out->push_back(byte_id);
    }
  }
}

}  // namespace strata
