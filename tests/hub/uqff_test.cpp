// UQFF matching (reference §1.7) and the --quant probe order: the model itself, then the
// community repo (hub ids) or the sibling <dir>-UQFF folder (local directories), then ISQ.
#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/hub_test_util.h"
#include "hub/resolve.h"
#include "hub/uqff_match.h"
#include "hub/uqff_probe.h"

namespace insitu::test {
namespace {

namespace fs = std::filesystem;
using hub::UqffGroup;

TEST(UqffMatchTest, ShardNames) {
  auto s = hub::parse_uqff_shard("q4k-12.uqff");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first, "q4k");
  EXPECT_EQ(s->second, 12u);
  s = hub::parse_uqff_shard("model-q8_0-0.uqff");  // split at the last '-'
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first, "model-q8_0");
  EXPECT_FALSE(hub::parse_uqff_shard("q4k.uqff"));
  EXPECT_FALSE(hub::parse_uqff_shard("q4k-x.uqff"));
  EXPECT_FALSE(hub::parse_uqff_shard("q4k-.uqff"));
}

TEST(UqffMatchTest, ExpandsShardRunsFromZeroToTheFirstGap) {
  const std::vector<std::string> listing = {"q4k-0.uqff", "q4k-1.uqff", "q4k-3.uqff",
                                            "q8_0-0.uqff"};
  EXPECT_EQ(hub::expand_uqff_shards("q4k-1.uqff", listing),
            (std::vector<std::string>{"q4k-0.uqff", "q4k-1.uqff"}));
  EXPECT_EQ(hub::expand_uqff_shards("q6k-0.uqff", listing),
            (std::vector<std::string>{"q6k-0.uqff"}));
  EXPECT_EQ(hub::expand_uqff_shards("x.uqff", listing), (std::vector<std::string>{"x.uqff"}));
}

TEST(UqffMatchTest, ShorthandsFollowTheNonMetalExpandOrder) {
  EXPECT_EQ(hub::resolve_uqff_shorthand("4", {"afq4-0.uqff", "q4k-0.uqff"}), "q4k-0.uqff");
  EXPECT_EQ(hub::resolve_uqff_shorthand("4", {"afq4-0.uqff"}), "afq4-0.uqff");
  EXPECT_EQ(hub::resolve_uqff_shorthand("8", {"q8_0-0.uqff", "afq8-0.uqff"}), "q8_0-0.uqff");
  EXPECT_EQ(hub::resolve_uqff_shorthand("Q4_K", {"q4k-0.uqff"}), "q4k-0.uqff");  // alias
  EXPECT_EQ(hub::resolve_uqff_shorthand("q4k", {"q4k-1.uqff"}), std::nullopt);   // needs -0
  EXPECT_EQ(hub::resolve_uqff_shorthand("5", {"afq4-0.uqff"}), std::nullopt);
  EXPECT_EQ(hub::resolve_uqff_shorthand("7", {"q4k-0.uqff"}), std::nullopt);
}

TEST(UqffMatchTest, ReportGroupsMatchByShardNameQuantOrShorthand) {
  const std::vector<std::string> listing = {"a-0.uqff", "a-1.uqff", "b-0.uqff", "uqff_report.json"};
  const std::string report = R"({"schema": 1, "outputs": [
      {"quant": "Q4K", "shards": ["a-0.uqff", "a-1.uqff"]},
      {"quant": "q8_0", "shards": ["b-0.uqff"]}]})";
  const auto groups = hub::parse_uqff_report(report, listing, "r");
  auto g = hub::match_uqff("a-1.uqff", listing, groups);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->quant, "Q4K");
  EXPECT_EQ(g->shards, (std::vector<std::string>{"a-0.uqff", "a-1.uqff"}));
  g = hub::match_uqff("q4k", listing, groups);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->quant, "Q4K");
  g = hub::match_uqff("8", listing, groups);  // 8 -> q8_0 -> alias "q8_0-0.uqff"
  ASSERT_TRUE(g);
  EXPECT_EQ(g->shards, (std::vector<std::string>{"b-0.uqff"}));
  EXPECT_FALSE(hub::match_uqff("6", listing, groups));
}

