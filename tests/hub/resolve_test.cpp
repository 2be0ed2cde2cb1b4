// -m resolution against the fake hub: download into the HF cache layout, cache reuse without a
// request, offline mode, resume after a cut connection, authentication, 404s, bad ids.
#include "hub/resolve.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "hub/hf_cache.h"
#include "hub/hub_client.h"
#include "hub/hub_test_util.h"
#include "hub/sha256.h"

namespace insitu::test {
namespace {

namespace fs = std::filesystem;
using hub::ResolvedModel;

std::string sha256_of(const std::string& bytes) {
  hub::Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

// Runs `f`, expects an insitu::Error, returns its message.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

const std::set<std::string> kDemoFiles = {"chat_template.jinja",
                                          "config.json",
                                          "generation_config.json",
                                          "model-00001-of-00002.safetensors",
                                          "model-00002-of-00002.safetensors",
                                          "model.safetensors.index.json",
                                          "tokenizer.json",
                                          "tokenizer_config.json"};

std::set<std::string> snapshot_files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!fs::is_directory(e.path())) out.insert(e.path().lexically_relative(dir).generic_string());
  return out;
}

TEST_F(HubTest, DownloadsTheModelFilesIntoTheHuggingFaceCacheLayout) {
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  const std::string commit = FakeHub::commit_of(kRepo);
  const fs::path repo_dir = cache_repo("models--test-org--demo-llama-14m");
  EXPECT_TRUE(m.from_hub);
  EXPECT_EQ(m.repo, kRepo);
  EXPECT_EQ(m.revision, "main");
  EXPECT_EQ(m.commit, commit);
  EXPECT_EQ(m.dir, (repo_dir / "snapshots" / commit).string());
  // refs/main holds the commit without a newline, as huggingface_hub writes it.
  EXPECT_EQ(read_bytes(repo_dir / "refs" / "main"), commit);
  // Only what insitu loads: no .bin, nothing from sub-folders.
  EXPECT_EQ(snapshot_files(m.dir), kDemoFiles);
  for (const auto& name : kDemoFiles) {
    const fs::path link = fs::path(m.dir) / name;
    ASSERT_TRUE(fs::is_symlink(link)) << name;
    const std::string content = read_bytes(fs::path(demo_model_dir()) / name);
    // Blob names: SHA-256 for LFS files, git blob id for the rest; links are relative.
    const std::string etag =
        name.find(".safetensors") != std::string::npos && name.find(".json") == std::string::npos
            ? sha256_of(content)
            : FakeHub::git_blob_id(content);
    EXPECT_EQ(fs::read_symlink(link).string(), "../../blobs/" + etag) << name;
    EXPECT_EQ(read_bytes(link), content) << name;
  }
  for (const auto& e : fs::directory_iterator(repo_dir / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << "left behind: " << e.path();
  // What the repo lacks is recorded as huggingface_hub does.
  EXPECT_TRUE(fs::exists(repo_dir / ".no_exist" / commit / "chat_template.json"));
  EXPECT_TRUE(
      fs::exists(fs::path(options_.cache_dir) / ".locks" / "models--test-org--demo-llama-14m"));
}

TEST_F(HubTest, SecondResolveUsesTheCacheWithoutAnyRequest) {
  const ResolvedModel first = hub::resolve_model_source(kRepo, options_);
  EXPECT_GT(hub_->request_count(), 0u);
  hub_->clear_log();
  const ResolvedModel second = hub::resolve_model_source(kRepo, options_);
  EXPECT_EQ(hub_->request_count(), 0u);
  EXPECT_EQ(second.dir, first.dir);
  EXPECT_EQ(second.commit, first.commit);
  // The commit as revision finds the same snapshot, also without a request.
  const ResolvedModel pinned =
      hub::resolve_model_source(std::string(kRepo) + "@" + first.commit, options_);
  EXPECT_EQ(hub_->request_count(), 0u);
  EXPECT_EQ(pinned.dir, first.dir);
}

TEST_F(HubTest, ReusesASnapshotLaidOutByHuggingFaceHub) {
  // Build the cache by hand exactly as huggingface_hub's hf_hub_download does.
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  const fs::path repo_dir = cache_repo("models--other-org--tiny");
  write_bytes(repo_dir / "refs" / "main", commit);
  for (const auto& e : fs::directory_iterator(demo_model_dir())) {
    const std::string content = read_bytes(e.path());
    const std::string etag = sha256_of(content);
    write_bytes(repo_dir / "blobs" / etag, content);
    fs::create_directories(repo_dir / "snapshots" / commit);
    fs::create_symlink("../../blobs/" + etag,
                       repo_dir / "snapshots" / commit / e.path().filename());
  }
  write_bytes(repo_dir / ".no_exist" / commit / "chat_template.json", "");
  const ResolvedModel m = hub::resolve_model_source("other-org/tiny", options_);
  EXPECT_EQ(hub_->request_count(), 0u);
  EXPECT_EQ(m.dir, (repo_dir / "snapshots" / commit).string());
  EXPECT_EQ(m.commit, commit);
  // A snapshot missing a shard is not complete: the hub is asked (and says 404 here).
  fs::remove(repo_dir / "snapshots" / commit / "model-00002-of-00002.safetensors");
  const std::string msg = error_of([&] { hub::resolve_model_source("other-org/tiny", options_); });
  EXPECT_NE(msg.find("repository or revision not found: other-org/tiny"), std::string::npos) << msg;
  EXPECT_EQ(hub_->request_count(), 1u);
}

TEST_F(HubTest, OfflineUsesOnlyTheCache) {
  options_.offline = true;
  const std::string msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find("test-org/demo-llama-14m@main is not in the Hugging Face cache"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("HF_HUB_OFFLINE"), std::string::npos) << msg;
  EXPECT_EQ(hub_->request_count(), 0u);
  EXPECT_FALSE(fs::exists(cache_repo("models--test-org--demo-llama-14m")));

  options_.offline = false;
  const ResolvedModel online = hub::resolve_model_source(kRepo, options_);
  hub_->clear_log();
  options_.offline = true;
  EXPECT_EQ(hub::resolve_model_source(kRepo, options_).dir, online.dir);
  EXPECT_EQ(hub_->request_count(), 0u);

  // A partial snapshot offline names what is missing.
  fs::remove(fs::path(online.dir) / "tokenizer.json");
  const std::string partial = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(partial.find("only partly"), std::string::npos) << partial;
  EXPECT_NE(partial.find("tokenizer.json"), std::string::npos) << partial;
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST_F(HubTest, ResumesAfterACutConnectionWithinOneRun) {
  const std::string shard = "model-00001-of-00002.safetensors";
  const std::string content = read_bytes(fs::path(demo_model_dir()) / shard);
  hub_->cut_file(shard, 1);
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  std::vector<std::string> ranges;
  for (const auto& r : hub_->requests())
    if (r.path == "/cdn/test-org/demo-llama-14m/" + shard) ranges.push_back(r.range);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(content.size() / 2) + "-");
  EXPECT_EQ(hub::sha256_file(m.dir + "/" + shard), sha256_of(content));
}

TEST_F(HubTest, ResumesAPartialDownloadOnTheNextRun) {
  const std::string shard = "model-00002-of-00002.safetensors";
  const std::string content = read_bytes(fs::path(demo_model_dir()) / shard);
  const std::string etag = sha256_of(content);
  const fs::path blobs = cache_repo("models--test-org--demo-llama-14m") / "blobs";
  options_.max_attempts = 1;
  hub_->cut_file(shard, 1);
  const std::string msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find(shard), std::string::npos) << msg;
  EXPECT_NE(msg.find("next run resumes"), std::string::npos) << msg;
  // Nothing partial in place: only the .incomplete file, no blob, no snapshot link.
  EXPECT_FALSE(fs::exists(blobs / etag));
  EXPECT_EQ(fs::file_size(blobs / (etag + ".incomplete")), content.size() / 2);
  const fs::path link = cache_repo("models--test-org--demo-llama-14m") / "snapshots" /
                        FakeHub::commit_of(kRepo) / shard;
  EXPECT_FALSE(fs::exists(fs::symlink_status(link)));

  hub_->clear_log();
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  std::vector<std::string> ranges;
  for (const auto& r : hub_->requests())
    if (r.path == "/cdn/test-org/demo-llama-14m/" + shard) ranges.push_back(r.range);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0], "bytes=" + std::to_string(content.size() / 2) + "-");
  EXPECT_EQ(hub::sha256_file(m.dir + "/" + shard), etag);
  EXPECT_FALSE(fs::exists(blobs / (etag + ".incomplete")));
}

