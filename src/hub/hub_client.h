// The hub's HTTP routes, as huggingface_hub uses them:
//   GET  {endpoint}/api/models/{org}/{name}/revision/{rev}?blobs=true   commit + file list
//   HEAD {endpoint}/{org}/{name}/resolve/{rev}/{file}   X-Repo-Commit, ETag / X-Linked-Etag,
//                                                       Content-Length / X-Linked-Size
//   GET  {endpoint}/{org}/{name}/resolve/{rev}/{file}   the bytes (LFS files redirect to a CDN)
// Every error names the repo (and file) and says what to do about it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/hf_cache.h"
#include "hub/http_client.h"
#include "hub/hub_options.h"
#include "hub/repo_id.h"

namespace insitu::hub {

struct RepoFile {
  std::string path;  // "config.json", "sub/dir/file"
  std::optional<uint64_t> size;
  std::string etag;  // normalized; "" when the listing did not say
};

struct RepoInfo {
  std::string commit;
  std::vector<RepoFile> files;
  const RepoFile* find(const std::string& path) const;
};

class HubClient {
 public:
  HubClient(const HubOptions& options, HttpClient& http) : options_(options), http_(http) {}

  // The commit `repo.revision` points to and its files (with sizes and ETags where the hub
  // gives them). 404 -> Error(kNotFound) "repository ... not found" or "revision ... not found".
  RepoInfo repo_info(const RepoId& repo);
  // HEAD of one file at `commit`: fills size and etag.
  RepoFile file_metadata(const RepoId& repo, const std::string& commit, const std::string& path);
  // Makes snapshots/<commit>/<file.path> in the cache, downloading the blob unless the cache
  // already has it. Downloads go to blobs/<etag>.incomplete, resume with Range after a cut
  // (options.max_attempts tries, and across runs), and are checked against the size and, for
  // SHA-256 ETags (LFS files), the content hash before they are renamed into place.
  void download(const HfCache& cache, const RepoId& repo, const std::string& commit, RepoFile file);

  std::string file_url(const RepoId& repo, const std::string& rev, const std::string& path) const;

 private:
  std::vector<std::string> auth_headers() const;
  HttpRequest request(const std::string& method, const std::string& url) const;
  void fetch_blob(const RepoId& repo, const std::string& url, const RepoFile& file,
                  const std::string& incomplete);
  const HubOptions& options_;
  HttpClient& http_;
};

// The hub's answer as a message: 401/403 -> "authentication required: set HF_TOKEN" naming the
// repo, 404 -> repository / revision / file not found, anything else with its status and body.
[[noreturn]] void throw_hub_error(const HttpResponse& r, const RepoId& repo,
                                  const std::string& file, const std::string& endpoint);

// True for a relative path with no empty, "." or ".." part: safe to create under a snapshot.
bool is_safe_repo_path(const std::string& path);

}  // namespace insitu::hub
