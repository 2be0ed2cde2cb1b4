// Jinja2 syntax and statements: whitespace control, loops, scoping, macros, blocks, errors.
// Expected strings follow jinja2 3.1 semantics with trim_blocks and lstrip_blocks on.
#include <gtest/gtest.h>

#include "core/error.h"
#include "jinja_test_util.h"

namespace insitu::chat {
namespace {

using nlohmann::ordered_json;
using test::render;

// The error message of rendering `source`, or "" if it rendered.
std::string error_of(const std::string& source, const ordered_json& ctx = ordered_json::object(),
                     const jinja::RenderLimits& limits = {}) {
  try {
    render(source, ctx, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaWhitespace, TrimBlocksEatsOneNewlineAfterBlockTags) {
  EXPECT_EQ(render("{% if true %}\nyes\n{% endif %}\nafter"), "yes\nafter");
  EXPECT_EQ(render("{{ 1 }}\n2"), "1\n2");                   // not after expressions
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");  // '+%}' keeps it
  EXPECT_EQ(render("a {# note #}\nb"), "a b");               // comments trim too
}

TEST(JinjaWhitespace, LstripBlocksRemovesIndentBeforeBlockTags) {
  EXPECT_EQ(render("  {% if true %}\n  x\n  {% endif %}\n"), "  x\n");
  EXPECT_EQ(render("  {{ 'a' }}"), "  a");  // not before expressions
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(render("{{ 'a' }}  {% if true %}b{% endif %}"), "a  b");  // not mid-line
  EXPECT_EQ(render("x\n\t {# c #}\ny"), "x\ny");
}

TEST(JinjaWhitespace, DashStripsAllWhitespace) {
  EXPECT_EQ(render("a  \n  {%- if true -%}  \n  b  {%- endif %}"), "ab");
  EXPECT_EQ(render("x {{- 1 -}} y"), "x1y");
  EXPECT_EQ(render("x\n{#- c -#}\ny"), "xy");
}

TEST(JinjaWhitespace, TrailingNewlineAndLineEndings) {
  EXPECT_EQ(render("x\n"), "x");
  EXPECT_EQ(render("x\n\n"), "x\n");
  EXPECT_EQ(render("a\r\nb\rc"), "a\nb\nc");
}

TEST(JinjaWhitespace, RawBlocks) {
  EXPECT_EQ(render("{% raw %}{{ x }}{% if %}{% endraw %}"), "{{ x }}{% if %}");
  EXPECT_EQ(render("a {%- raw -%} b {%- endraw -%} c"), "abc");
}

TEST(JinjaLoops, LoopVariables) {
  EXPECT_EQ(render("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                   "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|"
                   "{% endfor %}"),
            "1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|");
  EXPECT_EQ(render("{% for x in 'abc' %}{{ loop.previtem|default('-') }}{{ x }}"
                   "{{ loop.nextitem|default('-') }} {% endfor %}"),
            "-ab abc bc- ");
  EXPECT_EQ(render("{% for x in range(4) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}"), "abca");
}

TEST(JinjaLoops, ElseFilterBreakContinue) {
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}"
                   "{% endfor %}"),
            "1,3,5,7,9");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}"
                   "{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "0134");
}

TEST(JinjaLoops, UnpackingAndDicts) {
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}={{ v }};{% endfor %}"),
            "a=1;b=2;");
  EXPECT_EQ(render("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}"), "ba");
  EXPECT_EQ(render("{% for a, b in [[1, 2], 'xy'] %}{{ a }}{{ b }}{% endfor %}"), "12xy");
  EXPECT_NE(error_of("{% for a, b in [[1, 2, 3]] %}{% endfor %}").find("ValueError"),
            std::string::npos);
}

TEST(JinjaScoping, ForScopesIfDoesNot) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"),
            "21");
  EXPECT_EQ(render("{% if true %}{% set y = 3 %}{% endif %}{{ y }}"), "3");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(4) %}"
                   "{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(render("{% set messages = messages + [1] %}{{ messages }}"), "[1]");
}

TEST(JinjaMacros, ArgumentsAndDefaults) {
  EXPECT_EQ(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                   "{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }}"),
            "Hi A! Hi B? Hi C.");
  EXPECT_EQ(render("{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}"), "[1|]");
  EXPECT_EQ(render("{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}"
                   "{{ m(1, 2, 3, x=4) }}"),
            "1(2, 3){'x': 4}");
  EXPECT_NE(error_of("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").find("TypeError"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}").find("TypeError"),
            std::string::npos);
  // Only macros that use `caller` accept one.
  EXPECT_NE(
      error_of("{% macro m() %}x{% endmacro %}{% call m() %}y{% endcall %}").find("TypeError"),
      std::string::npos);
}

