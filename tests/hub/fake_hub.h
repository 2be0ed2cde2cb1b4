// A small Hugging Face hub for tests: serves <root>/<org>/<name>/<files> on 127.0.0.1 (random
// port) with the routes huggingface_hub and insitu use:
//   GET  /api/models/{org}/{name}/revision/{rev}[?blobs=true]  {"sha", "siblings": [...]}
//   HEAD/GET /{org}/{name}/resolve/{rev}/{file}   ETag, X-Repo-Commit, Content-Length; LFS
//        files (*.safetensors) answer 302 to /cdn/... with X-Linked-Etag (SHA-256) and
//        X-Linked-Size, like the real hub
//   GET  /cdn/{org}/{name}/{file}                 the bytes, with Range support
// Unknown repos, revisions and files get 404 with the hub's X-Error-Code. Switches: a required
// token (401 without it), cutting the connection halfway through a file, listing without blob
// metadata (forces HEAD requests). Every request is logged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace insitu::test {

struct LoggedRequest {
  std::string method;
  std::string path;           // decoded path, no query
  std::string range;          // Range header, "" if none
  std::string authorization;  // Authorization header, "" if none
};

class FakeHub {
 public:
  explicit FakeHub(std::string root);
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const;  // "http://127.0.0.1:PORT"
  // The commit every revision "main" of a repo resolves to (derived from the repo name).
  static std::string commit_of(const std::string& repo);
  // Git blob id of a file's content: the ETag the hub gives non-LFS files.
  static std::string git_blob_id(const std::string& content);

  void require_token(const std::string& token);  // "" = no authentication
  // The next `count` downloads of `file` (any repo) send the headers and only the first half
  // of the bytes asked for, then close the connection.
  void cut_file(const std::string& file, int count = 1);
  void set_listing_has_blobs(bool on);  // false: no size/blobId/lfs in the listing

  std::vector<LoggedRequest> requests() const;
  size_t request_count() const;
  void clear_log();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace insitu::test
