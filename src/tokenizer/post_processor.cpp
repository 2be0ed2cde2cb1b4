#include "tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace insitu::tok {
namespace {

using nlohmann::json;

// The sequence is spliced between fixed prefix and suffix ids (TemplateProcessing's "single",
// RobertaProcessing, BertProcessing all reduce to this for one sequence).
class WrapProcessor : public PostProcessor {
 public:
  WrapProcessor(std::vector<int32_t> prefix, std::vector<int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void process(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

class IdentityProcessor : public PostProcessor {
 public:
  void process(std::vector<int32_t>&) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> items)
      : items_(std::move(items)) {}
  void process(std::vector<int32_t>& ids) const override {
    for (const auto& p : items_) p->process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

std::unique_ptr<PostProcessor> make_template(const json& j, const std::string& where) {
  const json& single = j.at("single");
  const json& specials = j.contains("special_tokens") ? j["special_tokens"] : json::object();
  std::vector<int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const json& item = single[i];
    std::string field = where + ".single[" + std::to_string(i) + "]";
    if (item.contains("Sequence")) {
      if (item["Sequence"].value("id", std::string("A")) != "A")
        throw Error(ErrorCode::kCorruptFile, field + ": single template refers to sequence B");
      seen_sequence = true;
    } else if (item.contains("SpecialToken")) {
      std::string name = item["SpecialToken"].at("id").get<std::string>();
      if (!specials.contains(name))
        throw Error(ErrorCode::kCorruptFile,
                    field + ": special token '" + name + "' missing from special_tokens");
      for (const json& id : specials[name].at("ids"))
        (seen_sequence ? suffix : prefix).push_back(id.get<int32_t>());
    } else {
      throw Error(ErrorCode::kCorruptFile, field + ": expected Sequence or SpecialToken");
    }
  }
  return std::make_unique<WrapProcessor>(std::move(prefix), std::move(suffix));
}

int32_t pair_id(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2)
    throw Error(ErrorCode::kCorruptFile, where + "." + key + ": expected [token, id]");
  return j[key][1].get<int32_t>();
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(ErrorCode::kCorruptFile, where + ": expected an object with a string 'type'");
  const std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> items;
    const json& list = j.at("processors");
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_post_processor(list[i], where + ".processors[" + std::to_string(i) + "]");
      if (p) items.push_back(std::move(p));
    }
    return std::make_unique<SequenceProcessor>(std::move(items));
  }
  if (type == "TemplateProcessing") return make_template(j, where);
  // ByteLevel's post-processing only trims offsets, which insitu does not report.
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return std::make_unique<WrapProcessor>(std::vector<int32_t>{pair_id(j, "cls", where)},
                                           std::vector<int32_t>{pair_id(j, "sep", where)});
  }
  throw Error(ErrorCode::kUnsupported, where + ".type: unsupported post_processor '" + type + "'");
}

}  // namespace insitu::tok
