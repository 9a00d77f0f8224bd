// The built-in chat formats `strata run --chat` uses until the Jinja template engine (serve issue) renders the
// model's own tokenizer.chat_template. The format is recognized from the vocabulary's special tokens.
#pragma once

#include <string>
#include <string_view>

#include "core/tokenizer/tokenizer.h"

namespace strata::cli {

// Wraps one user message (and an optional system prompt) so the model answers it as the assistant.
std::string format_single_turn_chat(const Tokenizer& tokenizer, std::string_view system, std::string_view user);

}  // namespace strata::cli