TEST(UqffMatchTest, InvalidReportsAreErrors) {
  const std::vector<std::string> listing = {"a-0.uqff", "b-0.uqff"};
  auto expect_bad = [&](const std::string& text, const std::string& why) {
    try {
      hub::parse_uqff_report(text, listing, "dir/uqff_report.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dir/uqff_report.json"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  expect_bad(R"({"outputs": []})", "empty");
  expect_bad(R"({"outputs": [{"quant": "", "shards": ["a-0.uqff"]}]})", "empty 'quant'");
  expect_bad(R"({"outputs": [{"quant": "x", "shards": ["a-0.uqff"]},
                             {"quant": "X", "shards": ["b-0.uqff"]}]})",
             "twice");
  expect_bad(R"({"outputs": [{"quant": "x", "shards": []}]})", "no shards");
  expect_bad(R"({"outputs": [{"quant": "x", "shards": ["c-0.uqff"]}]})", "missing");
  expect_bad(R"({"outputs": [{"quant": "x", "shards": ["a-0.uqff"]},
                             {"quant": "y", "shards": ["a-0.uqff"]}]})",
             "two outputs");
  expect_bad("{", "malformed");
}

TEST(UqffMatchTest, ArtifactDetection) {
  EXPECT_TRUE(hub::is_uqff_artifact("Llama-UQFF", {"config.json"}));
  EXPECT_TRUE(hub::is_uqff_artifact("x", {"residual.safetensors"}));
  EXPECT_TRUE(hub::is_uqff_artifact("x", {"uqff_report.json"}));
  EXPECT_TRUE(hub::is_uqff_artifact("x", {"q4k-0.uqff", "config.json"}));
  EXPECT_FALSE(hub::is_uqff_artifact("x", {"q4k-0.uqff", "model.safetensors"}));
  EXPECT_FALSE(hub::is_uqff_artifact("x", {"model.safetensors"}));
}

// --- probe order, local folders ---

class LocalProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = root_.path / "Model";
    write_bytes(model_ / "config.json", "{}");
    write_bytes(model_ / "model.safetensors", "x");
  }
  std::optional<hub::UqffArtifact> probe(const std::string& quant) {
    hub::HubOptions o;
    o.offline = true;  // a local probe must never need the network
    return hub::find_uqff_artifact(hub::describe_model_dir(model_.string()), quant, o);
  }
  TempDir root_;
  fs::path model_;
};

TEST_F(LocalProbeTest, NoArtifactMeansIsq) {
  EXPECT_FALSE(probe("4"));
}

TEST_F(LocalProbeTest, TheFolderItselfComesFirst) {
  write_bytes(model_ / "q4k-0.uqff", "");
  write_bytes(model_ / "q4k-1.uqff", "");
  write_bytes(root_.path / "Model-UQFF" / "q4k-0.uqff", "");
  const auto a = probe("4");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, model_.string());
  EXPECT_FALSE(a->on_hub);
  EXPECT_EQ(a->quant, "q4k");
  EXPECT_EQ(a->shards, (std::vector<std::string>{"q4k-0.uqff", "q4k-1.uqff"}));
}

TEST_F(LocalProbeTest, ThenTheSiblingUqffFolder) {
  write_bytes(root_.path / "Model-UQFF" / "afq4-0.uqff", "");
  const auto a = probe("4");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, (root_.path / "Model-UQFF").string());
  EXPECT_EQ(a->shards, (std::vector<std::string>{"afq4-0.uqff"}));
  // A trailing slash on -m names the same sibling.
  hub::HubOptions o;
  o.offline = true;
  const auto b = hub::find_uqff_artifact(hub::describe_model_dir(model_.string() + "/"), "4", o);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->location, a->location);
  // A sibling without a matching file falls back to ISQ.
  EXPECT_FALSE(probe("q6k"));
}

