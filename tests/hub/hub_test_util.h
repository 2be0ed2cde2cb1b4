// Shared setup for the hub tests: a served folder holding the demo model as
// test-org/demo-llama-14m (plus files insitu must not download), a fake hub serving it, and an
// empty cache. HubOptions point at both, so no test touches the network or ~/.cache.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "e2e/cli_util.h"
#include "hub/fake_hub.h"
#include "hub/hub_options.h"
#include "test_paths.h"

namespace insitu::test {

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_bytes(const std::filesystem::path& p, const std::string& s) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

inline std::string demo_model_dir() {
  return source_dir() + "/models/demo-llama-14m";
}

class HubTest : public ::testing::Test {
 protected:
  static constexpr const char* kRepo = "test-org/demo-llama-14m";

  void SetUp() override {
    namespace fs = std::filesystem;
    const fs::path repo = served_.path / "test-org" / "demo-llama-14m";
    fs::create_directories(repo);
    for (const auto& e : fs::directory_iterator(demo_model_dir()))
      fs::create_symlink(e.path(), repo / e.path().filename());
    // Present upstream, never needed by insitu.
    write_bytes(repo / "pytorch_model.bin", "not a checkpoint insitu reads");
    write_bytes(repo / "original" / "params.json", "{}");
    hub_ = std::make_unique<FakeHub>(served_.str());
    // libcurl honours proxy variables; the fake hub must be reached directly.
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    options_.endpoint = hub_->endpoint();
    options_.cache_dir = (cache_.path / "hub").string();
    options_.progress = false;
    options_.uqff_org = "uqff-org";
  }

  std::filesystem::path served_repo(const std::string& repo) const { return served_.path / repo; }
  std::filesystem::path cache_repo(const std::string& folder) const {
    return std::filesystem::path(options_.cache_dir) / folder;
  }

  TempDir served_;
  TempDir cache_;
  std::unique_ptr<FakeHub> hub_;
  hub::HubOptions options_;
};

}  // namespace insitu::test
