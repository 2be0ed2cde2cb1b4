// Reads the real checkpoints in the repository and in shared/: the sharded demo model and
// every tiny architecture. Expectations come from an independent reading of each header
// (u64 length + JSON) in the test, plus hard facts about the models.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/safetensors/safetensors.h"
#include "io_test_util.h"
#include "test_paths.h"

namespace insitu {
namespace {

namespace fs = std::filesystem;

std::string demo_dir() {
  return test::source_dir() + "/models/demo-llama-14m";
}

const char* const kTinyArchs[] = {"llama",       "qwen2", "qwen3",   "mistral",  "gemma2",
                                  "gemma3_text", "phi3",  "mixtral", "qwen3_moe"};

// Independent header reading: name -> {"dtype","shape","data_offsets"}, data section start.
struct RawHeader {
  nlohmann::json tensors;
  size_t data_start = 0;
  std::string bytes;
};

RawHeader read_raw(const std::string& path) {
  RawHeader h;
  h.bytes = test::read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, h.bytes.data(), 8);  // little-endian host
  h.tensors = nlohmann::json::parse(h.bytes.substr(8, n));
  h.tensors.erase("__metadata__");
  h.data_start = 8 + n;
  return h;
}

// Every tensor of `file` matches the raw header, and its bytes are the file's bytes.
void expect_matches_raw(const SafetensorsFile& file) {
  const RawHeader raw = read_raw(file.path());
  ASSERT_EQ(file.tensors().size(), raw.tensors.size()) << file.path();
  size_t prev_offset = 0;
  for (const TensorInfo& t : file.tensors()) {
    SCOPED_TRACE(file.path() + " " + t.name);
    ASSERT_TRUE(raw.tensors.contains(t.name));
    const auto& e = raw.tensors[t.name];
    EXPECT_EQ(dtype_name(t.dtype), e["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, e["shape"].get<std::vector<int64_t>>());
    const auto offsets = e["data_offsets"].get<std::vector<size_t>>();
    EXPECT_EQ(t.file_offset, raw.data_start + offsets[0]);
    EXPECT_EQ(t.nbytes, offsets[1] - offsets[0]);
    EXPECT_EQ(t.nbytes, static_cast<size_t>(t.numel()) * dtype_size(t.dtype));
    EXPECT_EQ(t.data, file.file().data() + t.file_offset);
    EXPECT_EQ(std::memcmp(t.data, raw.bytes.data() + t.file_offset, t.nbytes), 0);
    EXPECT_GE(t.file_offset, prev_offset);  // file order
    prev_offset = t.file_offset;
  }
}

TEST(SafetensorsModels, DemoModelShardedByIndex) {
  const Checkpoint ck = Checkpoint::open(demo_dir());
  ASSERT_EQ(ck.num_shards(), 2u);
  for (size_t i = 0; i < ck.num_shards(); ++i) {
    expect_matches_raw(ck.shard(i));
    EXPECT_EQ(ck.shard(i).metadata().at("format"), "pt");
  }

  const TensorInfo& embed = ck.get("model.embed_tokens.weight");
  EXPECT_EQ(embed.dtype, DType::kBF16);
  EXPECT_EQ(embed.shape, (std::vector<int64_t>{4096, 512}));
  EXPECT_EQ(embed.nbytes, 4096u * 512u * 2u);
  EXPECT_EQ(ck.shard(embed.shard).path(), demo_dir() + "/model-00001-of-00002.safetensors");
  EXPECT_EQ(ck.get("model.layers.1.input_layernorm.weight").shape, std::vector<int64_t>{512});
  EXPECT_EQ(ck.get("model.layers.0.mlp.down_proj.weight").shape, (std::vector<int64_t>{512, 1536}));
  EXPECT_EQ(ck.find("lm_head.weight"), nullptr);  // tied embeddings

  // Names and shards agree with the index; total size with its metadata.
  const auto index =
      nlohmann::json::parse(test::read_bytes(demo_dir() + "/model.safetensors.index.json"));
  std::vector<std::string> want;
  for (const auto& [name, file] : index["weight_map"].items()) {
    want.push_back(name);
    EXPECT_EQ(fs::path(ck.shard(ck.get(name).shard).path()).filename().string(),
              file.get<std::string>());
  }
  EXPECT_EQ(ck.names(), want);                 // json object keys iterate sorted too
  EXPECT_EQ(ck.names().size(), 2u + 9u * 4u);  // embed, norm, 4 layers x 9
  EXPECT_EQ(ck.total_bytes(), index["metadata"]["total_size"].get<size_t>());
  EXPECT_EQ(ck.total_bytes(), 28320768u);
}

TEST(SafetensorsModels, DemoModelOpensViaIndexFileAndSingleShard) {
  const Checkpoint by_index = Checkpoint::open(demo_dir() + "/model.safetensors.index.json");
  EXPECT_EQ(by_index.num_shards(), 2u);
  EXPECT_EQ(by_index.names().size(), 38u);

  const Checkpoint one = Checkpoint::open(demo_dir() + "/model-00002-of-00002.safetensors");
  EXPECT_EQ(one.num_shards(), 1u);
  EXPECT_EQ(one.names().size(), one.shard(0).tensors().size());
  EXPECT_EQ(one.find("model.embed_tokens.weight"), nullptr);
  EXPECT_NE(one.find("model.norm.weight"), nullptr);
}

TEST(SafetensorsModels, EveryTinyModel) {
  for (const char* arch : kTinyArchs) {
    SCOPED_TRACE(arch);
    const std::string dir = test::shared_dir() + "/models/tiny/" + arch;
    const Checkpoint ck = Checkpoint::open(dir);
    ASSERT_EQ(ck.num_shards(), 1u);
    EXPECT_EQ(ck.shard(0).path(), dir + "/model.safetensors");
    expect_matches_raw(ck.shard(0));
    const TensorInfo& embed = ck.get("model.embed_tokens.weight");
    EXPECT_EQ(embed.dtype, DType::kBF16);
    EXPECT_EQ(embed.shape, (std::vector<int64_t>{256, 128}));
    EXPECT_NE(ck.find("model.norm.weight"), nullptr);
    size_t total = 0;
    for (const auto& t : ck.shard(0).tensors()) total += t.nbytes;
    EXPECT_EQ(ck.total_bytes(), total);
  }
  // qwen3 ties embeddings; llama does not.
  EXPECT_EQ(Checkpoint::open(test::shared_dir() + "/models/tiny/qwen3").find("lm_head.weight"),
            nullptr);
  EXPECT_EQ(Checkpoint::open(test::shared_dir() + "/models/tiny/llama").get("lm_head.weight").shape,
            (std::vector<int64_t>{256, 128}));
}

TEST(SafetensorsModels, GetMissingTensorIsNotFoundNamingIt) {
  const Checkpoint ck = Checkpoint::open(test::shared_dir() + "/models/tiny/llama");
  try {
    ck.get("model.no_such.weight");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("model.no_such.weight"), std::string::npos);
  }
}

TEST(SafetensorsModels, ReleaseKeepsDataReadable) {
  // MADV_DONTNEED on a read-only file mapping drops the pages; touching them again reads the
  // file back, so the bytes are unchanged.
  const Checkpoint ck = Checkpoint::open(demo_dir());
  const TensorInfo& t = ck.get("model.embed_tokens.weight");
  const std::string before(reinterpret_cast<const char*>(t.data), t.nbytes);
  ck.release(t);
  EXPECT_EQ(std::memcmp(before.data(), t.data, t.nbytes), 0);
}

}  // namespace
}  // namespace insitu
