// The insitu binary with hub ids: -m org/name through HF_ENDPOINT / HF_HOME, and --quant
// stopping at a UQFF artifact (hub community repo or local sibling folder).
#include <gtest/gtest.h>

#include <cstdlib>

#include "e2e/cli_util.h"
#include "hub/hub_test_util.h"

namespace insitu::test {
namespace {

namespace fs = std::filesystem;

// Points the child process at the fake hub and the test's cache; restores the environment.
class CliHubTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    for (const char* n : {"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
                          "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "INSITU_UQFF_ORG"}) {
      const char* v = std::getenv(n);
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(n);
    }
    setenv("HF_HOME", cache_.str().c_str(), 1);  // the cache is $HF_HOME/hub
    setenv("HF_ENDPOINT", hub_->endpoint().c_str(), 1);
    setenv("INSITU_UQFF_ORG", "uqff-org", 1);
  }
  void TearDown() override {
    for (const auto& [n, v] : saved_) {
      if (v)
        setenv(n.c_str(), v->c_str(), 1);
      else
        unsetenv(n.c_str());
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(CliHubTest, TokenizeAcceptsAHubId) {
  const std::string text = quote("Hello, world! To be or not to be.");
  const CommandResult local = run_insitu("tokenize -m " + quote(demo_model_dir()) + " " + text);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const CommandResult remote = run_insitu("tokenize -m test-org/demo-llama-14m " + text);
  ASSERT_EQ(remote.exit_code, 0) << remote.output;
  EXPECT_EQ(remote.output, local.output);
  EXPECT_TRUE(fs::is_symlink(cache_.path / "hub" / "models--test-org--demo-llama-14m" /
                             "snapshots" / FakeHub::commit_of(kRepo) / "tokenizer.json"));
  // Second run: from the cache, no request at all.
  hub_->clear_log();
  const CommandResult again = run_insitu("tokenize -m test-org/demo-llama-14m " + text);
  EXPECT_EQ(again.output, local.output);
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST_F(CliHubTest, ErrorsNameTheIdAndTheCause) {
  CommandResult r = run_insitu("tokenize -m a/b/c hello");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("insitu: error: model 'a/b/c'"), std::string::npos) << r.output;
  // A missing path keeps the loader's message, which names the path.
  r = run_insitu("tokenize -m ../x hello");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("../x/tokenizer.json: not found"), std::string::npos) << r.output;
  setenv("HF_HUB_OFFLINE", "1", 1);
  r = run_insitu("tokenize -m test-org/demo-llama-14m hello");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("HF_HUB_OFFLINE"), std::string::npos) << r.output;
  EXPECT_EQ(hub_->request_count(), 0u);
  unsetenv("HF_HUB_OFFLINE");
  r = run_insitu("tokenize -m test-org/missing hello");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("repository or revision not found: test-org/missing"), std::string::npos)
      << r.output;
  // --help never resolves (or downloads) anything.
  hub_->clear_log();
  r = run_insitu("run -m test-org/demo-llama-14m --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST_F(CliHubTest, QuantStopsAtACommunityUqffArtifact) {
  write_bytes(served_repo("uqff-org/demo-llama-14m-UQFF") / "q4k-0.uqff", "u");
  const CommandResult r = run_insitu("run -m test-org/demo-llama-14m --quant 4 -p hi -n 1 -q");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("uqff-org/demo-llama-14m-UQFF"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("q4k-0.uqff"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--isq 4"), std::string::npos) << r.output;
}

TEST_F(CliHubTest, QuantStopsAtALocalSiblingArtifactAndFallsBackToIsqWithoutOne) {
  TempDir root;
  const fs::path model = root.path / "demo";
  fs::create_directories(model);
  for (const auto& e : fs::directory_iterator(demo_model_dir()))
    fs::create_symlink(e.path(), model / e.path().filename());
  CommandResult r = run_insitu("run -m " + quote(model.string()) + " --quant 8 -p hi -n 1 -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;  // no artifact: quantized in situ
  write_bytes(root.path / "demo-UQFF" / "q8_0-0.uqff", "u");
  r = run_insitu("run -m " + quote(model.string()) + " --quant 8 -p hi -n 1 -q");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find((root.path / "demo-UQFF").string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--isq 8"), std::string::npos) << r.output;
  r = run_insitu("run -m " + quote(model.string()) + " --isq 8 -p hi -n 1 -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;  // --isq skips the probe
  EXPECT_EQ(hub_->request_count(), 0u);
}

}  // namespace
}  // namespace insitu::test
