#include "coordinator/cli/chat_format.h"

#include "absl/strings/str_cat.h"

namespace strata::cli {

std::string format_single_turn_chat(const Tokenizer& tokenizer, std::string_view system, std::string_view user) {
  const std::string sys(system), msg(user);
  if (tokenizer.vocab().find("<|im_start|>") >= 0) {  // ChatML: SmolLM2, Qwen2
    std::string out;
    if (!sys.empty()) out += absl::StrCat("<|im_start|>system\n", sys, "<|im_end|>\n");
    return absl::StrCat(out, "<|im_start|>user\n", msg, "<|im_end|>\n<|im_start|>assistant\n");
  }
  if (tokenizer.vocab().find("<start_of_turn>") >= 0) {  // Gemma: no system role, it joins the user turn
    const std::string body = sys.empty() ? msg : absl::StrCat(sys, "\n\n", msg);
    return absl::StrCat("<start_of_turn>user\n", body, "<end_of_turn>\n<start_of_turn>model\n");
  }
  if (tokenizer.vocab().find("<|start_header_id|>") >= 0) {  // Llama 3
    std::string out;
    if (!sys.empty()) out += absl::StrCat("<|start_header_id|>system<|end_header_id|>\n\n", sys, "<|eot_id|>");
    return absl::StrCat(out, "<|start_header_id|>user<|end_header_id|>\n\n", msg,
                        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  }
  // Llama 2 / Mistral instruction format.
  if (!sys.empty()) return absl::StrCat("[INST] <<SYS>>\n", sys, "\n<</SYS>>\n\n", msg, " [/INST]");
  return absl::StrCat("[INST] ", msg, " [/INST]");
}

}  // namespace strata::cli
