// Safetensors layout: [u64 little-endian N][N bytes of UTF-8 JSON header][data section].
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} with offsets
// relative to the start of the data section, plus an optional "__metadata__" object of strings.
// Writers pad the header with trailing spaces to a multiple of 8 bytes.
#include "io/safetensors/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.h"
#include "io/json/strict_json.h"

namespace insitu {
namespace {

using Json = nlohmann::json;

// The reference implementation (huggingface/safetensors) refuses headers above 100 MB too; a
// real header is a few hundred bytes per tensor.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(ErrorCode::kCorruptFile, path + ": " + message);
}

[[noreturn]] void fail_tensor(const std::string& path, const std::string& name,
                              const std::string& message) {
  fail(path, "tensor \"" + name + "\": " + message);
}

uint64_t load_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A JSON value that must be a non-negative integer. nlohmann stores non-negative integer
// literals as number_unsigned, negative ones as number_integer and anything with a fraction or
// exponent (or beyond 2^64) as number_float.
enum class IntCheck { kOk, kNegative, kNotInteger };
IntCheck get_u64(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return IntCheck::kOk;
  }
  if (v.is_number_integer()) return IntCheck::kNegative;  // signed => negative
  return IntCheck::kNotInteger;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

TensorInfo parse_entry(const std::string& path, const std::string& name, const Json& entry,
                       uint64_t* begin_out, uint64_t* end_out) {
  if (!entry.is_object()) fail_tensor(path, name, "entry is not a JSON object");
  TensorInfo t;
  t.name = name;

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) fail_tensor(path, name, "missing \"dtype\"");
  if (!dtype_it->is_string()) fail_tensor(path, name, "\"dtype\" is not a string");
  const auto& dtype_name_str = dtype_it->get_ref<const std::string&>();
  auto dtype = dtype_from_safetensors_name(dtype_name_str);
  if (!dtype) fail_tensor(path, name, "unknown dtype \"" + dtype_name_str + "\"");
  t.dtype = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end()) fail_tensor(path, name, "missing \"shape\"");
  if (!shape_it->is_array()) fail_tensor(path, name, "\"shape\" is not an array");
  uint64_t numel = 1;
  bool overflow = false;
  for (const Json& d : *shape_it) {
    uint64_t dim = 0;
    switch (get_u64(d, &dim)) {
      case IntCheck::kNegative:
        fail_tensor(path, name, "negative dimension " + d.dump() + " in \"shape\"");
      case IntCheck::kNotInteger:
        fail_tensor(path, name, "dimension " + d.dump() + " in \"shape\" is not an integer");
      case IntCheck::kOk: break;
    }
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail_tensor(path, name, "dimension " + d.dump() + " in \"shape\" is too large");
    }
    t.shape.push_back(static_cast<int64_t>(dim));
    overflow = overflow || __builtin_mul_overflow(numel, dim, &numel);
  }
  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(numel, uint64_t{dtype_size(t.dtype)}, &nbytes) ||
      numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail_tensor(path, name, "shape " + shape_string(t.shape) + " overflows 64-bit sizes");
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) fail_tensor(path, name, "missing \"data_offsets\"");
  if (!offsets_it->is_array() || offsets_it->size() != 2) {
    fail_tensor(path, name, "\"data_offsets\" is not an array of two integers");
  }
  uint64_t begin = 0, end = 0;
  if (get_u64((*offsets_it)[0], &begin) != IntCheck::kOk ||
      get_u64((*offsets_it)[1], &end) != IntCheck::kOk) {
    fail_tensor(path, name,
                "\"data_offsets\" " + offsets_it->dump() + " are not non-negative integers");
  }
  if (begin > end) {
    fail_tensor(path, name, "\"data_offsets\" " + offsets_it->dump() + " begin after end");
  }
  if (end - begin != nbytes) {
    fail_tensor(path, name,
                "shape " + shape_string(t.shape) + " x " + std::string(dtype_name(t.dtype)) +
                    " is " + std::to_string(nbytes) + " bytes but \"data_offsets\" " +
                    offsets_it->dump() + " span " + std::to_string(end - begin));
  }
  t.nbytes = static_cast<size_t>(nbytes);
  *begin_out = begin;
  *end_out = end;
  return t;
}

