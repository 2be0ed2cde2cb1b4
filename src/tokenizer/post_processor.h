// Post-processors of tokenizer.json ("post_processor" field). Only what changes the ids of a
// single sequence matters here: the special tokens a template wraps around it.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace insitu::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Called when encoding with add_special_tokens.
  virtual void process(std::vector<int32_t>& ids) const = 0;
};

// Returns nullptr for a JSON null.
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j,
                                                   const std::string& where);

}  // namespace insitu::tok
