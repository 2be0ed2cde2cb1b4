// Jinja2 expressions, filters, tests and Python methods. Expected strings follow jinja2 3.1
// and CPython semantics (str() of values, float repr, json.dumps separators).
#include <gtest/gtest.h>

#include "core/error.h"
#include "jinja_test_util.h"

namespace insitu::chat {
namespace {

using nlohmann::ordered_json;
using test::render;

ordered_json users() {
  return ordered_json::parse(
      R"({"users": [{"name": "a", "admin": true}, {"name": "b", "admin": false}, {"name": "c"}]})");
}

TEST(JinjaExpr, Arithmetic) {
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} "
                   "{{ 4 / 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7.5 // 2 }}"),
            "3 -4 1 2 1024 3.5 2.0 7 9 3.0");
  EXPECT_EQ(render("{{ 2 ** 3 ** 2 }}"), "64");  // jinja2's ** is left-associative
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none ~ true }}|{{ 'ab' * 2 }}|{{ [0] * 3 }}|{{ -3|abs }}"),
            "a1NoneTrue|abab|[0, 0, 0]|3");
  EXPECT_EQ(render("{{ true + 1 }} {{ 1 + 1.5 }} {{ '%.2f' % 3.14159 }} {{ '%s=%d' % ('x', 4) }}"),
            "2 2.5 3.14 x=4");
}

TEST(JinjaExpr, ComparisonsAndLogic) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ [1, 2] == [1, 2] }} "
                   "{{ 'a' != 'b' }} {{ none == none }}"),
            "True False True True True True");
  EXPECT_EQ(render("{{ 'ell' in 'hello' }} {{ 2 not in [1, 3] }} {{ 'a' in {'a': 1} }} "
                   "{{ not 0 }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ [] and 1 }}"),
            "True True True True x y []");
  EXPECT_EQ(render("{{ 1 if false }}|{{ 'x' if 1 > 2 else 'y' }}"), "|y");
}

TEST(JinjaExpr, LiteralsAndStr) {
  EXPECT_EQ(render("{{ [1, 'x', none, true, 1.5] }} {{ (1,) }} {{ () }} {{ {'a': [1, 'x']} }}"),
            "[1, 'x', None, True, 1.5] (1,) () {'a': [1, 'x']}");
  EXPECT_EQ(render(R"({{ ["it's", 'say "hi"', 'tab\there'] }})"),
            R"(["it's", 'say "hi"', 'tab\there'])");
  EXPECT_EQ(render(R"({{ 'a\nb' }}|{{ "q\"q" }}|{{ '\u00e9\x41' }}|{{ 'x' 'y' }})"),
            "a\nb|q\"q|\xc3\xa9"
            "A|xy");
  EXPECT_EQ(render("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 1e16 }} {{ 1.5e16 }} {{ 123456789.0 }} "
                   "{{ 3 * 1.0 }} {{ 0.0001 }} {{ -2.5 }} {{ 1_000 }}"),
            "1.0 0.30000000000000004 1e-05 1e+16 1.5e+16 123456789.0 3.0 0.0001 -2.5 1000");
}

TEST(JinjaExpr, SubscriptsAndSlices) {
  EXPECT_EQ(render("{{ 'abc'[1] }}{{ 'abc'[-1] }}{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}"
                   "{{ [1, 2, 3, 4][::2] }}{{ [1, 2, 3][-2:] }}{{ [1, 2, 3][5] is defined }}"),
            "bcelolleh[1, 3][2, 3]False");
  EXPECT_EQ(render("{{ s|length }} {{ s[1] }} {{ s[::-1] }} {{ s[1:3] }}",
                   {{"s", "h\xc3\xa9llo \xf0\x9f\xa6\x99"}}),
            "7 \xc3\xa9 \xf0\x9f\xa6\x99 oll\xc3\xa9h \xc3\xa9l");
  EXPECT_EQ(render("{{ d.a }} {{ d['a'] }} {{ d.items()|list }} {{ d.get('z', 5) }} "
                   "{{ d.keys()|list }} {{ d.values()|list }} {{ d.get('a') }}",
                   {{"d", {{"a", 1}}}}),
            "1 1 [('a', 1)] 5 ['a'] [1] 1");
  // Python attributes win over keys for getattr: d.items is the method, d['items'] the key.
  EXPECT_EQ(render("{{ d['items'] }} {{ d.items is callable }}", {{"d", {{"items", 7}}}}),
            "7 True");
}

