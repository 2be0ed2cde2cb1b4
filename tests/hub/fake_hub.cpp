#include "hub/fake_hub.h"

#include <httplib.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "hub/sha256.h"

namespace fs = std::filesystem;

namespace insitu::test {
namespace {

std::string hex(const unsigned char* p, unsigned n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool is_lfs(const std::string& file) {
  return file.size() > 12 && file.compare(file.size() - 12, 12, ".safetensors") == 0;
}

}  // namespace

std::string FakeHub::commit_of(const std::string& repo) {
  // sha1 of the repo name: a stable, valid-looking 40-hex commit id per repo.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(repo.data(), repo.size(), md, &n, EVP_sha1(), nullptr);
  return hex(md, n);
}

std::string FakeHub::git_blob_id(const std::string& content) {
  const std::string blob =
      "blob " + std::to_string(content.size()) + std::string(1, '\0') + content;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(blob.data(), blob.size(), md, &n, EVP_sha1(), nullptr);
  return hex(md, n);
}

struct FakeHub::Impl {
  std::string root;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  mutable std::mutex mu;
  std::vector<LoggedRequest> log;
  std::string token;
  std::map<std::string, int> cuts;
  bool listing_blobs = true;

  bool authorized(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    if (token.empty() || req.get_header_value("Authorization") == "Bearer " + token) return true;
    res.status = 401;
    res.set_content("{\"error\":\"Invalid credentials\"}", "application/json");
    return false;
  }

  // The repo folder and commit for (org, name, rev); fills a 404 and returns "" otherwise.
  std::string repo_dir(const std::string& org, const std::string& name, const std::string& rev,
                       httplib::Response& res) {
    const fs::path dir = fs::path(root) / org / name;
    if (!fs::is_directory(dir)) {
      res.status = 404;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_content("{\"error\":\"Repository not found\"}", "application/json");
      return "";
    }
    if (rev != "main" && rev != commit_of(org + "/" + name)) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      res.set_content("{\"error\":\"Invalid rev id: " + rev + "\"}", "application/json");
      return "";
    }
    return dir.string();
  }

  void listing(const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    const std::string org = req.matches[1], name = req.matches[2], rev = req.matches[3];
    const std::string dir = repo_dir(org, name, rev, res);
    if (dir.empty()) return;
    bool blobs;
    {
      std::lock_guard<std::mutex> lock(mu);
      blobs = listing_blobs && req.get_param_value("blobs") == "true";
    }
    nlohmann::json siblings = nlohmann::json::array();
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (fs::is_regular_file(e.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      const std::string rel = p.lexically_relative(dir).generic_string();
      nlohmann::json s = {{"rfilename", rel}};
      if (blobs) {
        const std::string content = read_all(p);
        s["blobId"] = git_blob_id(content);
        s["size"] = content.size();
        if (is_lfs(rel)) {
          hub::Sha256 h;
          h.update(content.data(), content.size());
          s["lfs"] = {{"sha256", h.hex_digest()}, {"size", content.size()}, {"pointerSize", 134}};
        }
      }
      siblings.push_back(s);
    }
    const nlohmann::json j = {
        {"id", org + "/" + name}, {"sha", commit_of(org + "/" + name)}, {"siblings", siblings}};
    res.set_content(j.dump(), "application/json");
  }

  void resolve(const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    const std::string org = req.matches[1], name = req.matches[2], rev = req.matches[3],
                      file = req.matches[4];
    const std::string dir = repo_dir(org, name, rev, res);
    if (dir.empty()) return;
    const fs::path path = fs::path(dir) / file;
    if (file.find("..") != std::string::npos || !fs::is_regular_file(path)) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      res.set_content("{\"error\":\"Entry not found\"}", "application/json");
      return;
    }
    const std::string content = read_all(path);
    res.set_header("X-Repo-Commit", commit_of(org + "/" + name));
    if (is_lfs(file)) {
      hub::Sha256 h;
      h.update(content.data(), content.size());
      res.status = 302;
      res.set_header("Location", "http://127.0.0.1:" + std::to_string(port) + "/cdn/" + org + "/" +
                                     name + "/" + file);
      res.set_header("X-Linked-Etag", "\"" + h.hex_digest() + "\"");
      res.set_header("X-Linked-Size", std::to_string(content.size()));
      res.set_header("ETag", "\"" + git_blob_id(content) + "\"");
      return;
    }
    res.set_header("ETag", "\"" + git_blob_id(content) + "\"");
    serve(req, res, file, content);
  }

  void cdn(const httplib::Request& req, httplib::Response& res) {
    const std::string org = req.matches[1], name = req.matches[2], file = req.matches[3];
    const fs::path path = fs::path(root) / org / name / file;
    if (file.find("..") != std::string::npos || !fs::is_regular_file(path)) {
      res.status = 404;
      return;
    }
    serve(req, res, file, read_all(path));
  }

  // The bytes, or (cut mode) a response that declares them all and stops halfway.
  void serve(const httplib::Request& req, httplib::Response& res, const std::string& file,
             std::string content) {
    bool cut = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = cuts.find(fs::path(file).filename().string());
      if (it != cuts.end() && it->second > 0 && req.method == "GET") {
        cut = true;
        --it->second;
      }
    }
    if (!cut) {
      res.set_content(std::move(content), "application/octet-stream");  // httplib applies Range
      return;
    }
    auto data = std::make_shared<std::string>(std::move(content));
    res.set_content_provider(data->size(), "application/octet-stream",
                             [data](size_t offset, size_t length, httplib::DataSink& sink) {
                               // httplib asks for the (possibly ranged) bytes; send half of them,
                               // then fail.
                               const size_t half = length / 2;
                               sink.write(data->data() + offset, half);
                               return false;
                             });
  }
};

FakeHub::FakeHub(std::string root) : impl_(std::make_unique<Impl>()) {
  Impl* d = impl_.get();
  d->root = std::move(root);
  d->server.set_pre_routing_handler([d](const httplib::Request& req, httplib::Response&) {
    std::lock_guard<std::mutex> lock(d->mu);
    d->log.push_back({req.method, req.path, req.get_header_value("Range"),
                      req.get_header_value("Authorization")});
    return httplib::Server::HandlerResponse::Unhandled;
  });
  d->server.Get(R"(/api/models/([^/]+)/([^/]+)/revision/(.+))",
                [d](const httplib::Request& q, httplib::Response& r) { d->listing(q, r); });
  d->server.Get(R"(/cdn/([^/]+)/([^/]+)/(.+))",
                [d](const httplib::Request& q, httplib::Response& r) { d->cdn(q, r); });
  d->server.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))",
                [d](const httplib::Request& q, httplib::Response& r) { d->resolve(q, r); });
  d->port = d->server.bind_to_any_port("127.0.0.1");
  d->thread = std::thread([d] { d->server.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it so the destructor cannot hang.
  while (!d->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeHub::~FakeHub() {
  impl_->server.stop();
  impl_->thread.join();
}

std::string FakeHub::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeHub::require_token(const std::string& token) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->token = token;
}

void FakeHub::cut_file(const std::string& file, int count) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cuts[file] = count;
}

void FakeHub::set_listing_has_blobs(bool on) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->listing_blobs = on;
}

std::vector<LoggedRequest> FakeHub::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->log;
}

size_t FakeHub::request_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->log.size();
}

void FakeHub::clear_log() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->log.clear();
}

}  // namespace insitu::test