void parse_metadata(const std::string& path, const Json& value,
                    std::map<std::string, std::string>* metadata) {
  // The reference reads __metadata__ as Option<HashMap<String, String>>: null means absent.
  if (value.is_null()) return;
  if (!value.is_object()) fail(path, "\"__metadata__\" is not a JSON object");
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail(path, "\"__metadata__\" value of \"" + key + "\" is not a string");
    if (metadata) (*metadata)[key] = v.get<std::string>();
  }
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated against overflow when parsed
  return n;
}

std::vector<TensorInfo> SafetensorsFile::parse(const uint8_t* bytes, size_t size,
                                               const std::string& path,
                                               std::map<std::string, std::string>* metadata) {
  if (size < 8) {
    fail(path, "file is " + std::to_string(size) +
                   " bytes, too short for the 8-byte safetensors header length");
  }
  const uint64_t header_len = load_u64_le(bytes);
  if (header_len > kMaxHeaderBytes) {
    fail(path, "header length " + std::to_string(header_len) + " exceeds the " +
                   std::to_string(kMaxHeaderBytes) + "-byte limit (not a safetensors file?)");
  }
  if (header_len > size - 8) {
    fail(path, "header length " + std::to_string(header_len) + " runs past the end of the " +
                   std::to_string(size) + "-byte file (truncated?)");
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes + 8), header_len);
  if (header.empty() || header.front() != '{') fail(path, "header does not start with '{'");
  const Json root = parse_strict_json(header, path, "safetensors header");
  if (!root.is_object()) fail(path, "header is not a JSON object");

  const size_t data_start = 8 + static_cast<size_t>(header_len);
  const uint64_t data_size = size - data_start;
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<TensorInfo> tensors;
  std::vector<Span> spans;
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      parse_metadata(path, entry, metadata);
      continue;
    }
    uint64_t begin = 0, end = 0;
    TensorInfo t = parse_entry(path, name, entry, &begin, &end);
    if (end > data_size) {
      fail_tensor(path, name,
                  "\"data_offsets\" [" + std::to_string(begin) + "," + std::to_string(end) +
                      "] run past the end of the " + std::to_string(data_size) +
                      "-byte data section (truncated file?)");
    }
    t.file_offset = data_start + static_cast<size_t>(begin);
    t.data = bytes + t.file_offset;
    spans.push_back({begin, end, tensors.size()});
    tensors.push_back(std::move(t));
  }

  // Overlap check in offset order. Empty tensors occupy no bytes and cannot overlap anything.
  // Stable: equal spans (empty tensors) stay in name order, so the result is deterministic.
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const Span* prev = nullptr;
  for (const Span& s : spans) {
    if (s.begin == s.end) continue;
    if (prev && s.begin < prev->end) {
      fail(path, "tensors \"" + tensors[prev->index].name + "\" [" + std::to_string(prev->begin) +
                     "," + std::to_string(prev->end) + ") and \"" + tensors[s.index].name + "\" [" +
                     std::to_string(s.begin) + "," + std::to_string(s.end) + ") overlap");
    }
    prev = &s;
  }

  // Hand tensors back in file order, the order streaming conversion wants to touch them.
  std::vector<TensorInfo> ordered;
  ordered.reserve(tensors.size());
  for (const Span& s : spans) ordered.push_back(std::move(tensors[s.index]));
  return ordered;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.file_ = std::make_unique<MappedFile>(path);
  f.tensors_ = parse(f.file_->data(), f.file_->size(), path, &f.metadata_);
  return f;
}

}  // namespace insitu
