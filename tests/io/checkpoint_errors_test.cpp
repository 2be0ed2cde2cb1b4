// Sharded-checkpoint failures: truncated, missing or inconsistent shards and malformed indexes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "io/safetensors/safetensors.h"
#include "io/safetensors/writer.h"
#include "io_test_util.h"
#include "test_paths.h"

namespace insitu {
namespace {

namespace fs = std::filesystem;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

const char* const kShard1 = "model-00001-of-00002.safetensors";
const char* const kShard2 = "model-00002-of-00002.safetensors";
const char* const kIndex = "model.safetensors.index.json";

std::string demo_file(const std::string& name) {
  return test::source_dir() + "/models/demo-llama-14m/" + name;
}

// Opens `path` expecting Error(code) whose message contains every one of `needles`.
void expect_open_error(const std::string& path, ErrorCode code,
                       const std::vector<std::string>& needles) {
  try {
    Checkpoint::open(path);
    ADD_FAILURE() << path << ": opened without error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), code) << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << n << " | " << msg;
  }
}

// Writes a one-tensor-per-name U8 file.
void write_small(const std::string& path, const std::vector<std::string>& names) {
  static const uint8_t kBytes[4] = {1, 2, 3, 4};
  std::vector<TensorToWrite> tensors;
  for (const auto& n : names) tensors.push_back({n, DType::kU8, {4}, kBytes, 4});
  write_safetensors(path, tensors);
}

TEST(CheckpointErrors, TruncatedRealShardNamesTheShard) {
  TempDir dir;
  fs::copy_file(demo_file(kIndex), dir.file(kIndex));
  fs::copy_file(demo_file(kShard1), dir.file(kShard1));
  const std::string shard2 = read_bytes(demo_file(kShard2));
  // Cut in the data section, then inside the header.
  for (size_t keep : {shard2.size() / 2, shard2.size() - 1, size_t{100}, size_t{5}}) {
    SCOPED_TRACE(keep);
    write_bytes(dir.file(kShard2), shard2.substr(0, keep));
    expect_open_error(dir.path().string(), ErrorCode::kCorruptFile, {dir.file(kShard2)});
  }
  write_bytes(dir.file(kShard2), shard2);
  EXPECT_EQ(Checkpoint::open(dir.path().string()).names().size(), 38u);
}

TEST(CheckpointErrors, MissingShardIsNotFoundNamingIt) {
  TempDir dir;
  fs::copy_file(demo_file(kIndex), dir.file(kIndex));
  fs::copy_file(demo_file(kShard1), dir.file(kShard1));
  expect_open_error(dir.path().string(), ErrorCode::kNotFound, {kShard2, dir.file(kIndex)});
}

TEST(CheckpointErrors, IndexPromisesTensorMissingFromShard) {
  TempDir dir;
  write_small(dir.file("a.safetensors"), {"x", "y"});
  write_small(dir.file("b.safetensors"), {"z"});
  write_bytes(dir.file(kIndex),
              R"({"weight_map":{"x":"a.safetensors","y":"a.safetensors","z":"b.safetensors",)"
              R"("w":"b.safetensors"}})");
  expect_open_error(dir.path().string(), ErrorCode::kCorruptFile,
                    {dir.file("b.safetensors"), "\"w\""});
  // Present, but in the other shard than the index says.
  write_bytes(dir.file(kIndex),
              R"({"weight_map":{"x":"b.safetensors","y":"a.safetensors","z":"b.safetensors"}})");
  expect_open_error(dir.path().string(), ErrorCode::kCorruptFile,
                    {dir.file("b.safetensors"), "\"x\""});
  // Consistent index opens, and a shard tensor the index does not list is still exposed.
  write_bytes(dir.file(kIndex), R"({"weight_map":{"x":"a.safetensors","z":"b.safetensors"}})");
  const Checkpoint ck = Checkpoint::open(dir.path().string());
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(ck.get("z").shard, 1u);
}

TEST(CheckpointErrors, SameTensorInTwoShards) {
  TempDir dir;
  write_small(dir.file("a.safetensors"), {"x", "y"});
  write_small(dir.file("b.safetensors"), {"y", "z"});
  // Without an index every *.safetensors file is a shard.
  expect_open_error(dir.path().string(), ErrorCode::kCorruptFile,
                    {"\"y\"", dir.file("a.safetensors"), dir.file("b.safetensors")});
  write_bytes(dir.file(kIndex),
              R"({"weight_map":{"x":"a.safetensors","y":"a.safetensors","z":"b.safetensors"}})");
  expect_open_error(dir.path().string(), ErrorCode::kCorruptFile, {"\"y\"", "two shards"});
}

TEST(CheckpointErrors, DirectoryOfShardsWithoutIndex) {
  TempDir dir;
  write_small(dir.file("b.safetensors"), {"z"});
  write_small(dir.file("a.safetensors"), {"x"});
  write_bytes(dir.file("notes.txt"), "not a shard");
  const Checkpoint ck = Checkpoint::open(dir.path().string());
  ASSERT_EQ(ck.num_shards(), 2u);
  EXPECT_EQ(ck.shard(0).path(), dir.file("a.safetensors"));
  EXPECT_EQ(ck.get("z").shard, 1u);
  EXPECT_EQ(ck.total_bytes(), 8u);
}

TEST(CheckpointErrors, MalformedIndex) {
  TempDir dir;
  write_small(dir.file("a.safetensors"), {"x"});
  const struct {
    const char* json;
    const char* detail;
  } cases[] = {
      {"{\"weight_map\":", "invalid JSON"},
      {"[]", "not a JSON object"},
      {"{\"metadata\":{}}", "missing \"weight_map\""},
      {"{\"weight_map\":[\"a.safetensors\"]}", "\"weight_map\" is not a JSON object"},
      {"{\"weight_map\":{}}", "lists no tensors"},
      {"{\"weight_map\":{\"x\":1}}", "\"x\" is not a string"},
      {"{\"weight_map\":{\"x\":\"a.safetensors\",\"x\":\"a.safetensors\"}}", "duplicate key"},
      {"{\"weight_map\":{\"x\":\"../a.safetensors\"}}", "not a relative path"},
      {"{\"weight_map\":{\"x\":\"/etc/a.safetensors\"}}", "not a relative path"},
      {"{\"weight_map\":{\"x\":\"\"}}", "not a relative path"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    write_bytes(dir.file(kIndex), c.json);
    expect_open_error(dir.path().string(), ErrorCode::kCorruptFile, {dir.file(kIndex), c.detail});
  }
}

TEST(CheckpointErrors, NothingToOpen) {
  TempDir dir;
  expect_open_error(dir.path().string(), ErrorCode::kNotFound, {dir.path().string()});
  expect_open_error(dir.file("nope"), ErrorCode::kNotFound, {dir.file("nope")});
}

}  // namespace
}  // namespace insitu
