// Error taxonomy shared by every room.
//
// Library code throws insitu::Error; the CLI (src/cli/main.cpp), the server and the C/Python
// boundaries catch it and turn it into a message plus exit code / HTTP status. Nothing reachable
// from file input may abort: validate and throw with context (file, tensor, field) instead.
#pragma once

#include <stdexcept>
#include <string>

namespace insitu {

enum class ErrorCode {
  kInvalidArgument,  // bad flag, bad API argument
  kUnsupported,      // architecture / type / backend combination we do not run
  kIo,               // open/read/write failure
  kCorruptFile,      // a file whose contents violate its format
  kNotFound,         // missing file or field
  kOutOfMemory,
  kInternal,  // a broken invariant: a bug in insitu
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Cheap invariant check that stays on in release builds; for file data use explicit validation
// with a message that names the file and field instead.
#define INSITU_CHECK(cond, msg)                                                             \
  do {                                                                                      \
    if (!(cond))                                                                            \
      throw ::insitu::Error(::insitu::ErrorCode::kInternal,                                 \
                            std::string("internal check failed: ") + #cond + ": " + (msg)); \
  } while (0)

}  // namespace insitu