TEST(JinjaExpr, StringMethods) {
  EXPECT_EQ(render("{{ '  x  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|"
                   "{{ 'abc'.startswith(('x', 'a')) }}|{{ 'Hello'.upper() }}|"
                   "{{ 'a-b'.replace('-', '+') }}|{{ 'xxhixx'.strip('x') }}|{{ 'abc'.find('c') }}"),
            "x|['a', 'b', '', 'c']|['a', 'b']|True|HELLO|a+b|hi|2");
  EXPECT_EQ(render("{{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} "
                   "{{ '\\n\\nx\\n'.lstrip('\\n') }} {{ 'hello world'.title() }} "
                   "{{ 'x.json'.endswith('.json') }} {{ '-'.join(['a', 'b']) }} "
                   "{{ 'abcabc'.count('b') }} {{ 'a</think>b'.split('</think>')[-1] }}"),
            "['a', 'b c'] ['a b', 'c'] x\n Hello World True a-b 2 b");
  EXPECT_EQ(render("{{ '{0}-{name}-{0:>3}-{1:.2f}'.format(1, 2.5, name='n') }}"), "1-n-  1-2.50");
}

TEST(JinjaFilters, JsonAndStrings) {
  EXPECT_EQ(render("{{ v|tojson }}",
                   {{"v", ordered_json::parse(R"({"a": [1, 2.5, null, true, "\u00e9\"\n"]})")}}),
            R"({"a": [1, 2.5, null, true, "é\"\n"]})");
  EXPECT_EQ(render("{{ {'a': [1, {}], 'b': []}|tojson(indent=2) }}"),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
  EXPECT_EQ(render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"), R"({"a": 2, "b": 1})");
  EXPECT_EQ(render("{{ '  hello world  '|trim|title }}|{{ 'hELLO'|capitalize }}|"
                   "{{ \"it's-a test(x)\"|title }}|{{ 'AbC'|lower }}{{ 'x'|upper }}"),
            "Hello World|Hello|It's-A Test(X)|abcX");
  EXPECT_EQ(render("{{ 'aaa'|replace('a', 'b', 2) }}|{{ '<a href=\"x\">&</a>'|e }}|"
                   "{{ 'ab'|center(6) }}|{{ 'hello big world'|wordcount }}|{{ 'xy'|safe }}"),
            "bba|&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;|  ab  |3|xy");
  EXPECT_EQ(render("{{ 'hello world foo bar'|truncate(9) }}|{{ 'hello world'|truncate(9) }}|"
                   "{{ '%s-%03d'|format('a', 7) }}|{{ '%(x)s!'|format(x=1) }}"),
            "hello...|hello world|a-007|1!");
}

TEST(JinjaFilters, Indent) {
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent(2) }}"), "a\n  b\n\n  c");
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent(2, true) }}"), "  a\n  b\n\n  c");
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent(2, blank=true) }}"), "a\n  b\n  \n  c");
  EXPECT_EQ(render("{{ '{\\n'|indent(4, first=true) }}"), "    {\n");
  EXPECT_EQ(render("{{ 'a\\nb'|indent('> ') }}"), "a\n> b");
}

TEST(JinjaFilters, Sequences) {
  EXPECT_EQ(
      render("{{ [1, 2, 3]|join(', ') }}|{{ [1, 2]|length }}{{ 'abc'|count }}"
             "{{ {'a': 1}|length }}|{{ [1, 2, 3]|first }}{{ [1, 2, 3]|last }}{{ 'abc'|last }}|"
             "{{ 'ab'|list }}|{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort }}|"
             "{{ [3, 1, 2]|sort(reverse=true) }}"),
      "1, 2, 3|231|13c|['a', 'b']|[1, 2, 3]|['A', 'b', 'c']|[3, 2, 1]");
  EXPECT_EQ(
      render("{{ ['a', 'A', 'b', 'a']|unique|list }} {{ ['a', 'A']|unique(true)|list }} "
             "{{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ {'b': 1, 'a': 2}|dictsort }}"),
      "['a', 'b'] ['a', 'A'] [3, 2, 1] cba [('a', 2), ('b', 1)]");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3, 4, 5]|batch(2, 0)|list }} "
                   "{{ [1, 2, 3, 4, 5]|slice(2)|list }}"),
            "[[1, 2], [3, 4], [5]] [[1, 2], [3, 4], [5, 0]] [[1, 2, 3], [4, 5]]");
  EXPECT_EQ(render("{{ [1, 2, 3]|sum }} {{ [3, 1, 2]|min }} {{ ['b', 'C', 'a']|max }} "
                   "{{ [[1], [2]]|sum(start=[]) }}"),
            "6 1 C [1, 2]");
}