TEST(JinjaMacros, RecursionCallerAndClosures) {
  EXPECT_EQ(render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                   "{{ f(3) }}"),
            "321");
  EXPECT_EQ(render("{% macro wrap() %}<{{ caller() }}>{% endmacro %}"
                   "{% call wrap() %}inner{% endcall %}"),
            "<inner>");
  EXPECT_EQ(render("{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}"
                   "{% endmacro %}{% call(x) each([1, 2]) %}[{{ x }}]{% endcall %}"),
            "[1][2]");
  // Macros read template variables at call time.
  EXPECT_EQ(render("{% macro m() %}{{ v }}{% endmacro %}{% set v = 1 %}{{ m() }}"
                   "{% set v = 2 %}{{ m() }}"),
            "12");
}

TEST(JinjaBlocks, SetBlockAndFilterBlock) {
  EXPECT_EQ(render("{% set s %}  hi  {% endset %}[{{ s }}]"), "[  hi  ]");
  EXPECT_EQ(render("{% set s | trim | upper %}  hi  {% endset %}[{{ s }}]"), "[HI]");
  EXPECT_EQ(render("{% filter upper %}abc{{ 'd' }}{% endfilter %}"), "ABCD");
  EXPECT_EQ(render("{% generation %}x{% endgeneration %}"), "x");
}

TEST(JinjaErrors, RaiseExceptionCarriesMessage) {
  std::string e = error_of("{{ raise_exception('boom here') }}");
  EXPECT_EQ(e.substr(0, 25), "TemplateError: boom here ");
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
  EXPECT_NE(error_of("line1\n{% if %}").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("a\nb\n{% for x in y %}").find("TemplateSyntaxError"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 + }}").find("TemplateSyntaxError"), std::string::npos);
  std::string unknown = error_of("x\n\n{% foo %}");
  EXPECT_NE(unknown.find("'foo'"), std::string::npos);
  EXPECT_NE(unknown.find("line 3"), std::string::npos);
  EXPECT_NE(error_of("{{ x|nofilter }}").find("No filter named 'nofilter'"), std::string::npos);
  EXPECT_NE(error_of("{{ x is nottest }}").find("No test named 'nottest'"), std::string::npos);
  EXPECT_NE(error_of("{% break %}").find("TemplateSyntaxError"), std::string::npos);
  EXPECT_NE(error_of("{# open").find("Missing end of comment"), std::string::npos);
  EXPECT_NE(error_of("{{ 'open }}").find("TemplateSyntaxError"), std::string::npos);
  EXPECT_NE(error_of("{% endif %}").find("TemplateSyntaxError"), std::string::npos);
}

TEST(JinjaErrors, RuntimeErrorsLikePython) {
  EXPECT_EQ(error_of("{% for x in none %}{% endfor %}")
                .rfind("TypeError: 'NoneType' object is not iterable", 0),
            0u);
  EXPECT_EQ(error_of("{{ missing.attr }}").rfind("UndefinedError: 'missing' is undefined", 0), 0u);
  EXPECT_EQ(error_of("{{ 'a' + missing }}").rfind("UndefinedError", 0), 0u);
  EXPECT_EQ(error_of("{{ 'a' + 1 }}").rfind("TypeError: can only concatenate str", 0), 0u);
  EXPECT_EQ(error_of("{{ 1 / 0 }}").rfind("ZeroDivisionError", 0), 0u);
  EXPECT_EQ(error_of("{% set l = [] %}{{ l.append(1) }}").rfind("SecurityError", 0), 0u);
  EXPECT_EQ(error_of("{% set x = 1 %}{% set x.a = 2 %}").rfind("TemplateRuntimeError", 0), 0u);
  EXPECT_EQ(error_of("{{ {}.a.b }}").rfind("UndefinedError: 'dict object' has no attribute 'a'", 0),
            0u);
  // Undefined values are lenient where jinja2's default Undefined is.
  EXPECT_EQ(render("[{{ missing }}][{{ missing|length }}][{% for x in missing %}x{% endfor %}]"
                   "[{{ missing ~ 'a' }}][{{ 'x' if missing else 'y' }}]"),
            "[][0][][a][y]");
}

TEST(JinjaLimits, HostileTemplatesStopWithErrors) {
  jinja::RenderLimits small;
  small.max_steps = 100000;
  small.max_output_bytes = 1 << 16;
  EXPECT_EQ(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                     "{% endfor %}",
                     ordered_json::object(), small)
                .rfind("LimitError", 0),
            0u);
  EXPECT_EQ(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").rfind("RecursionError", 0),
            0u);
  EXPECT_EQ(error_of("{{ range(1000000) }}").rfind("OverflowError", 0), 0u);
  EXPECT_EQ(error_of("{{ 'x' * 100000 }}", ordered_json::object(), small).rfind("LimitError", 0),
            0u);
  EXPECT_EQ(error_of("{% set ns = namespace(s='ab') %}{% for i in range(100) %}"
                     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                     ordered_json::object(), small)
                .rfind("LimitError", 0),
            0u);
  EXPECT_EQ(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}")
                .find("TemplateSyntaxError"),
            0u);
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_EQ(error_of(chain + " }}").find("TemplateSyntaxError"), 0u);
  // A namespace that contains itself prints without recursing forever and is freed.
  EXPECT_EQ(
      error_of("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}").rfind("RecursionError", 0),
      0u);
}

}  // namespace
}  // namespace insitu::chat
