#include "coordinator/api/request_params.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using nlohmann::json;

std::optional<ApiError> chat(const json& body, ChatRequest* out = nullptr) {
  ChatRequest local;
  return parse_chat_request(body, out ? out : &local);
}

const json kMessages = json::array({{{"role", "user"}, {"content", "hi"}}});

TEST(RequestParamsTest, ChatDefaultsFollowOpenAi) {
  ChatRequest r;
  ASSERT_FALSE(chat({{"model", "m"}, {"messages", kMessages}}, &r));
  EXPECT_EQ(r.params.model, "m");
  EXPECT_FLOAT_EQ(r.params.sampling.temperature, 1.0f);
  EXPECT_FALSE(r.params.max_tokens.has_value());
  EXPECT_FALSE(r.params.stream);
  EXPECT_EQ(r.messages[0]["content"], "hi");
}

TEST(RequestParamsTest, ChatReadsEveryParameter) {
  ChatRequest r;
  const json body = {{"messages", kMessages},
                     {"max_tokens", 5},
                     {"max_completion_tokens", 7},
                     {"temperature", 0},
                     {"top_p", 0.5},
                     {"top_k", -1},
                     {"min_p", 0.1},
                     {"presence_penalty", 1},
                     {"frequency_penalty", -1},
                     {"repetition_penalty", 1.1},
                     {"seed", 42},
                     {"stop", "x"},
                     {"logprobs", true},
                     {"top_logprobs", 3},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}},
                     {"ignore_eos", true},
                     {"n", 1}};
  ASSERT_FALSE(chat(body, &r));
  EXPECT_EQ(*r.params.max_tokens, 7);
  EXPECT_EQ(r.params.sampling.top_k, 0);
  EXPECT_EQ(r.params.sampling.seed, 42u);
  EXPECT_EQ(r.params.sampling.top_logprobs, 3);
  EXPECT_EQ(r.params.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(r.params.logprobs && r.params.stream && r.params.include_usage && r.params.ignore_eos);
}

TEST(RequestParamsTest, ContentPartsAreJoined) {
  ChatRequest r;
  const json parts = json::array({{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}});
  ASSERT_FALSE(chat({{"messages", json::array({{{"role", "user"}, {"content", parts}}})}}, &r));
  EXPECT_EQ(r.messages[0]["content"], "ab");
}

TEST(RequestParamsTest, BadInputNamesTheField) {
  struct Case {
    json body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {json::array(), ""},
      {{{"model", "m"}}, "messages"},
      {{{"messages", "hi"}}, "messages"},
      {{{"messages", json::array()}}, "messages"},
      {{{"messages", json::array({{{"content", "x"}}})}}, "messages[0].role"},
      {{{"messages", json::array({{{"role", "user"}, {"content", 5}}})}}, "messages[0].content"},
      {{{"messages", kMessages}, {"temperature", "hot"}}, "temperature"},
      {{{"messages", kMessages}, {"temperature", -1}}, "temperature"},
      {{{"messages", kMessages}, {"top_p", 7}}, "top_p"},
      {{{"messages", kMessages}, {"max_tokens", 0}}, "max_tokens"},
      {{{"messages", kMessages}, {"max_tokens", 2.5}}, "max_tokens"},
      {{{"messages", kMessages}, {"n", 2}}, "n"},
      {{{"messages", kMessages}, {"stop", 3}}, "stop"},
      {{{"messages", kMessages}, {"stream", "yes"}}, "stream"},
      {{{"messages", kMessages}, {"top_logprobs", 2}}, "top_logprobs"},
      {{{"messages", kMessages}, {"logprobs", true}, {"top_logprobs", 50}}, "top_logprobs"},
      {{{"messages", kMessages}, {"model", 3}}, "model"},
  };
  for (const Case& c : cases) {
    const auto error = chat(c.body);
    ASSERT_TRUE(error.has_value()) << c.body.dump();
    EXPECT_EQ(error->status, 400) << c.body.dump();
    EXPECT_EQ(error->param, c.param) << c.body.dump();
  }
}

TEST(RequestParamsTest, CompletionPromptForms) {
  CompletionRequest r;
  ASSERT_FALSE(parse_completion_request({{"prompt", "abc"}}, &r));
  EXPECT_EQ(r.prompt, "abc");
  EXPECT_EQ(*r.params.max_tokens, 16);
  CompletionRequest t;
  ASSERT_FALSE(parse_completion_request({{"prompt", {1, 2, 3}}, {"logprobs", 2}}, &t));
  EXPECT_TRUE(t.prompt_is_tokens);
  EXPECT_EQ(t.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(t.params.logprobs);
  EXPECT_EQ(t.params.sampling.top_logprobs, 2);
  CompletionRequest one;
  ASSERT_FALSE(parse_completion_request({{"prompt", {"x"}}}, &one));
  EXPECT_EQ(one.prompt, "x");
  CompletionRequest bad;
  EXPECT_TRUE(parse_completion_request({{"prompt", {"x", "y"}}}, &bad));
  EXPECT_TRUE(parse_completion_request({{"prompt", ""}}, &bad));
  EXPECT_TRUE(parse_completion_request({{"prompt", {-1}}}, &bad));
  EXPECT_TRUE(parse_completion_request({{"max_tokens", 3}}, &bad));
  EXPECT_TRUE(parse_completion_request({{"prompt", "x"}, {"echo", true}}, &bad));
}

}  // namespace
}  // namespace strata
