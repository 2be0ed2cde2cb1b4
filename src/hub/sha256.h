// Streaming SHA-256 (OpenSSL libcrypto): the hub names LFS files by the SHA-256 of their
// content (the ETag), so a download is verified against its own name.
#pragma once

#include <cstddef>
#include <string>

namespace insitu::hub {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  std::string hex_digest();  // 64 lower-case hex digits; finishes the hash

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so callers need no OpenSSL headers
};

// SHA-256 of a whole file (hex); throws Error(kIo) naming the path.
std::string sha256_file(const std::string& path);

}  // namespace insitu::hub
