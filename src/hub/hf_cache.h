// The Hugging Face cache layout, shared with huggingface_hub (and so with transformers, vLLM,
// mistral.rs, ...):
//
//   <cache>/models--<org>--<name>/
//     refs/<revision>                 the commit id a branch or tag pointed to (no newline)
//     blobs/<etag>                    file contents, named by the hub's ETag: the SHA-256 for
//                                     LFS files, the git blob SHA-1 otherwise
//     blobs/<etag>.incomplete         a download in progress (resumable)
//     snapshots/<commit>/<path>       relative symlinks into ../../blobs/<etag>
//     .no_exist/<commit>/<path>       empty markers: the file does not exist at that commit
//   <cache>/.locks/models--<org>--<name>/<etag>.lock   one writer per blob across processes
#pragma once

#include <optional>
#include <string>

#include "hub/repo_id.h"

namespace insitu::hub {

class HfCache {
 public:
  explicit HfCache(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  std::string repo_dir(const RepoId& r) const;
  std::string snapshot_dir(const RepoId& r, const std::string& commit) const;
  std::string blob_path(const RepoId& r, const std::string& etag) const;
  std::string lock_path(const RepoId& r, const std::string& etag) const;

  // The commit a revision names: the revision itself if it is a commit id, else refs/<rev>.
  std::optional<std::string> commit_for(const RepoId& r) const;
  void write_ref(const RepoId& r, const std::string& commit) const;

  // Points snapshots/<commit>/<file> at blobs/<etag> (relative link, replacing any old one).
  void link_snapshot_file(const RepoId& r, const std::string& commit, const std::string& file,
                          const std::string& etag) const;
  // Records / checks that `file` does not exist in the repo at `commit`.
  void mark_missing(const RepoId& r, const std::string& commit, const std::string& file) const;
  bool known_missing(const RepoId& r, const std::string& commit, const std::string& file) const;

 private:
  std::string root_;
};

// Removes quotes and a weak-validator prefix: W/"abc" -> abc, as huggingface_hub does before
// naming a blob after an ETag.
std::string normalize_etag(std::string etag);

// Holds an exclusive flock() on a lock file (created with its directories) until destroyed;
// the same files huggingface_hub locks, so the two never write one blob at once.
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace insitu::hub
