// The safetensors writer: round trips, the reference layout (byte-identical rewrites of real
// checkpoints), alignment, and argument/IO errors.
#include "io/safetensors/writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "io/safetensors/safetensors.h"
#include "io_test_util.h"
#include "test_paths.h"

namespace insitu {
namespace {

using test::read_bytes;
using test::TempDir;

TEST(SafetensorsWriter, RoundTripMixedDtypesAligned) {
  TempDir dir;
  std::vector<uint8_t> u8 = {7, 8, 9};
  std::vector<float> f32(6);
  std::iota(f32.begin(), f32.end(), -2.5f);
  std::vector<uint16_t> bf16 = {0x3f80, 0x4000, 0xbf80, 0x0000, 0x7f80};
  std::vector<int64_t> i64 = {-1, INT64_MAX};
  std::vector<uint8_t> boolean = {1};
  double scalar = 3.25;
  const std::vector<TensorToWrite> tensors = {
      {"u8", DType::kU8, {3}, u8.data(), u8.size()},
      {"f32", DType::kF32, {2, 3}, f32.data(), f32.size() * 4},
      {"bf16", DType::kBF16, {5}, bf16.data(), bf16.size() * 2},
      {"i64", DType::kI64, {2}, i64.data(), 16},
      {"flag", DType::kBool, {1}, boolean.data(), 1},
      {"empty", DType::kF16, {0, 4}, nullptr, 0},
      {"scalar", DType::kF64, {}, &scalar, 8},
  };
  const std::string path = dir.file("out.safetensors");
  write_safetensors(path, tensors, {{"format", "pt"}, {"note", "ünïcode"}});

  const SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "ünïcode");
  ASSERT_EQ(f.tensors().size(), tensors.size());
  const Checkpoint ck = Checkpoint::open(path);
  for (const auto& want : tensors) {
    SCOPED_TRACE(want.name);
    const TensorInfo& got = ck.get(want.name);
    EXPECT_EQ(got.dtype, want.dtype);
    EXPECT_EQ(got.shape, want.shape);
    ASSERT_EQ(got.nbytes, want.nbytes);
    if (want.nbytes) {
      EXPECT_EQ(std::memcmp(got.data, want.data, want.nbytes), 0);
    }
    EXPECT_EQ(got.file_offset % dtype_size(got.dtype), 0u);  // aligned to its element size
  }
  // The reference order: dtypes by decreasing alignment rank (U64 I64 F64 F32 ... BF16 F16 ...
  // U8 BOOL), then names; the empty F16 tensor sits at the offset of the next one.
  std::vector<std::string> order;
  for (const auto& t : f.tensors()) order.push_back(t.name);
  EXPECT_EQ(order,
            (std::vector<std::string>{"i64", "scalar", "f32", "bf16", "empty", "u8", "flag"}));

  // Header: length a multiple of 8, padded with spaces, __metadata__ first.
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.rfind("{\"__metadata__\":{\"format\":\"pt\",", 0), 0u) << header;
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  EXPECT_EQ(bytes.size(), 8 + n + 3 + 24 + 10 + 16 + 1 + 8);
}

TEST(SafetensorsWriter, RewritingRealCheckpointsIsByteIdentical) {
  std::vector<std::string> files = {test::source_dir() +
                                    "/models/demo-llama-14m/model-00002-of-00002.safetensors"};
  for (const char* arch : {"llama", "qwen2", "phi3", "mixtral", "gemma3_text"}) {
    files.push_back(test::shared_dir() + "/models/tiny/" + arch + "/model.safetensors");
  }
  TempDir dir;
  for (const auto& src : files) {
    SCOPED_TRACE(src);
    const SafetensorsFile in = SafetensorsFile::open(src);
    std::vector<TensorToWrite> tensors;
    for (const auto& t : in.tensors()) {
      tensors.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    }
    std::reverse(tensors.begin(), tensors.end());  // the writer picks the order itself
    const std::string out = dir.file("rewrite.safetensors");
    write_safetensors(out, tensors, in.metadata());
    EXPECT_TRUE(read_bytes(out) == read_bytes(src));
  }
}

// The byte-exact example from huggingface/safetensors' own serialization test.
TEST(SafetensorsWriter, MatchesReferenceSerializationExample) {
  TempDir dir;
  const float x[6] = {0, 1, 2, 3, 4, 5};
  write_safetensors(dir.file("ref.safetensors"), {{"attn.0", DType::kF32, {1, 2, 3}, x, 24}});
  const std::string json = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(json.size(), 64u);  // already a multiple of 8: no padding
  const std::string want =
      test::safetensors_image(json, std::string(reinterpret_cast<const char*>(x), 24));
  EXPECT_TRUE(read_bytes(dir.file("ref.safetensors")) == want);

  // An empty file is "{}" padded with six spaces.
  write_safetensors(dir.file("empty.safetensors"), {});
  EXPECT_EQ(read_bytes(dir.file("empty.safetensors")), test::safetensors_image("{}      "));
}

TEST(SafetensorsWriter, PrefixMatchesWrittenFile) {
  TempDir dir;
  const float x[2] = {1.f, 2.f};
  const std::vector<TensorToWrite> tensors = {{"x", DType::kF32, {2}, x, 8}};
  write_safetensors(dir.file("p.safetensors"), tensors);
  const std::string bytes = read_bytes(dir.file("p.safetensors"));
  const std::string prefix = safetensors_prefix(tensors, {});
  EXPECT_EQ(bytes.substr(0, prefix.size()), prefix);
  EXPECT_EQ(bytes.size(), prefix.size() + 8);
  EXPECT_EQ(prefix.find("__metadata__"), std::string::npos);  // omitted when empty
}

TEST(SafetensorsWriter, RejectsBadTensorsNamingThem) {
  TempDir dir;
  const uint8_t b[8] = {};
  const struct {
    TensorToWrite bad;
    const char* detail;
  } cases[] = {
      {{"__metadata__", DType::kU8, {1}, b, 1}, "reserved"},
      {{"w", DType::kF32, {3}, b, 8}, "does not match"},
      {{"w", DType::kU8, {-1}, b, 1}, "negative dimension"},
      {{"w", DType::kU8, {4}, nullptr, 4}, "null"},
      {{"w", DType::kU8, {4611686018427387904, 8}, b, 8}, "overflows"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.detail);
    try {
      write_safetensors(dir.file("bad.safetensors"), {c.bad});
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("\"" + c.bad.name + "\""), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(c.detail), std::string::npos) << e.what();
    }
  }
  const std::vector<TensorToWrite> dup = {{"w", DType::kU8, {1}, b, 1},
                                          {"w", DType::kU8, {1}, b, 1}};
  EXPECT_THROW(write_safetensors(dir.file("dup.safetensors"), dup), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // nothing written on failure
}

TEST(SafetensorsWriter, IoErrorNamesPathAndOverwritesAtomically) {
  TempDir dir;
  const uint8_t b[1] = {5};
  const std::string missing_dir = dir.file("no/such/dir/x.safetensors");
  try {
    write_safetensors(missing_dir, {{"w", DType::kU8, {1}, b, 1}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find(missing_dir), std::string::npos);
  }
  const std::string path = dir.file("x.safetensors");
  write_safetensors(path, {{"a", DType::kU8, {1}, b, 1}});
  write_safetensors(path, {{"b", DType::kU8, {1}, b, 1}});
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(ck.names(), std::vector<std::string>{"b"});
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);  // no temp file left behind
}

}  // namespace
}  // namespace insitu
