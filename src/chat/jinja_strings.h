// Python str semantics over UTF-8 std::string, as the Jinja2 engine needs them.
//
// Python strings are sequences of code points; ours are UTF-8 bytes. Invalid UTF-8 bytes are
// decoded to lone surrogates U+DC80..U+DCFF (Python's "surrogateescape") so that decoding and
// re-encoding is lossless and never fails: template text comes from untrusted files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace insitu::chat::jinja {

std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);
bool is_ascii(std::string_view s);
size_t utf8_length(std::string_view s);  // in code points

bool py_isspace(char32_t c);      // str.isspace for one character
bool py_isprintable(char32_t c);  // str.isprintable for one character
char32_t py_toupper(char32_t c);
char32_t py_tolower(char32_t c);
bool py_isupper(char32_t c);
bool py_islower(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdigit(char32_t c);

// str.strip / lstrip / rstrip; chars == nullopt strips whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right);
// str.split / str.rsplit; sep == nullopt splits on whitespace runs. maxsplit < 0: no limit.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  long long maxsplit, bool from_right);
std::vector<std::string> py_splitlines(std::string_view s, bool keepends);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);  // first upper, rest lower
std::string py_title(std::string_view s);       // str.title
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       long long count);
long long py_count(std::string_view s, std::string_view sub);

// repr() of a str: quotes and escapes as CPython does.
std::string py_repr_string(std::string_view s);
// repr() of a float: shortest round-trip digits, 'e' notation outside [1e-4, 1e16).
std::string py_float_repr(double d);
// json.dumps string encoding with ensure_ascii=False.
void json_escape_into(std::string& out, std::string_view s);

}  // namespace insitu::chat::jinja
