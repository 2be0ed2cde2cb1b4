#include "hub/hf_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "core/mapped_file.h"

namespace fs = std::filesystem;

namespace insitu::hub {
namespace {

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(ErrorCode::kIo, "cannot create directory " + dir.string() + ": " + ec.message());
}

}  // namespace

std::string HfCache::repo_dir(const RepoId& r) const {
  return root_ + "/" + r.cache_folder();
}

std::string HfCache::snapshot_dir(const RepoId& r, const std::string& commit) const {
  return repo_dir(r) + "/snapshots/" + commit;
}

std::string HfCache::blob_path(const RepoId& r, const std::string& etag) const {
  return repo_dir(r) + "/blobs/" + etag;
}

std::string HfCache::lock_path(const RepoId& r, const std::string& etag) const {
  return root_ + "/.locks/" + r.cache_folder() + "/" + etag + ".lock";
}

std::optional<std::string> HfCache::commit_for(const RepoId& r) const {
  if (is_commit_hash(r.revision)) return r.revision;
  std::ifstream f(repo_dir(r) + "/refs/" + r.revision);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string commit = ss.str();
  while (!commit.empty() &&
         (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' '))
    commit.pop_back();
  if (!is_commit_hash(commit)) return std::nullopt;  // foreign or damaged ref: ask the hub
  return commit;
}

void HfCache::write_ref(const RepoId& r, const std::string& commit) const {
  if (r.revision == commit) return;
  const fs::path path = repo_dir(r) + "/refs/" + r.revision;
  make_dirs(path.parent_path());
  write_file_atomic(path.string(), commit.data(), commit.size());  // no newline, as huggingface_hub
}

void HfCache::link_snapshot_file(const RepoId& r, const std::string& commit,
                                 const std::string& file, const std::string& etag) const {
  const fs::path link = fs::path(snapshot_dir(r, commit)) / file;
  make_dirs(link.parent_path());
  const fs::path target = fs::path(blob_path(r, etag)).lexically_relative(link.parent_path());
  std::error_code ec;
  fs::remove(link, ec);
  fs::create_symlink(target, link, ec);
  if (ec)
    throw Error(ErrorCode::kIo,
                "cannot link " + link.string() + " -> " + target.string() + ": " + ec.message());
}

void HfCache::mark_missing(const RepoId& r, const std::string& commit,
                           const std::string& file) const {
  const fs::path marker = repo_dir(r) + "/.no_exist/" + commit + "/" + file;
  make_dirs(marker.parent_path());
  std::ofstream(marker.string(), std::ios::app);
}

bool HfCache::known_missing(const RepoId& r, const std::string& commit,
                            const std::string& file) const {
  std::error_code ec;
  return fs::exists(repo_dir(r) + "/.no_exist/" + commit + "/" + file, ec);
}

std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

FileLock::FileLock(const std::string& path) {
  make_dirs(fs::path(path).parent_path());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(ErrorCode::kIo, "cannot open lock file " + path);
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd_);
      throw Error(ErrorCode::kIo, "cannot lock " + path);
    }
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace insitu::hub
