#include "tokenizer/tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/added_vocab.h"
#include "tokenizer/decoder.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace insitu {

using nlohmann::json;

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& tokenizer_json_path) {
  const std::string& path = tokenizer_json_path;
  std::string text = read_text_file(path);  // kNotFound naming the path
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, path + ": malformed JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(ErrorCode::kCorruptFile, path + ": top level is not an object");
  Tokenizer t;
  t.path_ = path;
  try {
    auto field = [&j](const char* key) -> const json& {
      static const json kNull;
      auto it = j.find(key);
      return it == j.end() ? kNull : *it;
    };
    if (!j.contains("model")) throw Error(ErrorCode::kCorruptFile, path + ": model: missing");
    t.model_ = tok::make_model(j["model"], path + ": model");
    t.normalizer_ = tok::make_normalizer(field("normalizer"), path + ": normalizer");
    t.pre_tokenizer_ = tok::make_pre_tokenizer(field("pre_tokenizer"), path + ": pre_tokenizer");
    t.decoder_ = tok::make_decoder(field("decoder"), path + ": decoder");
    t.post_processor_ =
        tok::make_post_processor(field("post_processor"), path + ": post_processor");
    t.added_ = std::make_unique<tok::AddedVocab>(field("added_tokens"), t.normalizer_.get(),
                                                 path + ": added_tokens");
  } catch (const json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, path + ": malformed field: " + e.what());
  }
  t.byte_fallback_decoder_ = t.decoder_ && t.decoder_->uses_byte_fallback();
  return t;
}

Tokenizer Tokenizer::from_dir(const std::string& dir) {
  const std::string json_path = dir + "/tokenizer.json";
  if (!std::filesystem::exists(json_path))
    throw Error(ErrorCode::kNotFound, json_path + ": not found (the tokenizer of " + dir + ")");
  Tokenizer t = from_file(json_path);
  const std::string config_path = dir + "/tokenizer_config.json";
  if (std::filesystem::exists(config_path)) t.load_config(config_path);
  return t;
}

void Tokenizer::load_config(const std::string& config_path) {
  json j;
  try {
    j = json::parse(read_text_file(config_path));
  } catch (const json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, config_path + ": malformed JSON: " + e.what());
  }
  // bos_token/eos_token: a string or an AddedToken object {"content": ...}; null when absent.
  auto lookup = [&](const char* key) -> std::optional<int32_t> {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    std::string content;
    if (it->is_string()) {
      content = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      content = (*it)["content"].get<std::string>();
    } else {
      return std::nullopt;
    }
    int32_t id = token_to_id(content);
    if (id < 0)
      throw Error(ErrorCode::kCorruptFile,
                  config_path + ": " + key + ": '" + content + "' is not a token");
    return id;
  };
  bos_id_ = lookup("bos_token");
  eos_id_ = lookup("eos_token");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::string repaired;
  if (!tok::is_valid_utf8(text)) {
    repaired = tok::utf8_lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  for (const tok::Segment& seg : added_->split(text, /*normalized_set=*/false)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
    } else {
      encode_segment(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
    }
  }
  if (add_special_tokens && post_processor_) post_processor_->process(ids);
  return ids;
}

void Tokenizer::encode_segment(std::string_view text, bool at_origin,
                               std::vector<int32_t>& out) const {
  std::string normalized(text);
  if (normalizer_) normalizer_->normalize(normalized);
  if (normalized.empty()) return;
  std::vector<tok::Segment> segments;
  if (added_->has_normalized_tokens()) {
    segments = added_->split(normalized, /*normalized_set=*/true);
  } else {
    segments.push_back({-1, 0, normalized.size()});
  }
  std::vector<tok::Piece> pieces;
  for (const tok::Segment& seg : segments) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    pieces.clear();
    pieces.push_back(
        {normalized.substr(seg.begin, seg.end - seg.begin), at_origin && seg.begin == 0});
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    for (const tok::Piece& p : pieces)
      if (!p.text.empty()) model_->tokenize(p.text, out);
  }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const tok::AddedToken* a = added_->find(id)) {
      if (!(skip_special_tokens && a->special)) tokens.push_back(a->content);
    } else if (const std::string* t = model_->id_to_token(id)) {
      tokens.push_back(*t);
    }
  }
  if (!decoder_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out.append(tokens[i]);
    }
    return out;
  }
  decoder_->decode_chain(tokens);
  std::string out;
  for (const std::string& t : tokens) out.append(t);
  return out;
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  int32_t id = added_->token_to_id(token);
  return id >= 0 ? id : model_->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (const tok::AddedToken* a = added_->find(id)) return a->content;
  const std::string* t = model_->id_to_token(id);
  return t ? *t : std::string();
}

size_t Tokenizer::vocab_size() const {
  return std::max(model_->vocab_size(), static_cast<size_t>(added_->max_id() + 1));
}

bool Tokenizer::is_special(int32_t id) const {
  const tok::AddedToken* a = added_->find(id);
  return a && a->special;
}

}  // namespace insitu
