// Normalizers of tokenizer.json ("normalizer" field). Each rewrites a piece of text in place;
// the tokenizer applies the chain to every piece left between added tokens.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace insitu::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Returns nullptr for a JSON null. `where` is the field path used in error messages.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& where);

}  // namespace insitu::tok
