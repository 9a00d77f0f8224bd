#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <utility>

#include "core/util/str_cat.h"
#include "core/tokenizer/unicode.h"

namespace strata {

namespace {

constexpr std::string_view kSpaceClassBody = "\\t\\n\\x0B\\f\\r ";

std::string pcre2_error_text(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return std::string(reinterpret_cast<const char*>(buffer));
}

// Per-thread match state: PCRE2 match data and JIT stacks must not be shared between concurrent matches.
struct MatchState {
  MatchState() {
    match_data = pcre2_match_data_create(1, nullptr);  // only the whole-match offsets are read
    context = pcre2_match_context_create(nullptr);
    // Patterns with quantified groups (tekken, gpt-4o) backtrack per repetition; long words need more than the
    // 32 KiB default JIT stack.
    jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (context != nullptr && jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~MatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(match_data);
  }
  pcre2_match_data* match_data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
};

MatchState& match_state() {
  thread_local MatchState state;
  return state;
}

// Per-thread buffers for split(): the regex subject, its offset map and the fragment lists.
struct SplitScratch {
  std::string subject;
  std::vector<uint32_t> subject_to_text;  // byte offset in subject -> byte offset in normalized text
  std::vector<TextSpan> fragments;
  std::vector<TextSpan> next;
};

SplitScratch& split_scratch() {
  thread_local SplitScratch scratch;
  return scratch;
}

// Builds llama.cpp's view of `text`: `normalized` (code points re-encoded) and `subject` (the same with non-ASCII
// whitespace replaced by U+000B and surrogates by U+FFFD, which PCRE2's UTF mode cannot hold). `map` is filled only
// when the two differ in length; an empty map means offsets are shared.
void build_subject(std::string_view text, std::string* normalized, std::string* subject, std::vector<uint32_t>* map) {
  normalized->clear();
  subject->clear();
  map->clear();
  normalized->reserve(text.size());
  subject->reserve(text.size());
  bool diverged = false;
  size_t offset = 0;
  std::string encoded;
  while (offset < text.size()) {
    const char c = text[offset];
    if (static_cast<uint8_t>(c) < 0x80) {
      if (diverged) map->push_back(static_cast<uint32_t>(normalized->size()));
      normalized->push_back(c);
      subject->push_back(c);
      ++offset;
      continue;
    }
    const DecodedCodepoint decoded = decode_utf8_lenient(text, offset);
    offset += decoded.length;
    // llama.cpp cannot encode code points past U+10FFFF (its encoder throws); they become U+FFFD here.
    const uint32_t codepoint = decoded.codepoint <= 0x10FFFF ? decoded.codepoint : kReplacementChar;
    const size_t text_offset = normalized->size();
    append_utf8(codepoint, normalized);
    encoded.clear();
    if (is_unicode_whitespace(codepoint)) {
      encoded.push_back('\x0B');
    } else if (codepoint >= 0xD800 && codepoint <= 0xDFFF) {
      append_utf8(kReplacementChar, &encoded);
    } else {
      encoded.assign(*normalized, text_offset, normalized->size() - text_offset);
    }
    if (!diverged && encoded.size() != normalized->size() - text_offset) {
      diverged = true;
      map->resize(subject->size());
      for (size_t i = 0; i < map->size(); ++i) (*map)[i] = static_cast<uint32_t>(i);
    }
    if (diverged) map->insert(map->end(), encoded.size(), static_cast<uint32_t>(text_offset));
    subject->append(encoded);
  }
  if (diverged) map->push_back(static_cast<uint32_t>(normalized->size()));
}

}  // namespace

absl::StatusOr<std::string> translate_regex_for_pcre2(std::string_view regex) {
  std::string out;
  out.reserve(regex.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\') {
      if (i + 1 >= regex.size()) return absl::InvalidArgumentError(str_cat("regex ends with '\\': ", regex));
      const char e = regex[++i];
      switch (e) {
        case 's':
          if (in_class) {
            out.append(kSpaceClassBody);
          } else {
            str_append(&out, "[", kSpaceClassBody, "]");
          }
          break;
        case 'S':
          if (in_class) return absl::InvalidArgumentError(str_cat("\\S inside a class is not supported: ", regex));
          str_append(&out, "[^", kSpaceClassBody, "]");
          break;
        case 'p': {
          const size_t close = regex.find('}', i);
          if (i + 1 >= regex.size() || regex[i + 1] != '{' || close == std::string_view::npos) {
            return absl::InvalidArgumentError(str_cat("malformed \\p in regex: ", regex));
          }
          const std::string_view name = regex.substr(i + 2, close - i - 2);
          // \p{S} is left out on purpose: llama.cpp's table for it misses ASCII '~'.
          if (name != "L" && name != "N" && name != "P" && name != "M") {
            return absl::InvalidArgumentError(str_cat("unsupported Unicode class \\p{", name, "} in ", regex));
          }
          str_append(&out, "\\p{", name, "}");
          i = close;
          break;
        }
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 'b':
        case 'B':
        case 'P':
          return absl::InvalidArgumentError(str_cat("unsupported escape \\", std::string(1, e), " in ", regex));
        default:
          out.push_back('\\');
          out.push_back(e);
      }
      continue;
    }
    if (c == '[') {
      if (in_class) {
        out.append("\\[");  // literal in ECMAScript; PCRE2 would read "[:" as a POSIX class
        continue;
      }
      in_class = true;
      out.push_back('[');
      if (i + 1 < regex.size() && regex[i + 1] == '^') out.push_back(regex[++i]);
      if (i + 1 < regex.size() && regex[i + 1] == ']') {
        return absl::InvalidArgumentError(str_cat("empty character class in ", regex));
      }
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out.push_back(c);
  }
  if (in_class) return absl::InvalidArgumentError(str_cat("unterminated character class in ", regex));
  return out;
}

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
};

PreTokenizer::PreTokenizer(std::vector<Compiled> regexes) : regexes_(std::move(regexes)) {}

PreTokenizer::~PreTokenizer() {
  for (Compiled& compiled : regexes_) pcre2_code_free(compiled.code);
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::create(const std::vector<std::string_view>& regexes) {
  std::vector<Compiled> compiled;
  // Frees what was compiled so far on any early return.
  struct Guard {
    std::vector<Compiled>* list;
    ~Guard() {
      if (list != nullptr) {
        for (Compiled& c : *list) pcre2_code_free(c.code);
      }
    }
  } guard{&compiled};
  for (std::string_view regex : regexes) {
    absl::StatusOr<std::string> pattern = translate_regex_for_pcre2(regex);
    if (!pattern.ok()) return pattern.status();
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern->data()), pattern->size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (code == nullptr) {
      return absl::InvalidArgumentError(str_cat("cannot compile pre-tokenizer regex '", regex, "' at offset ",
                                                error_offset, ": ", pcre2_error_text(error)));
    }
    // Without JIT support (some architectures) the interpreter gives the same matches, only slower.
    const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    compiled.push_back({code, jit});
  }
  guard.list = nullptr;
  return std::unique_ptr<PreTokenizer>(new PreTokenizer(std::move(compiled)));
}

void PreTokenizer::split(std::string_view text, std::string* normalized, std::vector<TextSpan>* words) const {
  SplitScratch& scratch = split_scratch();
  build_subject(text, normalized, &scratch.subject, &scratch.subject_to_text);
  const std::string& subject = scratch.subject;
  MatchState& state = match_state();

  std::vector<TextSpan>& fragments = scratch.fragments;
  std::vector<TextSpan>& next = scratch.next;
  fragments.clear();
  if (!subject.empty()) fragments.push_back({0, static_cast<uint32_t>(subject.size())});

  for (const Compiled& regex : regexes_) {
    next.clear();
    next.reserve(fragments.size() * 2);
    for (const TextSpan fragment : fragments) {
      // The fragment alone is the subject, so `$` and lookaheads end where llama.cpp's regex_iterator range ends.
      const auto* base = reinterpret_cast<PCRE2_SPTR>(subject.data() + fragment.begin);
      const PCRE2_SIZE length = fragment.end - fragment.begin;
      PCRE2_SIZE position = 0;
      PCRE2_SIZE gap_start = 0;
      uint32_t options = 0;
      while (position <= length) {
        int rc = regex.jit
                     ? pcre2_jit_match(regex.code, base, length, position, options, state.match_data, state.context)
                     : pcre2_match(regex.code, base, length, position, options | PCRE2_NO_UTF_CHECK, state.match_data,
                                   state.context);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && regex.jit) {
          // JIT stack exhausted: the interpreter keeps its backtracking frames on the heap.
          rc = pcre2_match(regex.code, base, length, position, options | PCRE2_NO_UTF_CHECK, state.match_data,
                           state.context);
        }
        if (rc == PCRE2_ERROR_NOMATCH && options != 0) {
          // No non-empty match where an empty one was: step over one character, as std::regex_iterator does.
          options = 0;
          if (position >= length) break;
          position += utf8_sequence_length(static_cast<char>(base[position]));
          continue;
        }
        if (rc < 0) break;  // no match, or a resource limit: the rest stays one fragment
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.match_data);
        const PCRE2_SIZE match_begin = ovector[0];
        const PCRE2_SIZE match_end = ovector[1];
        if (match_begin > gap_start) {
          next.push_back(
              {fragment.begin + static_cast<uint32_t>(gap_start), fragment.begin + static_cast<uint32_t>(match_begin)});
        }
        gap_start = match_end;
        if (match_end > match_begin) {
          next.push_back(
              {fragment.begin + static_cast<uint32_t>(match_begin), fragment.begin + static_cast<uint32_t>(match_end)});
          position = match_end;
          options = 0;
        } else {
          // An empty match still cuts the fragment; retry here for a non-empty one before moving on.
          position = match_end;
          options = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
        }
        if (position >= length && options == 0) break;
      }
      if (gap_start < length) {
        next.push_back({fragment.begin + static_cast<uint32_t>(gap_start), fragment.end});
      }
    }
    std::swap(fragments, next);
  }

  words->clear();
  words->reserve(fragments.size());
  const std::vector<uint32_t>& map = scratch.subject_to_text;
  for (const TextSpan fragment : fragments) {
    if (map.empty()) {
      words->push_back(fragment);
    } else {
      words->push_back({map[fragment.begin], map[fragment.end]});
    }
  }
}

}  // namespace strata
