#include "runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"

namespace insitu {

std::vector<int32_t> read_eos_ids(const std::string& model_dir) {
  std::vector<int32_t> ids;
  for (const char* name : {"generation_config.json", "config.json"}) {
    const std::string path = model_dir + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    auto j = nlohmann::json::parse(read_text_file(path), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("eos_token_id")) continue;
    const auto& e = j["eos_token_id"];
    auto add = [&](const nlohmann::json& v) {
      if (v.is_number_integer()) {
        const int32_t id = v.get<int32_t>();
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    };
    if (e.is_array()) {
      for (const auto& v : e) add(v);
    } else {
      add(e);
    }
  }
  return ids;
}

std::unique_ptr<Engine> Engine::load(const EngineOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  auto e = std::make_unique<Engine>();
  const std::string& dir = options.model_dir;
  if (!std::filesystem::is_directory(dir))
    throw Error(ErrorCode::kNotFound, dir + ": model directory not found");
  // Tokenizer first: it is cheap, and a missing tokenizer should fail before weights load.
  e->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_dir(dir));
  e->model_ = Model::load(dir, options.load);
  if (std::filesystem::exists(dir + "/chat_template.jinja") ||
      std::filesystem::exists(dir + "/tokenizer_config.json")) {
    try {
      e->chat_template_ = chat::ChatTemplate::from_dir(dir);
    } catch (const Error& err) {
      if (err.code() != ErrorCode::kNotFound) throw;
    }
  }
  e->eos_ids_ = read_eos_ids(dir);
  if (auto eos = e->tokenizer_->eos_id())
    if (std::find(e->eos_ids_.begin(), e->eos_ids_.end(), *eos) == e->eos_ids_.end())
      e->eos_ids_.push_back(*eos);
  e->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace insitu
