// One accessor per architecture file; arch_registry.cpp lists them. (An explicit list rather
// than static self-registration, which a static library's linker would silently drop.)
#pragma once

#include "model/arch.h"

namespace insitu::archs {
const ArchSpec& llama();
const ArchSpec& mistral();
const ArchSpec& qwen2();
const ArchSpec& qwen3();
const ArchSpec& gemma2();
const ArchSpec& gemma3_text();
const ArchSpec& phi3();
const ArchSpec& mixtral();
const ArchSpec& qwen3_moe();
}  // namespace insitu::archs
