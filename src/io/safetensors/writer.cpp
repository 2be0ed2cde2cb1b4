#include "io/safetensors/writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "core/error.h"

namespace insitu {
namespace {

[[noreturn]] void bad_tensor(const std::string& name, const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "write_safetensors: tensor \"" + name + "\": " + msg);
}

// Rank of each dtype in huggingface/safetensors' Dtype enum, which is declared in increasing
// alignment order. Its writer sorts tensors by that rank, descending, then by name, so each
// tensor starts at a multiple of its element size (the header is padded to 8 bytes).
int reference_rank(DType t) {
  switch (t) {
    case DType::kBool: return 0;
    case DType::kU8: return 1;
    case DType::kI8: return 2;
    case DType::kF8E5M2: return 3;
    case DType::kF8E4M3: return 4;
    case DType::kF8E8M0: return 5;
    case DType::kI16: return 6;
    case DType::kU16: return 7;
    case DType::kF16: return 8;
    case DType::kBF16: return 9;
    case DType::kI32: return 10;
    case DType::kU32: return 11;
    case DType::kF32: return 12;
    case DType::kF64: return 13;
    case DType::kI64: return 14;
    case DType::kU64: return 15;
  }
  return 0;
}

std::vector<size_t> write_order(const std::vector<TensorToWrite>& tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int ra = reference_rank(tensors[a].dtype), rb = reference_rank(tensors[b].dtype);
    return ra != rb ? ra > rb : tensors[a].name < tensors[b].name;
  });
  return order;
}

void validate(const std::vector<TensorToWrite>& tensors) {
  std::set<std::string_view> seen;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__") bad_tensor(t.name, "name is reserved for metadata");
    if (!seen.insert(t.name).second) bad_tensor(t.name, "name given twice");
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0) bad_tensor(t.name, "negative dimension " + std::to_string(d));
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) {
        bad_tensor(t.name, "shape overflows 64-bit sizes");
      }
    }
    uint64_t want = 0;
    if (__builtin_mul_overflow(numel, uint64_t{dtype_size(t.dtype)}, &want) || want != t.nbytes) {
      bad_tensor(t.name, "nbytes " + std::to_string(t.nbytes) + " does not match shape x " +
                             std::string(dtype_name(t.dtype)));
    }
    if (t.nbytes > 0 && t.data == nullptr) bad_tensor(t.name, "data is null");
  }
}

std::string prefix_for(const std::vector<TensorToWrite>& tensors, const std::vector<size_t>& order,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
  }
  uint64_t offset = 0;
  for (size_t i : order) {
    const auto& t = tensors[i];
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = std::string(dtype_name(t.dtype));
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + t.nbytes};
    header[t.name] = std::move(entry);
    offset += t.nbytes;
  }
  // Invalid UTF-8 in a name or metadata value throws from dump(); the file could not be read.
  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidArgument, std::string("write_safetensors: ") + e.what());
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace

std::string safetensors_prefix(const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  validate(tensors);
  return prefix_for(tensors, write_order(tensors), metadata);
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  validate(tensors);
  const std::vector<size_t> order = write_order(tensors);
  const std::string prefix = prefix_for(tensors, order, metadata);

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(ErrorCode::kIo, tmp + ": cannot create: " + std::strerror(errno));
  int err = 0;  // errno of the first failure
  auto step = [&](bool good) {
    if (!good && err == 0) err = errno != 0 ? errno : EIO;
    return good;
  };
  bool ok = step(std::fwrite(prefix.data(), 1, prefix.size(), f) == prefix.size());
  for (size_t i : order) {
    if (!ok) break;
    const auto& t = tensors[i];
    ok = step(t.nbytes == 0 || std::fwrite(t.data, 1, t.nbytes, f) == t.nbytes);
  }
  // fsync before rename: after a crash the name must not point at a file with missing data.
  ok = ok && step(std::fflush(f) == 0) && step(::fsync(::fileno(f)) == 0);
  ok = step(std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(ErrorCode::kIo, path + ": write failed: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw Error(ErrorCode::kIo, path + ": cannot rename temp file: " + std::strerror(e));
  }
}

}  // namespace insitu
