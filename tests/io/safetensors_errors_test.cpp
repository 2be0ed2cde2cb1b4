// Every malformed-file case the reader must reject, each built as bytes in a temp directory.
// Each must throw Error(kCorruptFile) whose message names the file and, where a tensor is at
// fault, the tensor.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors/safetensors.h"
#include "io_test_util.h"

namespace insitu {
namespace {

using test::safetensors_image;
using test::TempDir;
using test::write_bytes;

struct BadCase {
  std::string label;   // also the file name
  std::string image;   // whole file
  std::string tensor;  // tensor the message must name ("" when none)
  std::string detail;  // a further phrase the message must contain
};

// A valid entry for a BF16 [2,2] tensor (8 bytes) at [begin, begin+8).
std::string entry(const std::string& name, int begin) {
  return "\"" + name + "\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(begin + 8) + "]}";
}

std::string with_data(const std::string& header, size_t data_bytes) {
  return safetensors_image(header, std::string(data_bytes, '\x11'));
}

std::vector<BadCase> bad_cases() {
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  return {
      {"empty", "", "", "too short"},
      {"short", "abc", "", "too short"},
      {"header_past_end", safetensors_image("{}", "", 100), "", "past the end"},
      {"header_absurd", safetensors_image("{}", "", uint64_t{1} << 40), "", "limit"},
      {"header_u64_max", safetensors_image("{}", "", UINT64_MAX - 1), "", "limit"},
      {"header_empty", safetensors_image(""), "", "does not start with '{'"},
      {"header_array", safetensors_image("[1,2]"), "", "does not start with '{'"},
      {"not_json", safetensors_image("{\"a\":"), "", "invalid JSON"},
      {"trailing_garbage", safetensors_image("{} x"), "", "invalid JSON"},
      {"bad_utf8", safetensors_image("{\"\xff\xfe\":1}"), "", "invalid JSON"},
      {"too_deep", safetensors_image("{\"a\":" + deep + "}"), "", "deeper"},
      {"entry_not_object", with_data("{\"w\":5}", 0), "w", "not a JSON object"},
      {"missing_dtype", with_data("{\"w\":{\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "w",
       "missing \"dtype\""},
      {"missing_shape", with_data("{\"w\":{\"dtype\":\"BF16\",\"data_offsets\":[0,2]}}", 2), "w",
       "missing \"shape\""},
      {"missing_offsets", with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1]}}", 2), "w",
       "missing \"data_offsets\""},
      {"dtype_not_string",
       with_data("{\"w\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "w",
       "not a string"},
      {"unknown_dtype",
       with_data("{\"w\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "w",
       "unknown dtype \"F12\""},
      {"shape_not_array",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":{},\"data_offsets\":[0,2]}}", 2), "w",
       "not an array"},
      {"negative_dim",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[-1,2],\"data_offsets\":[0,2]}}", 2), "w",
       "negative dimension -1"},
      {"float_dim",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1.5],\"data_offsets\":[0,2]}}", 2), "w",
       "not an integer"},
      {"string_dim",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[\"1\"],\"data_offsets\":[0,2]}}", 2), "w",
       "not an integer"},
      {"shape_overflow",
       with_data("{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,16],"
                 "\"data_offsets\":[0,0]}}",
                 0),
       "w", "overflows"},
      {"bytes_overflow",
       with_data("{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
                 "\"data_offsets\":[0,0]}}",
                 0),
       "w", "overflows"},
      {"offsets_one_value",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2]}}", 2), "w",
       "array of two integers"},
      {"offsets_not_array",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":\"0,2\"}}", 2), "w",
       "array of two integers"},
      {"offsets_negative",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[-2,0]}}", 2), "w",
       "non-negative integers"},
      {"offsets_float",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2.0]}}", 2), "w",
       "non-negative integers"},
      {"begin_after_end",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[4,2]}}", 4), "w",
       "begin after end"},
      {"size_mismatch",
       with_data("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", 12), "w",
       "is 24 bytes but"},
      {"offsets_past_end", with_data("{" + entry("w", 0) + "," + entry("v", 8) + "}", 12), "v",
       "past the end of the 12-byte data section"},
      {"overlap", with_data("{" + entry("a", 0) + "," + entry("b", 4) + "}", 12), "b", "overlap"},
      {"overlap_same_span", with_data("{" + entry("a", 0) + "," + entry("b", 0) + "}", 8), "a",
       "overlap"},
      {"duplicate_name", with_data("{" + entry("w", 0) + "," + entry("w", 8) + "}", 16), "",
       "duplicate key \"w\""},
      {"duplicate_field",
       with_data("{\"w\":{\"dtype\":\"BF16\",\"dtype\":\"F32\",\"shape\":[1],"
                 "\"data_offsets\":[0,2]}}",
                 2),
       "", "duplicate key \"dtype\""},
      {"metadata_not_object", with_data("{\"__metadata__\":[1]," + entry("w", 0) + "}", 8), "",
       "\"__metadata__\" is not a JSON object"},
      {"metadata_not_strings",
       with_data("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}," + entry("w", 0) + "}", 8), "",
       "\"step\" is not a string"},
  };
}

