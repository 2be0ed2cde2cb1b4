// Decoders of tokenizer.json ("decoder" field). HF semantics: each decoder maps the list of
// token strings to a new list (decode_chain); the final text is the concatenation.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace insitu::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
  // Whether <0xNN> tokens are turned into bytes somewhere in this decoder.
  virtual bool uses_byte_fallback() const { return false; }
};

// Returns nullptr for a JSON null (tokens are then joined with spaces, as HF does).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, const std::string& where);

}  // namespace insitu::tok