TEST_F(HubTest, RejectsADownloadWhoseHashDoesNotMatch) {
  const std::string shard = "model-00002-of-00002.safetensors";
  const std::string content = read_bytes(fs::path(demo_model_dir()) / shard);
  const std::string etag = sha256_of(content);
  const fs::path blobs = cache_repo("models--test-org--demo-llama-14m") / "blobs";
  // A damaged partial file: right length for a prefix, wrong bytes. The resumed download
  // completes it, and the SHA-256 check must catch the damage.
  write_bytes(blobs / (etag + ".incomplete"), std::string(content.size() / 2, 'x'));
  const std::string msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find("SHA-256"), std::string::npos) << msg;
  EXPECT_NE(msg.find(shard), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(blobs / etag));
  EXPECT_FALSE(fs::exists(blobs / (etag + ".incomplete")));
  // The next run starts over and succeeds.
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  EXPECT_EQ(hub::sha256_file(m.dir + "/" + shard), etag);
}

TEST_F(HubTest, UsesHeadRequestsWhenTheListingHasNoBlobMetadata) {
  hub_->set_listing_has_blobs(false);
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  size_t heads = 0;
  for (const auto& r : hub_->requests()) heads += r.method == "HEAD";
  EXPECT_EQ(heads, kDemoFiles.size());
  const std::string shard = "model-00001-of-00002.safetensors";
  const std::string content = read_bytes(fs::path(demo_model_dir()) / shard);
  EXPECT_EQ(fs::read_symlink(fs::path(m.dir) / shard).string(),
            "../../blobs/" + sha256_of(content));
}

