// Runs one generation request for the HTTP layer: submits the tokenized prompt to the engine and answers with the
// complete response, or streams it as server-sent events. A streaming client that goes away cancels its request, so
// its KV blocks are freed at the next step.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/api/openai_json.h"
#include "coordinator/api/request_params.h"
#include "coordinator/engine/llm_engine.h"
#include "coordinator/metrics/server_metrics.h"
#include "core/tokenizer/tokenizer.h"

namespace strata {

// What every generation handler needs; everything outlives the HTTP server.
struct GenerationContext {
  LlmEngine* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;
  ServerMetrics* metrics = nullptr;  // may be null
  std::string served_model;
};

// `prompt_param` names the request field the prompt came from ("messages" or "prompt"), for errors.
void serve_generation(const GenerationContext& ctx, ApiKind kind, const GenerationParams& params,
                      std::vector<int32_t> prompt, const char* prompt_param, httplib::Response& res);

}  // namespace strata
