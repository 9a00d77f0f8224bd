#include "coordinator/api/generation_handler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coordinator/api/event_queue.h"
#include "coordinator/api/http_response.h"
#include "coordinator/api/token_text_stream.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// How long an HTTP thread waits for the next token before it looks at its client again. A streaming client that
// waits in the queue gets an SSE comment this often: writing is the only way cpp-httplib lets us notice a client
// that has gone, and SSE clients ignore comments.
constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr auto kKeepAliveInterval = std::chrono::seconds(1);

const char* finish_name(FinishReason reason) { return reason == FinishReason::kLength ? "length" : "stop"; }

ApiError engine_failure(const GenerationEvent& event) {
  ApiError e;
  if (event.finish == FinishReason::kCancelled) {
    e.status = 503;
    e.type = "server_error";
    e.message = event.error.empty() ? "the request was cancelled" : event.error;
  } else {
    e.status = 500;
    e.type = "server_error";
    e.message = absl::StrCat("generation failed: ", event.error);
  }
  return e;
}

// One streamed request. Lives as long as cpp-httplib keeps calling the content provider.
class SseStream {
 public:
  SseStream(const GenerationContext& ctx, ResponseHeader header, const GenerationParams& params, uint64_t id,
            std::shared_ptr<EventQueue> queue, int64_t prompt_tokens)
      : ctx_(ctx),
        header_(std::move(header)),
        include_usage_(params.include_usage),
        id_(id),
        queue_(std::move(queue)),
        text_(*ctx.tokenizer, params.stop),
        prompt_tokens_(prompt_tokens) {}

  // One call of the chunked content provider: sends what the next event brings. False stops the response.
  bool step(httplib::DataSink& sink) {
    if (header_.kind == ApiKind::kChat && !sent_role_) {
      sent_role_ = true;
      return write_chunk(sink, {}, std::nullopt, /*role_only=*/true);
    }
    std::optional<GenerationEvent> event = queue_->pop(kPollInterval);
    if (!event) {
      if (Clock::now() - last_write_ < kKeepAliveInterval) return true;
      return write(sink, ": keep-alive\n\n");
    }
    if (event->token >= 0) {
      const TextDelta delta = text_.push(*event);
      if (!delta.empty() && !write_chunk(sink, delta, std::nullopt, false)) return false;
      if (text_.stopped()) {
        // A stop string ends the request here; the engine must not spend more steps on it.
        ctx_.engine->cancel(id_, FinishReason::kStop);
        queue_->close();
        return finish(sink, "stop");
      }
    }
    if (event->finish == FinishReason::kNone) return true;
    if (event->finish == FinishReason::kStop || event->finish == FinishReason::kLength) {
      const TextDelta rest = text_.finish();
      if (!rest.empty() && !write_chunk(sink, rest, std::nullopt, false)) return false;
      return finish(sink, finish_name(event->finish));
    }
    // The response has started (status 200), so the failure goes out as an error event, as vLLM sends it.
    done_ = true;
    const bool ok = write(sink, absl::StrCat("data: ", dump_json(api_error_json(engine_failure(*event))), "\n\n")) &&
                    write(sink, "data: [DONE]\n\n");
    sink.done();
    return ok;
  }

  // cpp-httplib is done with the response: `success` is false when the client went away or a write failed.
  void release(bool success) {
    if (!done_) {
      spdlog::info("{}: client went away, cancelling request {}", header_.id, id_);
      ctx_.engine->cancel(id_);
    }
    queue_->close();
  }

 private:
  bool finish(httplib::DataSink& sink, const char* reason) {
    done_ = true;
    if (!write_chunk(sink, {}, std::string(reason), false)) return false;
    if (include_usage_ &&
        !write(sink, absl::StrCat("data: ", dump_json(stream_usage_chunk(header_, prompt_tokens_, text_.n_tokens())),
                                  "\n\n"))) {
      return false;
    }
    if (!write(sink, "data: [DONE]\n\n")) return false;
    sink.done();
    return true;
  }

  bool write_chunk(httplib::DataSink& sink, const TextDelta& delta, const std::optional<std::string>& finish_reason,
                   bool role_only) {
    const json chunk = stream_chunk(header_, *ctx_.tokenizer, delta, finish_reason, role_only, include_usage_);
    return write(sink, absl::StrCat("data: ", dump_json(chunk), "\n\n"));
  }

  bool write(httplib::DataSink& sink, const std::string& data) {
    last_write_ = Clock::now();
    return sink.write(data.data(), data.size());
  }

  const GenerationContext& ctx_;
  ResponseHeader header_;
  bool include_usage_;
  uint64_t id_;
  std::shared_ptr<EventQueue> queue_;
  TokenTextStream text_;
  int64_t prompt_tokens_;
  bool sent_role_ = false;
  bool done_ = false;  // the final chunk went out (or the request failed): nothing to cancel
  Clock::time_point last_write_ = Clock::now();
};

