// Unit tests of the Jinja interpreter. The expected strings are what Python's Jinja2 renders for the same template
// and context with Hugging Face's apply_chat_template settings (trim_blocks, lstrip_blocks, loopcontrols, a tojson
// that is json.dumps), captured as data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/chat/template.h"
#include "nlohmann/json.hpp"

namespace strata::jinja {
namespace {

Value test_context() {
  // Ordered, so `d` iterates b before a, as the Python dict literal did.
  auto json = nlohmann::ordered_json::parse(R"({"items": [3, 1, 2], "d": {"b": 1, "a": 2}, "s": "  Hello World  ",
      "n": null, "msgs": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], "f": 2.5, "i": 7,
      "e": "", "users": [{"name": "a", "age": 3}, {"name": "b", "age": 5}, {"name": "c"}]})");
  return *value_from_json(json);
}

absl::StatusOr<std::string> render(std::string_view source, const Value& context = test_context(),
                                   const RenderLimits& limits = {}) {
  absl::StatusOr<Template> t = Template::parse(source);
  if (!t.ok()) return t.status();
  return t->render(context, limits);
}

struct Case {
  const char* source;
  const char* expected;
};

// Each row exercises a handful of features: operators, filters, tests, methods, loops, macros, scoping,
// whitespace control.
const std::vector<Case> kCases = {
    {"{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 2 ** 10 }}|{{ 1.5 + 1 "
     "}}|{{ 10 / 5 }}",
     "7|9|3|-4|2|3.5|1024|2.5|2.0"},
    {"{{ 'a' ~ 1 ~ none }}|{{ 'ab' * 3 }}|{{ [1,2] + [3] }}|{{ 'x' if true else 'y' }}|{{ 'x' if false }}|{{ not 1 "
     "}}|{{ 1 and 'b' }}|{{ 0 or 'z' }}",
     "a1None|ababab|[1, 2, 3]|x||False|b|z"},
    {"{{ s | trim }}|{{ s.strip() }}|{{ s.lstrip() }}.|{{ s.rstrip() }}.|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() "
     "}}|{{ 'a b c'.split(' ', 1) }}",
     "Hello World|Hello World|Hello World  .|  Hello World.|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']"},
    {"{{ 'hello world' | title }}|{{ 'hello wORLD' | capitalize }}|{{ 'hello-world foo(bar' | title }}|{{ 'hello "
     "world'.title() }}|{{ 'AbC' | upper }}{{ 'AbC' | lower }}",
     "Hello World|Hello world|Hello-World Foo(Bar|Hello World|ABCabc"},
    {"{{ items | length }}|{{ items | count }}|{{ 'héllo' | length }}|{{ d | length }}|{{ items | first }}|{{ items | "
     "last }}|{{ items | sort }}|{{ items | sort(reverse=true) }}|{{ items | reverse | list }}",
     "3|3|5|2|3|2|[1, 2, 3]|[3, 2, 1]|[2, 1, 3]"},
    {"{{ d | tojson }}|{{ msgs | tojson }}|{{ msgs | tojson(indent=2) }}|{{ [] | tojson }}|{{ {} | tojson(indent=2) "
     "}}|{{ 'é\"\\n' | tojson }}|{{ 1.0 | tojson }}|{{ [1, 2.5, none, true] | tojson }}",
     "{\"b\": 1, \"a\": 2}|[{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U\"}]|[\n  "
     "{\n    \"role\": \"system\",\n    \"content\": \"S\"\n  },\n  {\n    \"role\": \"user\",\n    \"content\": "
     "\"U\"\n  }\n]|[]|{}|\"é\\\"\\n\"|1.0|[1, 2.5, null, true]"},
    {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d | "
     "dictsort %}{{ k }}{{ v }}{% endfor %}",
     "b=1;a=2;|ba|a2b1"},
    {"{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ "
     "loop.revindex }}{{ loop.revindex0 }} {% endfor %}",
     "10TrueFalse332 21FalseFalse321 32FalseTrue310 "},
    {"{% for x in [] %}a{% else %}empty{% endfor %}|{% for m in msgs if m.role != 'system' %}{{ m.content }}{{ "
     "loop.length }}{% endfor %}",
     "empty|U1"},
    {"{% for x in items %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% "
     "endfor %}",
     "3"},
    {"{% set ns = namespace(found=false, n=0) %}{% for x in items %}{% set ns.n = ns.n + x %}{% if x == 1 %}{% set "
     "ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }}",
     "True 6"},
    {"{% set y = 1 %}{% for x in items %}{% set y = x %}{% endfor %}{{ y }}", "1"},
    {"{% macro greet(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Bob') }} {{ greet('Al', "
     "greeting='Yo') }} {{ greet(name='Z') }}",
     "Hi, Bob! Yo, Al! Hi, Z!"},
    {"{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside{% endcall %}", "[inside]"},
    {"{% macro li(x) %}<{{ caller(x) }}>{% endmacro %}{% call(v) li(5) %}v={{ v }}{% endcall %}", "<v=5>"},
    {"{{ undefined_var }}|{{ undefined_var is defined }}|{{ undefined_var is undefined }}|{{ n is none }}|{{ n is not "
     "none }}|{{ s is string }}|{{ d is mapping }}|{{ items is iterable }}|{{ i is number }}|{{ f is number }}|{{ "
     "items is sequence }}|{{ s is sequence }}",
     "|False|True|True|False|True|True|True|True|True|True|True"},
    {"{{ undefined_var | default('dflt') }}|{{ e | default('dflt') }}|{{ e | default('dflt', true) }}|{{ n | d('x') }}",
     "dflt||dflt|None"},
    {"{{ items[0] }}{{ items[-1] }}{{ items[1:] }}{{ items[::-1] }}{{ items[:2] }}{{ s[2:7] }}{{ 'abcdef'[::2] }}{{ "
     "'abc'[-1] }}{{ items[10] }}",
     "32[1, 2][2, 1, 3][3, 1]Helloacec"},
    {"{{ 'b' in 'abc' }}{{ 2 in items }}{{ 'a' in d }}{{ 'z' not in d }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 5 }}{{ 1 == 1.0 }}{{ "
     "'a' != 'b' }}",
     "TrueTrueTrueTrueTrueFalseTrueTrue"},
    {"{{ users | selectattr('name', 'equalto', 'b') | list | length }}|{{ [1,2,3,4] | select('odd') | list }}|{{ "
     "[1,2,3,4] | reject('even') | list }}|{{ ['a','b'] | map('upper') | join }}",
     "1|[1, 3]|[1, 3]|AB"},
    {"{{ 3.7 | int }}|{{ '42' | int }}|{{ 'x' | int }}|{{ '3.5' | float }}|{{ 3 | float }}|{{ 2.567 | round(2) }}|{{ "
     "2.5 | round }}|{{ 3.5 | round }}|{{ 2.1 | round(0, 'ceil') }}|{{ -3 | abs }}|{{ 42 | string }}",
     "3|42|0|3.5|3.0|2.57|2.0|4.0|3.0|3|42"},
    {"{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}",
     "a\n    b\n\n    c|  a\n  b|a\n  \n  b"},
    {"{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x','h')) }}{{ "
     "'a-b'.replace('-', '+') }}{{ 'aaa'.replace('a','b',2) }}{{ 'hello' | replace('l','L') }}",
     "TrueTrueTruea+bbbaheLLo"},
    {"{{ \"it's\" }}|{{ 'say \"hi\"' }}|{{ 'tab\\there' }}|{{ \"uni\\u00e9\" }}|{{ 'back\\\\slash' }}",
     "it's|say \"hi\"|tab\there|unié|back\\slash"},
    {"{{ [1, 'a', none, true, 1.5] }}|{{ {'a': [1, {'b': 'c'}]} }}|{{ none }}|{{ true }}|{{ 1e20 }}|{{ 1e-5 }}|{{ 0.1 "
     "+ 0.2 }}|{{ 1e16 }}|{{ 123.0 }}",
     "[1, 'a', None, True, 1.5]|{'a': [1, {'b': 'c'}]}|None|True|1e+20|1e-05|0.30000000000000004|1e+16|123.0"},
    {"{{ range(3) | list }}{{ range(1, 4) | list }}{{ range(10, 0, -3) | list }}|{% for i in range(2) %}{{ i }}{% "
     "endfor %}",
     "[0, 1, 2][1, 2, 3][10, 7, 4, 1]|01"},
    {"{{ dict(a=1, b=2) }}|{{ namespace(a=1).a }}|{{ ['x', 'y'] | join(', ') }}|{{ users | join(', ', "
     "attribute='name') }}",
     "{'a': 1, 'b': 2}|1|x, y|a, b, c"},
    {"{% filter upper %}shout {{ i }}{% endfilter %}|{{ -i | abs }}|{{ i is divisibleby 7 }}|{{ i is odd }}|{{ 4 is "
     "even }}",
     "SHOUT 7|7|True|True|True"},
    {"{% if i > 5 %}big{% elif i > 2 %}mid{% else %}small{% endif %}|{% if false %}a{% elif false %}b{% else %}c{% "
     "endif %}",
     "big|c"},
    {"{{ messages is defined }}|{{ msgs[0].role }}|{{ msgs[0]['role'] }}|{{ msgs[-1].content }}|{{ msgs[5] is defined "
     "}}",
     "False|system|system|U|False"},
    {"{{ 'abc' | list }}|{{ 'x' ~ 'y' | upper }}|{{ 'a' + 'b' | upper }}|{{ (('a' + 'b') | upper) }}",
     "['a', 'b', 'c']|xY|aB|AB"},
    {"{{ 'a'.upper() }}{{ 'A'.lower() }}|{{ 'a b'.title() }}|{{ 'x'.find('y') }}{{ 'xyz'.find('z') }}|{{ "
     "'aXbXc'.count('X') }}|{{ '-'.join(['a','b']) }}",
     "Aa|A B|-12|2|a-b"},
    {"{{ users[0].name }}{{ users[2].age }}|{{ users[2].age is defined }}|{{ users | map(attribute='name') | first }}",
     "a|False|a"},
    {"{%- for x in items -%}{{ loop.cycle('odd', 'even') }}{%- endfor %}|{% for x in items %}{{ loop.previtem }}-{{ "
     "loop.nextitem }},{% endfor %}",
     "oddevenodd|-1,3-2,1-,"},
    {"a\n{% if true %}\n  b\n{% endif %}\nc\n", "a\n  b\nc"},
    {"  {% if true %}x{% endif %}  \n", "x  "},
    {"line\n    {% for i in [1,2] %}\n    item{{ i }}\n    {% endfor %}\nend", "line\n    item1\n    item2\nend"},
    {"{{ 'a' }}  \n  {{ 'b' }}\n", "a  \n  b"},
    {"x {%- if true -%} y {%- endif -%} z", "xyz"},
    {"a\n  {%+ if true %}b{% endif %}\n", "a\n  b"},
    {"a {# comment #}\n b\n   {# c2 #}\nc", "a  b\nc"},
    {"{% if true %}\r\nA\r\n{% endif %}\r\n", "A\n"},
    {"a\n{{- ' b ' -}}\nc", "a b c"},
    {"  {{ 'x' }}\n{% set q = 1 %}\n  {{ q }}", "  x\n  1"},
    {"{% if true -%}\n\n  keep{%+ endif %}\nafter", "keepafter"},
    {"  {#- c -#}  x", "x"},
    {"{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}"},
    {"{% for m in msgs %}{{ m['role'] }}\n{% endfor %}", "system\nuser\n"},
    {"\n\n{% if true %}\n\n{% endif %}\n\n", "\n\n\n"},
};

