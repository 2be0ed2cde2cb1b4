// Writes safetensors files in the layout huggingface/safetensors produces: compact JSON header
// with "__metadata__" first, padded with spaces to a multiple of 8 bytes, tensors ordered as
// the reference orders them (dtype by decreasing alignment, then name), so every tensor's data
// is aligned to its element size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace insitu {

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // nbytes bytes; may be null when nbytes == 0
  size_t nbytes = 0;           // must equal numel(shape) * dtype_size(dtype)
};

// Streams the header and then each tensor to a temp file beside `path` and renames it into
// place, so a reader never sees a partial file. Throws Error(kInvalidArgument) for duplicate
// or reserved names, negative dims or a size mismatch (naming the tensor), Error(kIo) on write
// failure (naming the path). An empty `metadata` omits "__metadata__".
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The exact bytes write_safetensors would put before the data section (length + header +
// padding), for callers that stream data themselves. Same validation as write_safetensors.
std::string safetensors_prefix(const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata);

}  // namespace insitu
