#include "core/tokenizer/tokenizer.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "core/tokenizer/spm_model.h"
#include "core/tokenizer/unicode.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

constexpr std::string_view kEscapedSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

void append_escaping_spaces(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == ' ') {
      out->append(kEscapedSpace);
    } else {
      out->push_back(c);
    }
  }
}

std::string unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kEscapedSpace.size(), kEscapedSpace) == 0) {
      out.push_back(' ');
      i += kEscapedSpace.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// Byte-level token text back to bytes; code points outside the alphabet are spelled out as llama.cpp does.
std::string decode_byte_level(std::string_view text) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
  std::string out;
  for (size_t offset = 0; offset < text.size();) {
    const DecodedCodepoint decoded = decode_utf8_lenient(text, offset);
    const int byte = alphabet.decode(decoded.codepoint);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
    } else {
      std::string utf8;
      append_utf8(decoded.codepoint <= 0x10FFFF ? decoded.codepoint : kReplacementChar, &utf8);
      out.append("[UNK_BYTE_0x");
      for (char c : utf8) absl::StrAppendFormat(&out, "%02x", static_cast<uint8_t>(c));
      out.append(text);
      out.push_back(']');
    }
    offset += decoded.length;
  }
  return out;
}

// clean_up_tokenization_spaces, the three in-place passes of llama.cpp's detokenize.
void clean_spaces(std::string* text) {
  std::string& t = *text;
  size_t total = t.size();
  // " ?", " !", " .", " ," lose the space.
  size_t n = total;
  total = n > 0 ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    t[total++] = x;
  }
  // " ' " becomes "'".
  n = total;
  total = n > 0 ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --total;
      t[++i] = '\0';
    }
    t[total++] = x;
  }
  // " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
  n = total;
  total = n > 0 ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = t[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    t[total++] = x;
  }
  t.resize(total);
}

// Per-thread buffers for encode().
struct EncodeScratch {
  std::vector<Fragment> fragments;
  std::string fragment_text;
  std::string normalized;
  std::vector<TextSpan> words;
};

EncodeScratch& encode_scratch() {
  thread_local EncodeScratch scratch;
  return scratch;
}

}  // namespace

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& file) {
  STRATA_ASSIGN_OR_RETURN(TokenizerSpec spec, tokenizer_spec_from_gguf(file));
  return from_spec(spec);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::from_spec(const TokenizerSpec& spec) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  STRATA_ASSIGN_OR_RETURN(tokenizer->vocab_, Vocab::create(spec));
  const Vocab& vocab = *tokenizer->vocab_;
  if (vocab.type() == VocabType::kBpe) {
    STRATA_ASSIGN_OR_RETURN(tokenizer->pre_tokenizer_, PreTokenizer::create(vocab.pre_tokenizer()->regexes));
    STRATA_ASSIGN_OR_RETURN(tokenizer->bpe_, BpeModel::create(vocab, spec.merges));
  }
  tokenizer->specials_ = std::make_unique<SpecialTokenMatcher>(vocab);
  tokenizer->pieces_.reserve(vocab.n_tokens());
  for (int32_t id = 0; id < vocab.n_tokens(); ++id) tokenizer->pieces_.push_back(tokenizer->compute_piece(id));
  return tokenizer;
}

std::string Tokenizer::compute_piece(int32_t id) const {
  const TokenData& token = vocab_->token(id);
  if ((token.attrs & (TokenAttr::kUnknown | TokenAttr::kControl | TokenAttr::kUserDefined)) != 0) return token.text;
  if ((token.attrs & TokenAttr::kNormal) != 0) {
    return vocab_->type() == VocabType::kSpm ? unescape_spaces(token.text) : decode_byte_level(token.text);
  }
  if ((token.attrs & TokenAttr::kByte) != 0) return std::string(1, static_cast<char>(vocab_->token_to_byte(id)));
  return std::string();  // unused / undefined tokens render as nothing
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (!vocab_->is_valid(id)) return std::string();
  if (!render_special && vocab_->has_attr(id, TokenAttr::kUnknown | TokenAttr::kControl)) return std::string();
  return pieces_[id];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool remove_special, bool render_special) const {
  size_t first = 0;
  size_t last = ids.size();
  bool remove_space = vocab_->add_space_prefix();
  if (remove_special && vocab_->add_bos() && last > first && ids[first] == vocab_->bos_id()) {
    remove_space = false;
    ++first;
  }
  if (remove_special && vocab_->add_eos() && last > first && ids[last - 1] == vocab_->eos_id()) --last;
  std::string text;
  for (size_t i = first; i < last; ++i) {
    std::string piece = token_to_piece(ids[i], render_special);
    if (remove_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    remove_space = false;
    text.append(piece);
  }
  if (vocab_->clean_spaces()) clean_spaces(&text);
  return text;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  EncodeScratch& scratch = encode_scratch();
  specials_->partition(text, parse_special, &scratch.fragments);
  const std::vector<Fragment>& fragments = scratch.fragments;  // encode_* use the other scratch buffers only
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (vocab_->type() == VocabType::kSpm) {
    encode_spm(text, fragments, add_special, &out);
  } else {
    encode_bpe(text, fragments, add_special, &out);
  }
  return out;
}

void Tokenizer::encode_spm(std::string_view text, const std::vector<Fragment>& fragments, bool add_special,
                           std::vector<int32_t>* out) const {
  EncodeScratch& scratch = encode_scratch();
  if (add_special && vocab_->add_bos()) out->push_back(vocab_->bos_id());
  // SentencePiece's dummy prefix goes at the start of the text and after every special token, as in llama.cpp.
  bool previous_special = true;
  for (const Fragment& fragment : fragments) {
    if (fragment.is_token()) {
      out->push_back(fragment.token);
      previous_special = true;
      continue;
    }
    std::string& piece = scratch.fragment_text;
    piece.clear();
    if (vocab_->add_space_prefix() && previous_special) piece.append(kEscapedSpace);
    append_escaping_spaces(text.substr(fragment.begin, fragment.end - fragment.begin), &piece);
    spm_tokenize(*vocab_, piece, out);
    previous_special = false;
  }
  if (add_special && vocab_->add_eos()) out->push_back(vocab_->eos_id());
}

void Tokenizer::encode_bpe(std::string_view text, const std::vector<Fragment>& fragments, bool add_special,
                           std::vector<int32_t>* out) const {
  EncodeScratch& scratch = encode_scratch();
  if (add_special && vocab_->add_bos()) out->push_back(vocab_->bos_id());
  for (const Fragment& fragment : fragments) {
    if (fragment.is_token()) {
      out->push_back(fragment.token);
      continue;
    }
    pre_tokenizer_->split(text.substr(fragment.begin, fragment.end - fragment.begin), &scratch.normalized,
                          &scratch.words);
    const std::string_view normalized = scratch.normalized;
    for (const TextSpan word : scratch.words) {
      bpe_->tokenize_word(normalized.substr(word.begin, word.end - word.begin), out);
    }
  }
  if (add_special && vocab_->add_eos()) out->push_back(vocab_->eos_id());
}

}  // namespace strata
