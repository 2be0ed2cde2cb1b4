// Safetensors checkpoints: one file, or shards listed by model.safetensors.index.json.
//
// Files are memory-mapped; tensor data is never copied by the reader. Every header is validated
// strictly before any tensor is exposed (header length, JSON, dtype, shape x dtype = byte length,
// offsets inside the data section, no overlaps, no duplicate names); each failure throws
// insitu::Error(kCorruptFile) whose message names the file and, where there is one, the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace insitu {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file
  size_t nbytes = 0;
  size_t shard = 0;        // index into Checkpoint's shards
  size_t file_offset = 0;  // absolute byte offset of the data in its file

  int64_t numel() const;
};

// One parsed safetensors file.
class SafetensorsFile {
 public:
  // Maps and validates the file. Throws Error naming the path (and tensor) on any problem.
  // tensors() are in data-offset (file) order.
  static SafetensorsFile open(const std::string& path);
  // Validates a header held in memory (used by the fuzz target and tests): `bytes` is the whole
  // file image. Throws like open(). `path` is only used in messages.
  static std::vector<TensorInfo> parse(const uint8_t* bytes, size_t size, const std::string& path,
                                       std::map<std::string, std::string>* metadata = nullptr);

  const std::string& path() const { return file_->path(); }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const MappedFile& file() const { return *file_; }

 private:
  friend class Checkpoint;  // numbers the shard of each tensor
  std::unique_ptr<MappedFile> file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A whole checkpoint directory (or a single .safetensors file path).
class Checkpoint {
 public:
  // dir: a directory holding model.safetensors, or model.safetensors.index.json plus shards,
  // or any set of *.safetensors files; or a path to one .safetensors file or to an
  // *.index.json file. Throws Error naming the missing/corrupt file; a shard named by the
  // index that is missing or lacks a tensor the index promises is an error too, and so is a
  // tensor present in two shards.
  static Checkpoint open(const std::string& path);

  // The path open() was given (directory, index file or single file), for messages.
  const std::string& path() const { return path_; }

  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  const TensorInfo& get(std::string_view name) const;   // throws kNotFound naming the tensor
  std::vector<std::string> names() const;               // sorted
  size_t num_shards() const { return shards_.size(); }
  const SafetensorsFile& shard(size_t i) const { return shards_[i]; }
  // Total bytes of tensor data across shards.
  size_t total_bytes() const;
  // Drops the tensor's pages from memory (after it has been converted or quantized).
  void release(const TensorInfo& t) const;

 private:
  std::string path_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, const TensorInfo*, std::less<>> by_name_;
};

}  // namespace insitu
