// libFuzzer target: the safetensors header parser on arbitrary file images. Any input must
// either parse or throw insitu::Error; a parsed tensor's bytes must lie inside the input, which
// the reads below let ASan check (libFuzzer hands over an exactly-sized heap copy).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"
#include "io/safetensors/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> metadata;
  try {
    const auto tensors = insitu::SafetensorsFile::parse(data, size, "fuzz.safetensors", &metadata);
    volatile uint8_t sink = 0;
    for (const auto& t : tensors) {
      if (t.nbytes == 0) continue;
      if (t.data < data || t.data + t.nbytes > data + size || t.numel() < 0) __builtin_trap();
      sink = sink ^ t.data[0] ^ t.data[t.nbytes - 1];
    }
  } catch (const insitu::Error&) {
  }
  return 0;
}
