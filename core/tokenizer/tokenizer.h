// Text <-> token ids for a GGUF model's vocabulary, matching llama.cpp token for token.
//
// Two families: SentencePiece-style BPE over scores (tokenizer.ggml.model "llama": Llama 2, Gemma, Phi-3, ...) and
// byte-level BPE over merge ranks with a regex pre-tokenizer chosen by tokenizer.ggml.pre ("gpt2": Llama 3, Qwen2,
// SmolLM, StarCoder, ...). Encoding first cuts special-token text out of the input (see special_tokens.h).
// A Tokenizer is immutable after creation and safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/special_tokens.h"
#include "core/tokenizer/tokenizer_spec.h"
#include "core/tokenizer/vocab.h"

namespace strata {

class Tokenizer {
 public:
  // From the file's tokenizer.ggml.* metadata (a vocabulary-only GGUF is enough). InvalidArgument for an unknown
  // tokenizer model or pre-tokenizer (named in the message) and for inconsistent metadata.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& file);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> from_spec(const TokenizerSpec& spec);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // `add_special`: prepend BOS / append EOS where the metadata asks for them (add_bos()/add_eos()).
  // `parse_special`: turn control-token text such as "<|im_start|>" into its id (user-defined tokens always are).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes a token stands for. Control and unknown tokens render as their text only when `render_special`.
  // Out-of-range ids render as nothing.
  std::string token_to_piece(int32_t id, bool render_special) const;

  // Concatenated pieces, as llama.cpp's detokenize: the space an SPM vocabulary prefixes is removed from the first
  // token, `remove_special` drops a leading BOS / trailing EOS the metadata adds, and BPE vocabularies that ask for it
  // get clean_up_tokenization_spaces (" ." -> ".", " 's" -> "'s", ...).
  std::string decode(const std::vector<int32_t>& ids, bool remove_special = false, bool render_special = false) const;

  int32_t n_vocab() const { return vocab_->n_tokens(); }
  int32_t bos_id() const { return vocab_->bos_id(); }
  int32_t eos_id() const { return vocab_->eos_id(); }
  int32_t eot_id() const { return vocab_->eot_id(); }  // -1 when the vocabulary has none
  bool is_eog(int32_t id) const { return vocab_->is_eog(id); }
  bool add_bos() const { return vocab_->add_bos(); }
  bool add_eos() const { return vocab_->add_eos(); }
  std::string_view model_name() const { return vocab_->model_name(); }  // "llama" or "gpt2"
  std::string_view pre_name() const { return vocab_->pre_name(); }
  const Vocab& vocab() const { return *vocab_; }

 private:
  Tokenizer() = default;
  void encode_spm(std::string_view text, const std::vector<Fragment>& fragments, bool add_special,
                  std::vector<int32_t>* out) const;
  void encode_bpe(std::string_view text, const std::vector<Fragment>& fragments, bool add_special,
                  std::vector<int32_t>* out) const;
  std::string compute_piece(int32_t id) const;

  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<SpecialTokenMatcher> specials_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;  // BPE only
  std::unique_ptr<BpeModel> bpe_;                // BPE only
  std::vector<std::string> pieces_;              // token_to_piece(id, render_special = true)
};

}  // namespace strata
