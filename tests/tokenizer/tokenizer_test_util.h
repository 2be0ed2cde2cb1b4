// Shared helpers for the tokenizer tests: cached tokenizers and JSON reference files.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/mapped_file.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace insitu::test {

// Loading the 128k/151k-vocabulary tokenizers takes a while; every test shares one instance.
inline const Tokenizer& cached_tokenizer(const std::string& path) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[path];
  if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::from_file(path));
  return *slot;
}

inline const nlohmann::json& cached_json(const std::string& path) {
  static std::map<std::string, nlohmann::json> cache;
  auto it = cache.find(path);
  if (it == cache.end())
    it = cache.emplace(path, nlohmann::json::parse(read_text_file(path))).first;
  return it->second;
}

inline std::string tokenizers_dir() {
  return shared_dir() + "/tokenizers";
}

inline std::vector<int32_t> to_ids(const nlohmann::json& j) {
  return j.get<std::vector<int32_t>>();
}

}  // namespace insitu::test
