// Checkpoint discovery: a single file, a Hugging Face shard index
// ({"metadata": {...}, "weight_map": {"tensor": "model-00001-of-00002.safetensors", ...}}),
// or a directory of *.safetensors files.
#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "core/error.h"
#include "io/json/strict_json.h"
#include "io/safetensors/safetensors.h"

namespace insitu {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_file_noexcept(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Shard names come from an untrusted file: keep them inside the checkpoint directory.
bool is_safe_relative(const std::string& name) {
  if (name.empty()) return false;
  const fs::path p(name);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

// weight_map of an index file: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
  using Json = nlohmann::json;
  const Json root = parse_strict_json(read_text_file(index_path), index_path, "shard index");
  auto fail = [&](const std::string& msg) {
    throw Error(ErrorCode::kCorruptFile, index_path + ": " + msg);
  };
  if (!root.is_object()) fail("index is not a JSON object");
  auto it = root.find("weight_map");
  if (it == root.end()) fail("missing \"weight_map\"");
  if (!it->is_object()) fail("\"weight_map\" is not a JSON object");
  std::map<std::string, std::string> map;
  for (const auto& [tensor, shard] : it->items()) {
    if (!shard.is_string())
      fail("\"weight_map\" entry of tensor \"" + tensor + "\" is not a string");
    const auto& name = shard.get_ref<const std::string&>();
    if (!is_safe_relative(name)) {
      fail("tensor \"" + tensor + "\": shard file name \"" + name +
           "\" is not a relative path inside the checkpoint directory");
    }
    map.emplace(tensor, name);
  }
  if (map.empty()) fail("\"weight_map\" lists no tensors");
  return map;
}

}  // namespace

Checkpoint Checkpoint::open(const std::string& path) {
  Checkpoint ck;
  ck.path_ = path;
  std::error_code ec;
  const fs::path root(path);
  if (!fs::exists(root, ec)) {
    throw Error(ErrorCode::kNotFound, path + ": no such file or directory");
  }

  // Decide which files make up the checkpoint.
  std::string index_path;
  std::vector<std::string> shard_paths;
  if (fs::is_directory(root, ec)) {
    if (is_file_noexcept(root / kIndexName)) {
      index_path = (root / kIndexName).string();
    } else if (is_file_noexcept(root / kSingleName)) {
      shard_paths.push_back((root / kSingleName).string());
    } else {
      for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (ends_with(name, ".safetensors") && is_file_noexcept(entry.path())) {
          shard_paths.push_back(entry.path().string());
        }
      }
      std::sort(shard_paths.begin(), shard_paths.end());
      if (shard_paths.empty()) {
        throw Error(ErrorCode::kNotFound, path + ": directory holds no " + std::string(kIndexName) +
                                              " and no .safetensors file");
      }
    }
  } else if (ends_with(path, ".json")) {
    index_path = path;
  } else {
    shard_paths.push_back(path);
  }

  std::map<std::string, std::string> weight_map;
  std::map<std::string, size_t> shard_of_file;  // shard file name -> index in shards_
  if (!index_path.empty()) {
    weight_map = read_weight_map(index_path);
    const fs::path dir = fs::path(index_path).parent_path();
    std::set<std::string> files;
    for (const auto& [tensor, file] : weight_map) files.insert(file);
    for (const auto& file : files) {
      const fs::path shard_path = dir / file;
      if (!is_file_noexcept(shard_path)) {
        throw Error(ErrorCode::kNotFound, index_path + ": shard \"" + file + "\" (" +
                                              shard_path.string() + ") is missing");
      }
      shard_of_file[file] = shard_paths.size();
      shard_paths.push_back(shard_path.string());
    }
  }

  ck.shards_.reserve(shard_paths.size());
  for (const auto& p : shard_paths) ck.shards_.push_back(SafetensorsFile::open(p));

  // Pointers into each shard's tensor vector stay valid: shards_ is complete and never resized.
  for (size_t i = 0; i < ck.shards_.size(); ++i) {
    for (TensorInfo& t : ck.shards_[i].tensors_) {
      t.shard = i;
      auto [it, inserted] = ck.by_name_.emplace(t.name, &t);
      if (!inserted) {
        throw Error(ErrorCode::kCorruptFile,
                    path + ": tensor \"" + t.name + "\" is in two shards: " +
                        ck.shards_[it->second->shard].path() + " and " + ck.shards_[i].path());
      }
    }
  }
  for (const auto& [tensor, file] : weight_map) {
    const size_t want = shard_of_file.at(file);
    const TensorInfo* t = ck.find(tensor);
    if (!t || t->shard != want) {
      throw Error(ErrorCode::kCorruptFile, ck.shards_[want].path() + ": tensor \"" + tensor +
                                               "\" promised by " + index_path +
                                               " is not in this shard");
    }
  }
  return ck;
}

const TensorInfo* Checkpoint::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const TensorInfo& Checkpoint::get(std::string_view name) const {
  if (const TensorInfo* t = find(name)) return *t;
  throw Error(ErrorCode::kNotFound, path_ + ": no tensor \"" + std::string(name) + "\"");
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, t] : by_name_) out.push_back(name);
  return out;  // std::map iterates in sorted order
}

size_t Checkpoint::total_bytes() const {
  size_t total = 0;
  for (const auto& [name, t] : by_name_) total += t->nbytes;
  return total;
}

void Checkpoint::release(const TensorInfo& t) const {
  INSITU_CHECK(t.shard < shards_.size(), "tensor " + t.name + " has no shard here");
  shards_[t.shard].file().release_range(t.file_offset, t.nbytes);
}

}  // namespace insitu
