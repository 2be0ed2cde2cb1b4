#include "core/memory_stats.h"

#include <cstdio>
#include <cstring>

namespace insitu {
namespace {
size_t read_kb_field(const char* file, const char* key) {
  FILE* f = std::fopen(file, "r");
  if (!f) return 0;
  char line[256];
  size_t kb = 0;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, n) == 0) {
      std::sscanf(line + n, " %zu", &kb);
      break;
    }
  std::fclose(f);
  return kb * 1024;
}
}  // namespace

size_t peak_resident_bytes() {
  return read_kb_field("/proc/self/status", "VmHWM:");
}
size_t current_resident_bytes() {
  return read_kb_field("/proc/self/status", "VmRSS:");
}
size_t available_system_bytes() {
  return read_kb_field("/proc/meminfo", "MemAvailable:");
}

}  // namespace insitu