TEST_F(HubTest, AuthenticationRequiredWithoutTokenAndSuccessWithIt) {
  hub_->require_token("secret-token");
  std::string msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find("authentication required: set HF_TOKEN"), std::string::npos) << msg;
  EXPECT_NE(msg.find(kRepo), std::string::npos) << msg;
  options_.token = "wrong";
  msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find("authentication required"), std::string::npos) << msg;
  options_.token = "secret-token";
  hub_->clear_log();
  const ResolvedModel m = hub::resolve_model_source(kRepo, options_);
  EXPECT_TRUE(fs::exists(m.dir + "/config.json"));
  EXPECT_EQ(hub_->requests().front().authorization, "Bearer secret-token");
}

TEST_F(HubTest, NotFoundNamesTheRepoRevisionOrFile) {
  std::string msg = error_of([&] { hub::resolve_model_source("test-org/nope", options_); });
  EXPECT_NE(msg.find("repository or revision not found: test-org/nope"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no local path 'test-org/nope'"), std::string::npos) << msg;
  msg = error_of([&] { hub::resolve_model_source(std::string(kRepo) + "@v9", options_); });
  EXPECT_NE(msg.find("revision 'v9' not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find(kRepo), std::string::npos) << msg;
  // A file the hub does not have.
  auto http = hub::make_curl_client();
  hub::HubClient client(options_, *http);
  msg = error_of([&] {
    client.file_metadata(hub::parse_repo_id(kRepo), FakeHub::commit_of(kRepo), "missing.json");
  });
  EXPECT_NE(msg.find("file not found: missing.json in test-org/demo-llama-14m"), std::string::npos)
      << msg;
  // An index naming a shard the repo lacks.
  const fs::path broken = served_repo("test-org/broken");
  write_bytes(broken / "config.json", "{}");
  write_bytes(broken / "model.safetensors.index.json",
              R"({"metadata": {}, "weight_map": {"w": "model-00001-of-00009.safetensors"}})");
  msg = error_of([&] { hub::resolve_model_source("test-org/broken", options_); });
  EXPECT_NE(msg.find("file not found: model-00001-of-00009.safetensors"), std::string::npos) << msg;
  // Nothing was cached for the missing repo.
  EXPECT_FALSE(fs::exists(cache_repo("models--test-org--nope")));
}

TEST_F(HubTest, NetworkFailureIsAClearError) {
  options_.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  const std::string msg = error_of([&] { hub::resolve_model_source(kRepo, options_); });
  EXPECT_NE(msg.find("network error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("127.0.0.1:1"), std::string::npos) << msg;
}

TEST_F(HubTest, ExistingLocalPathWinsUnchanged) {
  const std::string dir = demo_model_dir();
  const ResolvedModel m = hub::resolve_model_source(dir, options_);
  EXPECT_FALSE(m.from_hub);
  EXPECT_EQ(m.dir, dir);
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST_F(HubTest, BadHubIdsAreNamedInTheError) {
  for (const std::string id : {"a/b/c", "", "org/na me", "-org/name", "org/name@",
                               "org/name@../../x", "org--x/y", "org/..", "name-only"}) {
    try {
      hub::resolve_model_source(id, options_);
      ADD_FAILURE() << "accepted '" << id << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << id;
      EXPECT_NE(std::string(e.what()).find("'" + id + "'"), std::string::npos) << e.what();
    }
  }
  // Spelled as paths: passed through for the loaders to name the missing file, as before.
  for (const std::string path : {"../x", "./x/y", "/nonexistent/model", "~/m"}) {
    const ResolvedModel m = hub::resolve_model_source(path, options_);
    EXPECT_FALSE(m.from_hub);
    EXPECT_EQ(m.dir, path);
  }
  const std::string msg = error_of([] { hub::parse_repo_id("../x"); });
  EXPECT_NE(msg.find("'../x'"), std::string::npos) << msg;
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST(RepoIdTest, ParsesOrgNameAndRevision) {
  auto r = hub::parse_repo_id("Qwen/Qwen3-0.6B");
  EXPECT_EQ(r.org, "Qwen");
  EXPECT_EQ(r.name, "Qwen3-0.6B");
  EXPECT_EQ(r.revision, "main");
  EXPECT_EQ(r.cache_folder(), "models--Qwen--Qwen3-0.6B");
  r = hub::parse_repo_id("meta-llama/Llama-3.1-8B@refs/pr/12");
  EXPECT_EQ(r.revision, "refs/pr/12");
  EXPECT_EQ(hub::url_encode(r.revision), "refs%2Fpr%2F12");
  EXPECT_EQ(hub::url_encode_path("sub dir/a+b.json"), "sub%20dir/a%2Bb.json");
  EXPECT_TRUE(hub::is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(hub::is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
}

TEST(RepoIdTest, RecognisesCacheSnapshotFolders) {
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  auto m = hub::describe_model_dir("/c/hub/models--Qwen--Qwen3-0.6B/snapshots/" + commit + "/");
  EXPECT_TRUE(m.from_hub);
  EXPECT_EQ(m.repo, "Qwen/Qwen3-0.6B");
  EXPECT_EQ(m.commit, commit);
  EXPECT_FALSE(hub::describe_model_dir("/models/Qwen3-0.6B").from_hub);
  EXPECT_FALSE(hub::describe_model_dir("/c/hub/models--x--y/snapshots/main").from_hub);
}

TEST(HubOptionsTest, ReadsHuggingFaceHubEnvironment) {
  TempDir home;
  const char* names[] = {"HF_HOME",  "HF_HUB_CACHE",  "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
                         "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE",        "INSITU_UQFF_ORG"};
  std::map<std::string, std::optional<std::string>> saved;
  for (const char* n : names) {
    const char* v = std::getenv(n);
    saved[n] = v ? std::optional<std::string>(v) : std::nullopt;
    unsetenv(n);
  }
  setenv("HF_HOME", home.str().c_str(), 1);
  setenv("HF_ENDPOINT", "http://mirror.example/", 1);
  setenv("HF_HUB_OFFLINE", "yes", 1);
  write_bytes(home.path / "token", "hf_stored\n");
  hub::HubOptions o = hub::HubOptions::from_env();
  EXPECT_EQ(o.cache_dir, home.str() + "/hub");
  EXPECT_EQ(o.endpoint, "http://mirror.example");
  EXPECT_TRUE(o.offline);
  EXPECT_EQ(o.token, "hf_stored");  // the file `hf auth login` writes
  EXPECT_EQ(o.uqff_org, "mistralrs-community");
  setenv("HF_TOKEN", "hf_env", 1);
  setenv("HF_HUB_CACHE", "/elsewhere", 1);
  setenv("HF_HUB_OFFLINE", "0", 1);
  setenv("INSITU_UQFF_ORG", "my-org", 1);
  o = hub::HubOptions::from_env();
  EXPECT_EQ(o.token, "hf_env");
  EXPECT_EQ(o.cache_dir, "/elsewhere");
  EXPECT_FALSE(o.offline);
  EXPECT_EQ(o.uqff_org, "my-org");
  for (const auto& [n, v] : saved) {
    if (v)
      setenv(n.c_str(), v->c_str(), 1);
    else
      unsetenv(n.c_str());
  }
}

}  // namespace
}  // namespace insitu::test