TEST(JinjaTest, MatchesReferenceJinja) {
  for (const Case& c : kCases) {
    absl::StatusOr<std::string> out = render(c.source);
    ASSERT_TRUE(out.ok()) << c.source << "\n" << out.status();
    EXPECT_EQ(*out, c.expected) << c.source;
  }
}

TEST(JinjaTest, TuplesRenderAsLists) {
  // Python would show (1, 2); tuples are lists here, which only changes how one prints.
  EXPECT_EQ(*render("{% set t = (1, 2) %}{{ t }}|{{ t | tojson }}"), "[1, 2]|[1, 2]");
}

TEST(JinjaTest, RaiseExceptionCarriesTheMessage) {
  absl::StatusOr<std::string> out = render("a\n{{ raise_exception('Roles must alternate ' ~ 2) }}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "Roles must alternate 2");
}

TEST(JinjaTest, ErrorsNameTheLine) {
  struct ErrorCase {
    const char* source;
    const char* message_part;
  };
  const ErrorCase cases[] = {
      {"ok\n{% if %}", "line 2: unexpected '%}'"},
      {"{{ 1 +", "line 1:"},
      {"x\ny\n{% for x in items %}", "line 3: unexpected end of template, expected 'else'"},
      {"{% endfor %}", "unknown or unexpected statement 'endfor'"},
      {"{{ 'abc }}", "unterminated string literal"},
      {"{# never closed", "unterminated comment"},
      {"\n\n{{ foo.bar }}", "line 3: 'foo' is undefined"},
      {"{{ 'a' + 1 }}", "unsupported operand type(s) for +: 'str' and 'int'"},
      {"{{ msgs[0].missing.x }}", "has no attribute 'missing'"},
      {"{% for x in n %}{% endfor %}", "'NoneType' object is not iterable"},
      {"{{ 1 / 0 }}", "division by zero"},
      {"{{ items | frobnicate }}", "unknown filter 'frobnicate'"},
      {"{{ items is frobnicated }}", "unknown test 'frobnicated'"},
      {"{% set d = {'a': 1} %}{% set d.a = 2 %}", "only namespace() objects take attributes"},
      {"{{ items.append(4) }}", "'list object' has no attribute 'append'"},
      {"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "m() takes 1 arguments, 2 given"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<std::string> out = render(c.source);
    ASSERT_FALSE(out.ok()) << c.source;
    EXPECT_NE(out.status().message().find(c.message_part), std::string::npos)
        << c.source << " -> " << out.status().message();
  }
}

TEST(JinjaTest, UndefinedBehavesLikeJinjaDefault) {
  EXPECT_EQ(
      *render("[{{ nothing }}]{{ nothing is defined }}{{ nothing | length }}{% for x in nothing %}x{% endfor %}"
              "{{ 'a' in nothing }}{{ nothing ~ 'y' }}{{ nothing | default('d') }}{% if not nothing %}F{% endif %}"),
      "[]False0FalseydF");
  EXPECT_EQ(*render("{{ none.x is defined }}{{ msgs[9] is defined }}{{ d.zz is defined }}"), "FalseFalseFalse");
}

TEST(JinjaTest, StrftimeNowFormats) {
  absl::StatusOr<std::string> out = render("{{ strftime_now('%Y') }}");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), 4u);
}

