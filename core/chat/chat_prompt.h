// Chat messages -> prompt token ids: renders the model's own tokenizer.chat_template (core/chat) with
// add_generation_prompt and the BOS/EOS token texts, then tokenizes with special-token parsing. BOS is prepended only
// when the vocabulary asks for one and the template did not already write it.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/chat/chat_template.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"

namespace strata {

class ChatPrompt {
 public:
  // From the file's tokenizer.chat_template, or a built-in template chosen from the vocabulary when it has none.
  // `tokenizer` must outlive the ChatPrompt.
  static absl::StatusOr<std::unique_ptr<ChatPrompt>> create(const GgufFile& file, const Tokenizer& tokenizer);

  // InvalidArgument when the template refuses the conversation (raise_exception) or renders nothing.
  absl::StatusOr<std::vector<int32_t>> build(const nlohmann::json& messages) const;

  const std::string& origin() const { return origin_; }  // where the template came from, for the start-up log

 private:
  ChatPrompt(const Tokenizer& tokenizer, ChatTemplate chat_template, std::string origin);

  const Tokenizer& tokenizer_;
  ChatTemplate template_;
  std::string origin_;
  std::string bos_text_, eos_text_;
};

}  // namespace strata
