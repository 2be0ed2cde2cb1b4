#include "hub/resolve.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"
#include "hub/hf_cache.h"
#include "hub/hub_client.h"
#include "hub/repo_id.h"

namespace fs = std::filesystem;

namespace insitu::hub {

const std::vector<std::string> kModelMetadataFiles = {
    "config.json",           "generation_config.json", "tokenizer.json",
    "tokenizer_config.json", "chat_template.jinja",    "chat_template.json"};

namespace {

constexpr const char* kIndex = "model.safetensors.index.json";
constexpr const char* kSingle = "model.safetensors";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shard names of an index file's weight_map, sorted and unique.
std::vector<std::string> index_shards(const std::string& index_path) {
  std::set<std::string> shards;
  try {
    const auto j = nlohmann::json::parse(read_text_file(index_path));
    for (const auto& [tensor, file] : j.at("weight_map").items())
      shards.insert(file.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, index_path + ": bad safetensors index: " + e.what());
  }
  for (const auto& s : shards)
    if (!is_safe_repo_path(s))
      throw Error(ErrorCode::kCorruptFile, index_path + ": weight_map names the file '" + s + "'");
  return {shards.begin(), shards.end()};
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);  // follows the symlink: a link to a deleted blob counts as missing
}

// What a snapshot still lacks (empty: complete). Mirrors select_model_files() using the
// cache's own knowledge: present files and .no_exist markers.
std::vector<std::string> missing_files(const HfCache& cache, const RepoId& id,
                                       const std::string& commit) {
  const fs::path dir = cache.snapshot_dir(id, commit);
  std::vector<std::string> missing;
  if (!path_exists(dir)) return {"everything"};
  for (const auto& f : kModelMetadataFiles)
    if (!path_exists(dir / f) && !cache.known_missing(id, commit, f)) missing.push_back(f);
  if (path_exists(dir / kIndex)) {
    for (const auto& s : index_shards((dir / kIndex).string()))
      if (!path_exists(dir / s)) missing.push_back(s);
  } else if (!path_exists(dir / kSingle)) {
    bool any = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      any |= ends_with(e.path().filename().string(), ".safetensors") && path_exists(e.path());
    const bool none_upstream =
        cache.known_missing(id, commit, kIndex) && cache.known_missing(id, commit, kSingle);
    if (!any && !none_upstream) missing.push_back("*.safetensors");
  }
  return missing;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

ResolvedModel hub_model(const RepoId& id, const HfCache& cache, const std::string& commit) {
  return {cache.snapshot_dir(id, commit), true, id.repo(), id.revision, commit};
}

}  // namespace

std::vector<std::string> select_model_files(const std::vector<std::string>& listing) {
  const std::set<std::string> have(listing.begin(), listing.end());
  std::vector<std::string> out;
  for (const auto& f : kModelMetadataFiles)
    if (have.count(f)) out.push_back(f);
  if (have.count(kIndex)) {
    out.push_back(kIndex);  // its shards are known only once it is read
  } else if (have.count(kSingle)) {
    out.push_back(kSingle);
  } else {
    for (const auto& f : listing)
      if (f.find('/') == std::string::npos && ends_with(f, ".safetensors")) out.push_back(f);
  }
  return out;
}

ResolvedModel describe_model_dir(const std::string& dir) {
  ResolvedModel local{dir, false, "", "", ""};
  const fs::path p = fs::path(dir).lexically_normal();
  const fs::path snap = p.has_filename() ? p : p.parent_path();
  const std::string commit = snap.filename().string();
  const fs::path snapshots = snap.parent_path();
  const std::string folder = snapshots.parent_path().filename().string();
  if (!is_commit_hash(commit) || snapshots.filename() != "snapshots" ||
      folder.rfind("models--", 0) != 0)
    return local;
  const std::string rest = folder.substr(8);
  const size_t sep = rest.find("--");
  if (sep == std::string::npos) return local;
  auto id = try_parse_repo_id(rest.substr(0, sep) + "/" + rest.substr(sep + 2));
  if (!id) return local;
  return {dir, true, id->repo(), commit, commit};
}

ResolvedModel resolve_model_source(const std::string& m, const HubOptions& options,
                                   HttpClient* http) {
  if (!m.empty() && path_exists(m)) return {m, false, "", "", ""};
  // Spelled as a filesystem path (hub ids never start with '/', '.' or '~'): the loaders report
  // the missing path exactly as they did before hub ids existed.
  if (!m.empty() && (m[0] == '/' || m[0] == '.' || m[0] == '~')) return {m, false, "", "", ""};
  std::string why;
  const auto parsed = try_parse_repo_id(m, &why);
  if (!parsed)
    throw Error(ErrorCode::kInvalidArgument,
                "model '" + m + "' is not an existing path, and not a hub id: " + why +
                    " (expected a directory or org/name[@revision])");
  const RepoId& id = *parsed;
  const HfCache cache(options.cache_dir);
  const std::string label = id.repo() + "@" + id.revision;

  const auto cached = cache.commit_for(id);
  std::vector<std::string> missing;
  if (cached) {
    missing = missing_files(cache, id, *cached);
    if (missing.empty()) return hub_model(id, cache, *cached);
  }
  if (options.offline) {
    if (cached)
      throw Error(ErrorCode::kNotFound,
                  label + " is only partly in the Hugging Face cache " + cache.repo_dir(id) +
                      " (missing: " + join(missing) +
                      ") and HF_HUB_OFFLINE is set, so nothing is downloaded");
    throw Error(ErrorCode::kNotFound, label + " is not in the Hugging Face cache " + cache.root() +
                                          " and HF_HUB_OFFLINE is set, so nothing is downloaded");
  }

  std::unique_ptr<HttpClient> own;
  if (!http) {
    own = make_curl_client();
    http = own.get();
  }
  HubClient hub(options, *http);
  RepoInfo info;
  try {
    info = hub.repo_info(id);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    throw Error(e.code(), std::string(e.what()) + " (and there is no local path '" + m + "')");
  }
  cache.write_ref(id, info.commit);
  std::vector<std::string> listing;
  for (const auto& f : info.files) listing.push_back(f.path);
  std::vector<std::string> wanted = select_model_files(listing);
  const std::string snapshot = cache.snapshot_dir(id, info.commit);
  for (size_t i = 0; i < wanted.size(); ++i) {
    hub.download(cache, id, info.commit, *info.find(wanted[i]));
    if (wanted[i] == kIndex) {
      for (const auto& shard : index_shards(snapshot + "/" + kIndex)) {
        if (!info.find(shard))
          throw Error(ErrorCode::kNotFound, "file not found: " + shard + ", named by " + kIndex +
                                                " of " + label + ", is not in the repository");
        wanted.push_back(shard);
      }
    }
  }
  // Remember what the repo lacks, as huggingface_hub does, so the next run needs no request.
  for (const auto& f : kModelMetadataFiles)
    if (!info.find(f)) cache.mark_missing(id, info.commit, f);
  if (!info.find(kIndex)) cache.mark_missing(id, info.commit, kIndex);
  if (!info.find(kSingle)) cache.mark_missing(id, info.commit, kSingle);
  fs::create_directories(snapshot);  // a repo with none of the files still gets its folder
  return hub_model(id, cache, info.commit);
}

}  // namespace insitu::hub
