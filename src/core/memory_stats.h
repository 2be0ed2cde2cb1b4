// Process memory figures from /proc/self/status (Linux), in bytes; 0 when unavailable.
#pragma once

#include <cstddef>

namespace insitu {

size_t peak_resident_bytes();     // VmHWM: the high-water mark of resident memory
size_t current_resident_bytes();  // VmRSS
size_t available_system_bytes();  // MemAvailable from /proc/meminfo

}  // namespace insitu
