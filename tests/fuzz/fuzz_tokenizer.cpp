// libFuzzer target: encodes arbitrary bytes with the bundled demo tokenizer (byte-level BPE)
// and checks the round trip. Byte-level BPE is lossless up to its NFC normalizer, so for valid
// UTF-8 input decode(encode(x)) must equal NFC(x); streaming the ids must give the same text.
// Invalid UTF-8 must simply not crash. INSITU_FUZZ_TOKENIZER overrides the tokenizer path.
#include <utf8proc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

const insitu::Tokenizer& demo_tokenizer() {
  static const insitu::Tokenizer tok = [] {
    if (const char* p = std::getenv("INSITU_FUZZ_TOKENIZER"))
      return insitu::Tokenizer::from_file(p);
    // This file is tests/fuzz/fuzz_tokenizer.cpp; the demo model is models/demo-llama-14m.
    std::string here = __FILE__;
    std::string root = here.substr(0, here.rfind("tests/fuzz/"));
    if (root.empty()) root = "./";
    return insitu::Tokenizer::from_file(root + "models/demo-llama-14m/tokenizer.json");
  }();
  return tok;
}

std::string nfc(const std::string& s) {
  if (s.empty()) return s;
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) std::abort();
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

void fail(const char* what, const std::string& input) {
  std::fprintf(stderr, "fuzz_tokenizer: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const insitu::Tokenizer& tok = demo_tokenizer();
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids = tok.encode(input, false);
  for (int32_t id : ids)
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) fail("id out of range", input);
  std::string text = tok.decode(ids, false);
  if (!insitu::tok::is_valid_utf8(text)) fail("decode produced invalid UTF-8", input);
  if (insitu::tok::is_valid_utf8(input) && text != nfc(input))
    fail("decode(encode(x)) != NFC(x)", input);

  insitu::StreamDecoder stream(tok, /*skip_special=*/false);
  std::string streamed;
  for (int32_t id : ids) {
    std::string chunk = stream.push(id);
    if (!insitu::tok::is_valid_utf8(chunk)) fail("stream chunk is not valid UTF-8", input);
    streamed += chunk;
  }
  streamed += stream.flush();
  if (streamed != text) fail("streamed text differs from decode()", input);

  (void)tok.encode(input, true);
  return 0;
}
