// Pre-tokenizers of tokenizer.json ("pre_tokenizer" field): they cut normalized text into the
// words the model tokenizes independently, and may rewrite them (ByteLevel, Metaspace).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace insitu::tok {

struct Piece {
  std::string text;
  // The piece starts at offset 0 of the original input (Metaspace's prepend_scheme "first").
  bool at_origin = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their splits; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

// Returns nullptr for a JSON null.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& where);

}  // namespace insitu::tok