TEST(SafetensorsErrors, EveryBadFileIsCorruptFileNamingFileAndTensor) {
  TempDir dir;
  for (const BadCase& c : bad_cases()) {
    SCOPED_TRACE(c.label);
    const std::string path = dir.file(c.label + ".safetensors");
    write_bytes(path, c.image);
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << c.label << ": opened without error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.code(), ErrorCode::kCorruptFile) << msg;
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      if (!c.tensor.empty()) {
        EXPECT_NE(msg.find("\"" + c.tensor + "\""), std::string::npos) << msg;
      }
      EXPECT_NE(msg.find(c.detail), std::string::npos) << msg;
    }
    // parse() on the same bytes must agree with open().
    EXPECT_THROW(SafetensorsFile::parse(reinterpret_cast<const uint8_t*>(c.image.data()),
                                        c.image.size(), path),
                 Error);
  }
}

TEST(SafetensorsErrors, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.file("absent.safetensors");
  try {
    SafetensorsFile::open(path);
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

// Edge cases the format allows and the reference implementation accepts.
TEST(SafetensorsErrors, AcceptsLegalEdgeCases) {
  auto parse = [](const std::string& image, std::map<std::string, std::string>* meta = nullptr) {
    return SafetensorsFile::parse(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                  "mem.safetensors", meta);
  };
  EXPECT_TRUE(parse(safetensors_image("{}")).empty());
  EXPECT_TRUE(parse(safetensors_image("{\"__metadata__\":null}")).empty());
  // Header padded with spaces, as writers do.
  EXPECT_EQ(parse(with_data("{" + entry("w", 0) + "}   ", 8)).size(), 1u);
  // Empty tensors may share an offset with each other and with a real tensor.
  auto empties =
      parse(with_data("{\"e1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                      "\"e2\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}," +
                          entry("w", 0) + "}",
                      8));
  ASSERT_EQ(empties.size(), 3u);
  // Scalars have shape [] and one element.
  auto scalar =
      parse(with_data("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8));
  ASSERT_EQ(scalar.size(), 1u);
  EXPECT_EQ(scalar[0].numel(), 1);
  EXPECT_EQ(scalar[0].nbytes, 8u);
  // F8_E8M0 (MX scales) and the other 1-byte float types.
  auto f8 =
      parse(with_data("{\"a\":{\"dtype\":\"F8_E8M0\",\"shape\":[2],\"data_offsets\":[0,2]},"
                      "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[2,4]},"
                      "\"c\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[4,6]}}",
                      6));
  ASSERT_EQ(f8.size(), 3u);
  EXPECT_EQ(f8[0].dtype, DType::kF8E8M0);
  EXPECT_EQ(f8[1].dtype, DType::kF8E4M3);
  EXPECT_EQ(f8[2].dtype, DType::kF8E5M2);
  // Tensors come back in data-offset order, metadata as strings.
  std::map<std::string, std::string> meta;
  auto ordered = parse(
      with_data(
          "{\"__metadata__\":{\"format\":\"pt\"}," + entry("z", 0) + "," + entry("a", 8) + "}", 16),
      &meta);
  ASSERT_EQ(ordered.size(), 2u);
  EXPECT_EQ(ordered[0].name, "z");
  EXPECT_EQ(ordered[1].name, "a");
  EXPECT_EQ(meta.at("format"), "pt");
}

}  // namespace
}  // namespace insitu
