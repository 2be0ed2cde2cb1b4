// Read-only memory map of a whole file. Movable, not copyable. release_range() tells the
// kernel a byte range is no longer needed (MADV_DONTNEED), which streaming quantization uses
// to keep the full-precision model from ever being resident.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace insitu {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error(kIo / kNotFound) naming the path.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops the pages of [offset, offset+length) from this process (rounded inward to pages).
  void release_range(size_t offset, size_t length) const;

 private:
  void reset();
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole (small) file into a string; throws Error naming the path.
std::string read_text_file(const std::string& path);
// Writes via a temp file in the same directory and renames, so readers never see partial output.
void write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace insitu