TEST(JinjaTest, HostileTemplatesFailCleanly) {
  RenderLimits limits;
  const char* cases[] = {
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
      "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
      "{% macro m(x) %}{{ m(x ~ x) }}{% endmacro %}{{ m('a') }}",
      "{{ 'a' * 100000000000 }}",
      "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
      "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns | tojson }}",
      "{{ range(10**12) | length }}",
      "{{ 2 ** 1000 }}",
      "{{ 9223372036854775807 + 1 }}",
      "{{ (-9223372036854775807 - 1) // -1 }}",
      "{{ 'x' | indent(100000000) }}",
      "{{ 'abc'[::0] }}",
      "{{ 'a' | replace('', 'x' * 1000000) | replace('', 'y' * 1000) }}",
      "{% set ns = namespace(c=none) %}{% macro keep() %}{% set ns.c = caller %}{% endmacro %}"
      "{% call keep() %}x{% endcall %}{{ ns.c() }}",
      "{% for x in [1] %}{% set ns = namespace() %}{% endfor %}{% break %}",
  };
  for (const char* source : cases) {
    absl::StatusOr<std::string> out = render(source, Value(), limits);
    EXPECT_FALSE(out.ok()) << source;
  }
  // A namespace holding itself prints (bounded) instead of recursing forever.
  absl::StatusOr<std::string> cyclic = render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
  ASSERT_TRUE(cyclic.ok()) << cyclic.status();
  EXPECT_NE(cyclic->find("{...}"), std::string::npos);
}

TEST(JinjaTest, DeepNestingIsRejectedAtParse) {
  const std::string parens = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  std::string ifs;
  for (int i = 0; i < 50000; ++i) ifs += "{% if true %}";
  std::string elifs = "{% if false %}a";
  for (int i = 0; i < 50000; ++i) elifs += "{% elif false %}b";
  elifs += "{% endif %}";
  for (const std::string& source :
       {parens, ifs, elifs, "{{ " + std::string(100000, '-') + "1 }}", "{{ " + std::string(100000, '[')}) {
    absl::StatusOr<Template> t = Template::parse(source);
    EXPECT_FALSE(t.ok());
  }
}

TEST(JinjaTest, OutputLimitIsEnforced) {
  RenderLimits limits;
  limits.max_output_bytes = 1000;
  absl::StatusOr<std::string> out = render("{% for i in range(2000) %}x{% endfor %}", Value(), limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace strata::jinja