// A non-streamed response. cpp-httplib gives a plain handler no way to see its client leave, so the response is sent
// through a chunked content provider: while the generation runs, a space goes out every second (JSON allows leading
// whitespace), and a write that fails means the client is gone — the request is cancelled and its KV blocks freed
// at once, as for a stream. The status is 200 from the start; a generation that fails after admission (an engine
// error, rare) therefore reports its OpenAI error object in the 200 body.
class BlockingJson {
 public:
  BlockingJson(const GenerationContext& ctx, ResponseHeader header, const GenerationParams& params, uint64_t id,
               std::shared_ptr<EventQueue> queue, int64_t prompt_tokens)
      : ctx_(ctx),
        header_(std::move(header)),
        id_(id),
        queue_(std::move(queue)),
        text_(*ctx.tokenizer, params.stop),
        prompt_tokens_(prompt_tokens) {}

  // Called by cpp-httplib until it returns false or the sink is done.
  bool step(httplib::DataSink& sink) {
    // Probe the connection once a second, whether or not tokens are arriving.
    if (Clock::now() - last_write_ >= kKeepAliveInterval) {
      last_write_ = Clock::now();
      if (!sink.write(" ", 1)) return false;
    }
    std::optional<GenerationEvent> event = queue_->pop(kPollInterval);
    if (!event) return true;
    if (event->token >= 0) {
      take(text_.push(*event));
      if (text_.stopped()) {
        ctx_.engine->cancel(id_, FinishReason::kStop);
        queue_->close();
        return finish(sink,
                      full_response(header_, *ctx_.tokenizer, out_, tokens_, "stop", prompt_tokens_, text_.n_tokens()));
      }
    }
    if (event->finish == FinishReason::kNone) return true;
    if (event->finish != FinishReason::kStop && event->finish != FinishReason::kLength) {
      return finish(sink, api_error_json(engine_failure(*event)));
    }
    take(text_.finish());
    return finish(sink, full_response(header_, *ctx_.tokenizer, out_, tokens_, finish_name(event->finish),
                                      prompt_tokens_, text_.n_tokens()));
  }

  void release(bool) {
    if (!done_) {
      spdlog::info("{}: client went away, cancelling request {}", header_.id, id_);
      ctx_.engine->cancel(id_);
    }
    queue_->close();
  }

 private:
  void take(TextDelta delta) {
    out_ += delta.text;
    for (GeneratedToken& t : delta.tokens) tokens_.push_back(std::move(t));
  }
  bool finish(httplib::DataSink& sink, const nlohmann::json& body) {
    done_ = true;
    const std::string text = dump_json(body);
    if (!sink.write(text.data(), text.size())) return false;
    sink.done();
    return true;
  }

  const GenerationContext& ctx_;
  ResponseHeader header_;
  uint64_t id_;
  std::shared_ptr<EventQueue> queue_;
  TokenTextStream text_;
  int64_t prompt_tokens_;
  std::string out_;
  std::vector<GeneratedToken> tokens_;
  bool done_ = false;  // the body went out: nothing to cancel
  Clock::time_point last_write_ = Clock::now();
};

}  // namespace

void serve_generation(const GenerationContext& ctx, ApiKind kind, const GenerationParams& params,
                      std::vector<int32_t> prompt, const char* prompt_param, httplib::Response& res) {
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  const int64_t max_len = ctx.engine->max_model_len();
  if (n_prompt >= max_len) {
    if (ctx.metrics) ctx.metrics->request_rejected_total->Increment();
    send_error(res, invalid_request(absl::StrCat("This model's maximum context length is ", max_len,
                                                 " tokens. However, your prompt has ", n_prompt,
                                                 " tokens, which leaves no room for a completion. Please shorten it."),
                                    prompt_param));
    return;
  }
  GenerationRequest request;
  request.prompt = std::move(prompt);
  request.sampling = params.sampling;
  request.max_tokens = params.max_tokens.value_or(max_len - n_prompt);
  request.ignore_eos = params.ignore_eos;
  request.model_name = ctx.served_model;

  auto queue = std::make_shared<EventQueue>();
  absl::StatusOr<uint64_t> id = ctx.engine->submit(std::move(request), EventQueue::callback(queue));
  if (!id.ok()) {
    ApiError error = api_error_from_status(id.status());
    if (error.status == 400 && params.max_tokens) error.param = "max_tokens";
    send_error(res, error);
    return;
  }
  ResponseHeader header = make_response_header(kind, ctx.served_model, params.logprobs);
  if (!params.stream) {
    auto body = std::make_shared<BlockingJson>(ctx, std::move(header), params, *id, queue, n_prompt);
    res.set_chunked_content_provider(
        "application/json", [body](size_t, httplib::DataSink& sink) { return body->step(sink); },
        [body](bool success) { body->release(success); });
    return;
  }
  auto stream = std::make_shared<SseStream>(ctx, std::move(header), params, *id, queue, n_prompt);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [stream](size_t, httplib::DataSink& sink) { return stream->step(sink); },
      [stream](bool success) { stream->release(success); });
}

}  // namespace strata
