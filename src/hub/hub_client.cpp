#include "hub/hub_client.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "hub/progress.h"
#include "hub/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace insitu::hub {
namespace {

bool is_hex(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// ETags become blob file names, so only plain tokens are accepted from a server.
void check_etag(const std::string& etag, const RepoId& repo, const std::string& file) {
  bool ok = !etag.empty() && etag.size() <= 128;
  for (char c : etag)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  if (!ok)
    throw Error(ErrorCode::kCorruptFile,
                "the hub sent an unusable ETag '" + etag + "' for " + file + " in " + repo.repo());
}

std::optional<uint64_t> parse_size(const std::string& s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string body_excerpt(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

bool is_safe_repo_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

const RepoFile* RepoInfo::find(const std::string& path) const {
  for (const auto& f : files)
    if (f.path == path) return &f;
  return nullptr;
}

void throw_hub_error(const HttpResponse& r, const RepoId& repo, const std::string& file,
                     const std::string& endpoint) {
  const std::string code = r.header("x-error-code");
  const std::string where = repo.repo() + " on " + endpoint;
  if (r.status == 401 || r.status == 403) {
    std::string msg = "authentication required: set HF_TOKEN to a token that can read " + where +
                      " (the hub answered " + std::to_string(r.status) + ")";
    if (code == "RepoNotFound") msg += "; the repository may also not exist";
    if (code == "GatedRepo") msg += "; the model is gated: accept its terms on the hub first";
    throw Error(ErrorCode::kNotFound, msg);
  }
  if (r.status == 404) {
    if (code == "RevisionNotFound")
      throw Error(ErrorCode::kNotFound,
                  "revision '" + repo.revision + "' not found in repository " + where);
    if (!file.empty() && code != "RepoNotFound")
      throw Error(ErrorCode::kNotFound, "file not found: " + file + " in " + repo.repo() + "@" +
                                            repo.revision + " on " + endpoint);
    throw Error(ErrorCode::kNotFound, "repository or revision not found: " + repo.repo() + "@" +
                                          repo.revision + " on " + endpoint);
  }
  throw Error(ErrorCode::kIo, "the hub answered HTTP " + std::to_string(r.status) + " for " +
                                  (file.empty() ? repo.repo() : repo.repo() + "/" + file) + " on " +
                                  endpoint + ": " + body_excerpt(r.body));
}

std::vector<std::string> HubClient::auth_headers() const {
  std::vector<std::string> h;
  if (!options_.token.empty()) h.push_back("Authorization: Bearer " + options_.token);
  return h;
}

HttpRequest HubClient::request(const std::string& method, const std::string& url) const {
  HttpRequest r;
  r.method = method;
  r.url = url;
  r.headers = auth_headers();
  r.connect_timeout_s = options_.connect_timeout_s;
  r.stall_timeout_s = options_.stall_timeout_s;
  return r;
}

std::string HubClient::file_url(const RepoId& repo, const std::string& rev,
                                const std::string& path) const {
  return options_.endpoint + "/" + repo.repo() + "/resolve/" + url_encode(rev) + "/" +
         url_encode_path(path);
}

RepoInfo HubClient::repo_info(const RepoId& repo) {
  const std::string url = options_.endpoint + "/api/models/" + repo.repo() + "/revision/" +
                          url_encode(repo.revision) + "?blobs=true";
  HttpResponse r = http_.send(request("GET", url));
  if (r.status != 200) throw_hub_error(r, repo, "", options_.endpoint);
  RepoInfo info;
  try {
    const json j = json::parse(r.body);
    info.commit = j.at("sha").get<std::string>();
    for (const auto& s : j.value("siblings", json::array())) {
      RepoFile f;
      f.path = s.at("rfilename").get<std::string>();
      // Regular git files: ETag = git blob id; LFS files: ETag = the content's SHA-256.
      if (auto lfs = s.find("lfs"); lfs != s.end() && lfs->is_object()) {
        f.etag = lfs->value("sha256", "");
        if (lfs->contains("size")) f.size = lfs->at("size").get<uint64_t>();
      } else {
        f.etag = s.value("blobId", "");
        if (s.contains("size")) f.size = s.at("size").get<uint64_t>();
      }
      if (is_safe_repo_path(f.path)) info.files.push_back(std::move(f));
    }
  } catch (const json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, "unexpected answer from " + url + ": " + e.what());
  }
  if (!is_commit_hash(info.commit))
    throw Error(ErrorCode::kCorruptFile, "unexpected answer from " + url + ": 'sha' is '" +
                                             info.commit + "', not a commit id");
  return info;
}

RepoFile HubClient::file_metadata(const RepoId& repo, const std::string& commit,
                                  const std::string& path) {
  std::string url = file_url(repo, commit, path);
  for (int hop = 0; hop < 5; ++hop) {
    HttpRequest req = request("HEAD", url);
    req.follow_redirects = false;  // an LFS redirect's own headers carry the metadata
    req.headers.push_back("Accept-Encoding: identity");
    HttpResponse r = http_.send(req);
    const std::string linked = r.header("x-linked-etag");
    if (r.status >= 300 && r.status < 400 && linked.empty()) {
      // A renamed repo answers with a relative redirect; follow those only (as huggingface_hub).
      const std::string loc = r.header("location");
      if (loc.empty() || loc.front() != '/')
        throw Error(ErrorCode::kIo, "unexpected redirect for " + url + " to '" + loc + "'");
      const size_t scheme = options_.endpoint.find("://");
      const size_t host_end =
          options_.endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
      url = options_.endpoint.substr(0, host_end) + loc;
      continue;
    }
    if (r.status >= 400) throw_hub_error(r, repo, path, options_.endpoint);
    RepoFile f;
    f.path = path;
    f.etag = normalize_etag(linked.empty() ? r.header("etag") : linked);
    const std::string size = r.header("x-linked-size");
    f.size = parse_size(size.empty() ? r.header("content-length") : size);
    if (f.etag.empty())
      throw Error(ErrorCode::kCorruptFile,
                  "the hub sent no ETag for " + path + " in " + repo.repo());
    return f;
  }
  throw Error(ErrorCode::kIo, "too many redirects for " + url);
}

void HubClient::download(const HfCache& cache, const RepoId& repo, const std::string& commit,
                         RepoFile file) {
  if (file.etag.empty() || !file.size) {
    RepoFile meta = file_metadata(repo, commit, file.path);
    if (file.etag.empty()) file.etag = meta.etag;
    if (!file.size) file.size = meta.size;
  }
  check_etag(file.etag, repo, file.path);
  const std::string blob = cache.blob_path(repo, file.etag);
  FileLock lock(cache.lock_path(repo, file.etag));
  std::error_code ec;
  const bool have =
      fs::is_regular_file(blob, ec) && (!file.size || fs::file_size(blob, ec) == *file.size);
  if (!have) {
    fs::create_directories(fs::path(blob).parent_path(), ec);
    const std::string incomplete = blob + ".incomplete";
    fetch_blob(repo, file_url(repo, commit, file.path), file, incomplete);
    fs::rename(incomplete, blob, ec);
    if (ec)
      throw Error(ErrorCode::kIo,
                  "cannot move " + incomplete + " to " + blob + ": " + ec.message());
  }
  cache.link_snapshot_file(repo, commit, file.path, file.etag);
}

void HubClient::fetch_blob(const RepoId& repo, const std::string& url, const RepoFile& file,
                           const std::string& incomplete) {
  const std::string what = file.path + " from " + repo.repo();
  for (int attempt = 1;; ++attempt) {
    uint64_t offset = file_size_or_zero(incomplete);
    if (file.size && offset > *file.size) {  // not a prefix of this blob: start over
      fs::remove(incomplete);
      offset = 0;
    }
    if (file.size && offset == *file.size) break;
    FILE* out = std::fopen(incomplete.c_str(), offset ? "r+b" : "wb");
    if (!out) throw Error(ErrorCode::kIo, "cannot write " + incomplete);
    std::fseek(out, static_cast<long>(offset), SEEK_SET);
    ProgressBar bar(file.path, file.size.value_or(0), offset, options_.progress);
    std::string sink_error;
    bool started = false;
    HttpRequest req = request("GET", url);
    if (offset) req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
    req.on_body = [&](const HttpResponse& head, const char* data, size_t n) {
      if (!started) {
        started = true;
        if (offset && head.status == 200) {  // the server ignored Range: rewrite from byte 0
          std::fseek(out, 0, SEEK_SET);
          if (ftruncate(fileno(out), 0) != 0) {
            sink_error = "cannot truncate " + incomplete;
            return false;
          }
          offset = 0;
        } else if (offset && head.status == 206) {
          const std::string range = head.header("content-range");  // "bytes START-END/TOTAL"
          if (range.rfind("bytes " + std::to_string(offset) + "-", 0) != 0) {
            sink_error = "the server answered Range: bytes=" + std::to_string(offset) +
                         "- with Content-Range '" + range + "'";
            return false;
          }
        }
      }
      if (std::fwrite(data, 1, n, out) != n) {
        sink_error = "write error on " + incomplete + " (disk full?)";
        return false;
      }
      bar.advance(n);
      return true;
    };
    HttpResponse r;
    std::string failure;
    try {
      r = http_.send(req);
    } catch (const Error& e) {
      failure = e.what();
    }
    const bool flushed = std::fclose(out) == 0;
    if (!sink_error.empty()) throw Error(ErrorCode::kIo, "downloading " + what + ": " + sink_error);
    if (!flushed) throw Error(ErrorCode::kIo, "write error on " + incomplete + " (disk full?)");
    if (failure.empty()) {
      if (r.status == 416 && file.size && file_size_or_zero(incomplete) == *file.size) break;
      if (r.status == 416) {  // our partial file is not a prefix the server knows: restart
        fs::remove(incomplete);
        failure = "HTTP 416 for a resumed download";
      } else if (r.status >= 400 && r.status < 500) {
        throw_hub_error(r, repo, file.path, options_.endpoint);
      } else if (r.status >= 500) {
        failure = "HTTP " + std::to_string(r.status) + ": " + body_excerpt(r.body);
      } else {
        bar.finish();
        break;
      }
    }
    if (attempt >= options_.max_attempts)
      throw Error(ErrorCode::kIo, "download of " + what + " failed after " +
                                      std::to_string(attempt) + " attempt(s): " + failure + "; " +
                                      std::to_string(file_size_or_zero(incomplete)) +
                                      " bytes are kept in " + incomplete +
                                      " and the next run resumes from there");
    std::fprintf(stderr, "[%s: %s; resuming (attempt %d of %d)]\n", what.c_str(), failure.c_str(),
                 attempt + 1, options_.max_attempts);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
  }
  const uint64_t got = file_size_or_zero(incomplete);
  if (file.size && got != *file.size) {
    fs::remove(incomplete);
    throw Error(ErrorCode::kCorruptFile, "downloaded " + what + " has " + std::to_string(got) +
                                             " bytes, the hub announced " +
                                             std::to_string(*file.size) + "; removed it");
  }
  if (is_hex(file.etag, 64)) {
    const std::string digest = sha256_file(incomplete);
    if (digest != file.etag) {
      fs::remove(incomplete);
      throw Error(ErrorCode::kCorruptFile, "downloaded " + what + " has SHA-256 " + digest +
                                               ", expected " + file.etag + "; removed it");
    }
  }
}

}  // namespace insitu::hub
