#include "core/tokenizer/pre_tokenizer_config.h"

#include "core/util/str_cat.h"

namespace strata {

namespace {

// Regex lists copied from llama.cpp's llm_tokenizer_bpe (src/llama-vocab.cpp), in its "adapted" spellings: the
// case-insensitive contractions are spelled out ('[sS]...) because llama.cpp's std::regex engine has no (?i:).
constexpr std::string_view kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr std::string_view kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen35 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kJais2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})";
constexpr std::string_view kSeedCoder =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kBailingMoe =
    R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr std::string_view kUfakzeka =
    R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kMiniCpm5 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kExaoneMoe =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr std::string_view kTekken =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt4o =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
// Characters that Unicode normalization would fold into others (Kelvin sign, Ohm sign, Greek oxia forms) are written
// as \x{} escapes so that no editor can silently change the ranges.
constexpr std::string_view kDeepseekLlmLatin =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";
constexpr std::string_view kCjk = "[一-龥ࠀ-一가-퟿]+";

struct Row {
  std::vector<std::string_view> names;
  PreTokenizerConfig config;  // `name` is filled in on lookup
};

// One row per llama.cpp pre-tokenizer type, with every tokenizer.ggml.pre name llama.cpp maps onto it. Types whose
// splitting llama.cpp does in bespoke code (kimi-k2, afmoe), without byte-level encoding (gemma4, sarvam-moe,
// whitespace) or through regex constructs its engine reads differently from PCRE2 (\p{S}'s ASCII table, \d, \b,
// \p{Lu}: deepseek-v3, hunyuan-dense, joyai-llm, hy_v4, spark2_5, youtu, tiny_aya, superbpe,
// granite-embed-multi-97m) are left out so that they fail loudly instead of tokenizing differently.
const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      {{"default"}, {.regexes = {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
       {.regexes = {kLlama3}, .ignore_merges = true, .add_bos = true}},
      {{"dbrx", "smaug-bpe"}, {.regexes = {kLlama3}}},
      {{"glm4", "chatglm-bpe"}, {.regexes = {kLlama3}, .no_bos = true}},
      {{"deepseek-llm"},
       {.regexes = {"[\r\n]", kDeepseekLlmLatin, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", kCjk, R"(\p{N}+)"},
        .clean_spaces = false}},
      {{"deepseek-coder"},
       {.regexes = {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}, .clean_spaces = false}},
      {{"falcon"}, {.regexes = {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}}},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"}, {.regexes = {R"(\p{N})", kGpt2}}},
      {{"command-r", "smollm"}, {.regexes = {R"(\p{N})", kGpt2}, .clean_spaces = false}},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "exaone4", "mpt", "olmo", "jais"},
       {.regexes = {kGpt2}}},
      {{"jina-v1-en", "jina-v2-code", "roberta-bpe"}, {.regexes = {kGpt2}, .add_sep = true}},
      {{"trillion", "granite-docling"}, {.regexes = {kGpt2}, .clean_spaces = false}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"},
       {.regexes = {kQwen2}, .clean_spaces = false}},
      {{"megrez", "stablelm2"}, {.regexes = {kQwen2}}},
      {{"qwen35"}, {.regexes = {kQwen35}, .clean_spaces = false}},
      {{"poro-chat"}, {.regexes = {kBloom}, .clean_spaces = false}},
      {{"bloom", "gpt3-finnish"}, {.regexes = {kBloom}}},
      {{"viking"}, {.regexes = {kBloom, R"(\p{N})"}, .clean_spaces = false}},
      {{"jais-2"}, {.regexes = {kJais2}}},
      {{"seed-coder"}, {.regexes = {kSeedCoder}, .clean_spaces = false}},
      {{"bailingmoe", "bailingmoe2", "llada-moe"}, {.regexes = {kBailingMoe}, .clean_spaces = false}},
      {{"ufakzeka"}, {.regexes = {kUfakzeka}, .clean_spaces = false}},
      {{"minicpm5"}, {.regexes = {R"(\p{N}{1,3})", kMiniCpm5}, .ignore_merges = true}},
      {{"laguna"}, {.regexes = {R"([^\n]+|[\n]+)", kQwen2}, .clean_spaces = false}},
      {{"exaone-moe"}, {.regexes = {kExaoneMoe}}},
      {{"tekken"}, {.regexes = {kTekken}, .ignore_merges = true, .add_bos = true, .clean_spaces = false}},
      {{"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, {.regexes = {kGpt4o}, .clean_spaces = false}},
      {{"chameleon"},
       {.regexes = {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", R"(([\t\n]|    |  ))", R"(\p{N})",
                    R"([\p{P}!-/:-@\[-`{-~])", kGpt2},
        .add_bos = true,
        .clean_spaces = false}},
  };
  return kRows;
}

}  // namespace

absl::StatusOr<PreTokenizerConfig> find_pre_tokenizer(std::string_view pre) {
  const std::string_view wanted = pre.empty() ? std::string_view("default") : pre;
  for (const Row& row : rows()) {
    for (std::string_view name : row.names) {
      if (name == wanted) {
        PreTokenizerConfig config = row.config;
        config.name = name;
        return config;
      }
    }
  }
  return absl::InvalidArgumentError(str_cat("unknown pre-tokenizer type (tokenizer.ggml.pre): '", pre, "'"));
}

}  // namespace strata
