// UTF-8 and Unicode helpers for the tokenizer, matching the character classes the HF
// `tokenizers` library (Rust) uses: char::is_whitespace, is_alphanumeric, is_numeric and
// Unicode punctuation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace insitu::tok {

// Decodes the code point at s[pos] and advances pos; invalid bytes yield U+FFFD and advance
// one byte. Requires pos < s.size().
char32_t next_code_point(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);
// Length in bytes of the UTF-8 character starting with lead byte b (1 for invalid leads).
inline size_t utf8_char_len(uint8_t b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;
}

bool is_valid_utf8(std::string_view s);
// Replaces every maximal invalid subsequence with U+FFFD, like Rust's from_utf8_lossy.
std::string utf8_lossy(std::string_view s);

bool is_whitespace(char32_t c);       // Unicode White_Space (Rust char::is_whitespace)
bool is_numeric(char32_t c);          // general category N*
bool is_alphanumeric(char32_t c);     // L* or N*
bool is_punctuation(char32_t c);      // ASCII punctuation or general category P*
bool is_word_char(char32_t c);        // regex \w: L*, M*, Nd, Pc
bool is_mark_nonspacing(char32_t c);  // Mn

// GPT-2's byte <-> printable-character table used by the ByteLevel pre-tokenizer/decoder.
// byte_to_unicode()[b] is the UTF-8 encoding of the character standing for byte b.
const std::string* byte_to_unicode();
// Maps a character back to its byte; -1 if the character is not in the table.
int unicode_to_byte(char32_t c);

}  // namespace insitu::tok