TEST_F(LocalProbeTest, AnArtifactFolderWithoutAMatchIsAnError) {
  const fs::path art = root_.path / "Other-UQFF";
  write_bytes(art / "q8_0-0.uqff", "");
  write_bytes(art / "config.json", "{}");
  hub::HubOptions o;
  o.offline = true;
  try {
    hub::find_uqff_artifact(hub::describe_model_dir(art.string()), "4", o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q8_0-0.uqff"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(art.string()), std::string::npos) << e.what();
  }
  const auto a = hub::find_uqff_artifact(hub::describe_model_dir(art.string()), "8", o);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, art.string());
}

// --- probe order, hub repos ---

hub::ResolvedModel hub_source(const std::string& repo) {
  return {"/unused", true, repo, "main", FakeHub::commit_of(repo)};
}

TEST_F(HubTest, ProbeFindsTheCommunityRepo) {
  write_bytes(served_repo("uqff-org/demo-llama-14m-UQFF") / "q4k-0.uqff", "u");
  write_bytes(served_repo("uqff-org/demo-llama-14m-UQFF") / "q4k-1.uqff", "u");
  write_bytes(served_repo("uqff-org/demo-llama-14m-UQFF") / "residual.safetensors", "r");
  const auto a = hub::find_uqff_artifact(hub_source(kRepo), "4", options_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, "uqff-org/demo-llama-14m-UQFF");
  EXPECT_TRUE(a->on_hub);
  EXPECT_EQ(a->shards, (std::vector<std::string>{"q4k-0.uqff", "q4k-1.uqff"}));
  // The repo itself was asked first, then the community repo.
  std::vector<std::string> listed;
  for (const auto& r : hub_->requests())
    if (r.path.rfind("/api/models/", 0) == 0) listed.push_back(r.path);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0], "/api/models/test-org/demo-llama-14m/revision/" + FakeHub::commit_of(kRepo));
  EXPECT_EQ(listed[1], "/api/models/uqff-org/demo-llama-14m-UQFF/revision/main");
  // No matching type there: ISQ.
  EXPECT_FALSE(hub::find_uqff_artifact(hub_source(kRepo), "q8_0", options_));
}

TEST_F(HubTest, ProbePrefersTheRepoItselfAndItsReport) {
  const fs::path both = served_repo("test-org/both");
  write_bytes(both / "config.json", "{}");
  write_bytes(both / "model.safetensors", "w");
  write_bytes(both / "mine-0.uqff", "u");
  write_bytes(both / "uqff_report.json",
              R"({"schema": 1, "outputs": [{"quant": "q4k", "shards": ["mine-0.uqff"]}]})");
  write_bytes(served_repo("uqff-org/both-UQFF") / "q4k-0.uqff", "u");
  const auto a = hub::find_uqff_artifact(hub_source("test-org/both"), "4", options_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, "test-org/both");
  EXPECT_EQ(a->shards, (std::vector<std::string>{"mine-0.uqff"}));
}

TEST_F(HubTest, ProbeWithoutCommunityRepoFallsBackToIsq) {
  EXPECT_FALSE(hub::find_uqff_artifact(hub_source(kRepo), "4", options_));
  // Offline: the community repo counts only if it is cached.
  options_.offline = true;
  hub_->clear_log();
  EXPECT_FALSE(hub::find_uqff_artifact(hub_source(kRepo), "4", options_));
  EXPECT_EQ(hub_->request_count(), 0u);
}

TEST_F(HubTest, OfflineProbeReadsTheCachedCommunityRepo) {
  const std::string community = "uqff-org/demo-llama-14m-UQFF";
  const std::string commit = FakeHub::commit_of(community);
  const fs::path snap = cache_repo("models--uqff-org--demo-llama-14m-UQFF") / "snapshots" / commit;
  write_bytes(cache_repo("models--uqff-org--demo-llama-14m-UQFF") / "refs" / "main", commit);
  write_bytes(snap / "q6k-0.uqff", "");
  options_.offline = true;
  const auto a = hub::find_uqff_artifact(hub_source(kRepo), "6", options_);
  EXPECT_EQ(hub_->request_count(), 0u);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->location, community);
  EXPECT_EQ(a->shards, (std::vector<std::string>{"q6k-0.uqff"}));
}

}  // namespace
}  // namespace insitu::test
