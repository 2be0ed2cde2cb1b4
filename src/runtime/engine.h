// Everything a front end needs to talk to one model: weights, tokenizer, chat template and
// the stop tokens (eos ids of generation_config.json and config.json).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace insitu {

struct EngineOptions {
  std::string model_dir;
  LoadOptions load;  // threads, in-situ quantization policy, progress
};

class Engine {
 public:
  static std::unique_ptr<Engine> load(const EngineOptions& options);

  Model& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  // nullptr when the model ships no chat template.
  const chat::ChatTemplate* chat_template() const {
    return chat_template_ ? &*chat_template_ : nullptr;
  }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  double load_seconds() const { return load_seconds_; }

 private:
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::optional<chat::ChatTemplate> chat_template_;
  std::vector<int32_t> eos_ids_;
  double load_seconds_ = 0;
};

// eos ids from generation_config.json and config.json (both optional), deduplicated.
std::vector<int32_t> read_eos_ids(const std::string& model_dir);

}  // namespace insitu