TEST(JinjaFilters, SelectRejectMap) {
  ordered_json ctx = users();
  EXPECT_EQ(render("{{ users|selectattr('admin')|map(attribute='name')|join(',') }}", ctx), "a");
  EXPECT_EQ(render("{{ users|rejectattr('admin')|map(attribute='name')|list }}", ctx),
            "['b', 'c']");
  EXPECT_EQ(render("{{ users|selectattr('admin', 'defined')|list|length }}", ctx), "2");
  EXPECT_EQ(render("{{ users|selectattr('name', 'equalto', 'b')|first }}", ctx),
            "{'name': 'b', 'admin': False}");
  EXPECT_EQ(
      render(
          "{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('divisibleby', 2)|list }} "
          "{{ ['a', 'b']|map('upper')|join }} {{ [0, 1, '']|select|list }}"),
      "[1, 3] [1, 3] AB [1]");
  EXPECT_EQ(render("{{ users|map(attribute='missing', default='?')|join }}", ctx), "???");
  EXPECT_EQ(
      render("{{ users|sort(attribute='name', reverse=true)|map(attribute='name')|join }}", ctx),
      "cba");
  EXPECT_EQ(render("{{ none|selectattr('x')|list }}"), "[]");  // falsy input: no iteration
  // Filters like select return one-shot generators, as in jinja2: always truthy, no len().
  EXPECT_EQ(render("{{ 'yes' if ([]|select) else 'no' }}"), "yes");
  EXPECT_EQ(render("{% set g = [1, 2]|select %}{{ g|list }}{{ g|list }}"), "[1, 2][]");
  EXPECT_THROW(render("{{ [1, 2]|select|length }}"), Error);
  EXPECT_THROW(render("{{ [1, 2]|map('string')|tojson }}"), Error);
}

TEST(JinjaFilters, ConversionsAndDefaults) {
  EXPECT_EQ(render("{{ '42'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int(7) }} {{ '2.5'|float }} "
                   "{{ 3|float }} {{ 42|string ~ '!' }} {{ '0x1A'|int(base=16) }} {{ 3.9|int }}"),
            "43 3 7 2.5 3.0 42! 26 3");
  EXPECT_EQ(render("{{ 2.5|round }} {{ 3.14159|round(2) }} {{ 2.7|round(0, 'floor') }} "
                   "{{ 5|round }} {{ 2.675|round(2) }} {{ 3.5|round }}"),
            "2.0 3.14 2.0 5 2.67 4.0");
  EXPECT_EQ(render("{{ ''|default('x') }}|{{ ''|default('x', true) }}|{{ none|d('y', true) }}|"
                   "{{ missing|default('z') }}|{{ none|default('w') }}"),
            "|x|y|z|None");
  EXPECT_EQ(render("{{ d|items|list }}", {{"d", {{"k", "v"}}}}), "[('k', 'v')]");
}

TEST(JinjaTests, BuiltinTests) {
  EXPECT_EQ(render("{{ 1 is odd }}{{ 2 is even }}{{ 9 is divisibleby 3 }}{{ none is none }}"
                   "{{ 'a' is string }}{{ 1 is number }}{{ true is number }}{{ 1.0 is float }}"
                   "{{ 1 is integer }}{{ true is integer }}"),
            "TrueTrueTrueTrueTrueTrueTrueTrueTrueFalse");
  EXPECT_EQ(render("{{ {} is mapping }}{{ [] is sequence }}{{ 'x' is iterable }}"
                   "{{ 3 is iterable }}{{ x is defined }}{{ 3 is eq 3 }}{{ 3 is gt 2 }}"
                   "{{ 'a' is in 'abc' }}{{ true is true }}{{ 1 is true }}{{ range is callable }}"),
            "TrueTrueTrueFalseFalseTrueTrueTrueTrueFalseTrue");
  EXPECT_EQ(render("{{ 'ab' is lower }}{{ 'AB' is upper }}{{ x is not defined }}"
                   "{{ 1 is not none and 2 is number }}{{ 'upper' is filter }}"),
            "TrueTrueTrueTrueTrue");
}

TEST(JinjaGlobals, NamespaceRangeDictStrftime) {
  EXPECT_EQ(render("{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(3, 0, -1)|list }}"),
            "[0, 1, 2] [1, 3, 5] [3, 2, 1]");
  EXPECT_EQ(
      render("{{ dict(a=1, b='x') }} {% set ns = namespace(x=1) %}{{ ns.x }}{{ ns.y is defined }}"),
      "{'a': 1, 'b': 'x'} 1False");
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%d %b %Y') }}"),
            "2026-11-27 27 Nov 2026");
  EXPECT_EQ(render("{% set j = joiner('|') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %}"),
            "a|b|c");
}

}  // namespace
}  // namespace insitu::chat
