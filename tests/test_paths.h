// Paths tests use: the shared reference data (../shared beside the checkout), the source tree
// and the built insitu binary (INSITU_BIN, set by CTest).
#pragma once

#include <cstdlib>
#include <string>

namespace insitu::test {

inline std::string shared_dir() {
  if (const char* s = std::getenv("INSITU_SHARED")) return s;
  return INSITU_SHARED_DIR;
}
inline std::string source_dir() { return INSITU_SOURCE_DIR; }
inline std::string insitu_bin() {
  if (const char* s = std::getenv("INSITU_BIN")) return s;
  return std::string(INSITU_BINARY_DIR) + "/src/insitu";  // default layout
}

}  // namespace insitu::test
