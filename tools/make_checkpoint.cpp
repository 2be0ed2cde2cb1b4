// make_checkpoint: writes a deterministic random-weight safetensors checkpoint for any
// config.json of a supported architecture, so benchmarks can run real model shapes without
// downloading weights. Tensor names and shapes come from the architecture's tensor table (the
// same table the loader uses). Matrices ~ U(-a, a) with std 0.02, norm weights 1 (0 for Gemma's
// 1+w norms), biases 0. Same config + seed => same bytes.
//
//   make_checkpoint CONFIG.json OUT_DIR [--dtype bf16|f16|f32] [--seed N]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/mapped_file.h"
#include "core/thread_pool.h"
#include "io/safetensors/writer.h"
#include "model/arch.h"
#include "model/config.h"

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace insitu;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: make_checkpoint CONFIG.json OUT_DIR [--dtype bf16|f16|f32] [--seed N]\n");
    return 2;
  }
  std::string dtype_name = "bf16";
  uint64_t seed = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dtype"))
      dtype_name = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seed"))
      seed = std::stoull(argv[i + 1]);
  }
  try {
    const std::string config_path = argv[1], out = argv[2];
    auto j = nlohmann::json::parse(read_text_file(config_path));
    ModelConfig c = parse_model_config(j, config_path);
    const ArchSpec& arch = find_arch(c.model_type);
    arch.finalize_config(c);
    DType dt = dtype_name == "f32" ? DType::kF32 : dtype_name == "f16" ? DType::kF16 : DType::kBF16;
    if (dtype_name != "f32" && dtype_name != "f16" && dtype_name != "bf16")
      throw Error(ErrorCode::kInvalidArgument, "--dtype must be bf16, f16 or f32");
    j["torch_dtype"] = dtype_name == "f32"   ? "float32"
                       : dtype_name == "f16" ? "float16"
                                             : "bfloat16";
    j.erase("dtype");
    j.erase("quantization_config");

    std::filesystem::create_directories(out);
    ThreadPool pool(0);
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<TensorToWrite> tensors;
    const size_t esz = dtype_size(dt);
    for (const TensorSpec& spec : arch.tensors(c)) {
      if (!spec.required && !spec.tied_to.empty()) continue;  // tied head: not stored
      int64_t n = 1;
      for (int64_t d : spec.shape) n *= d;
      buffers.emplace_back(n * esz);
      uint8_t* data = buffers.back().data();
      const bool is_norm = spec.shape.size() == 1 && spec.name.find("norm") != std::string::npos;
      const bool is_bias = spec.name.size() > 5 && spec.name.ends_with(".bias");
      const float norm_value = arch.traits.norm_weight_offset != 0 ? 0.0f : 1.0f;
      const uint64_t h = name_hash(spec.name) ^ seed;
      pool.parallel_for(n, 4096, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) {
          float v;
          if (is_norm)
            v = norm_value;
          else if (is_bias)
            v = 0.0f;
          else {
            // U(-a, a) has std a/sqrt(3): a = 0.02 * sqrt(3).
            const double u = static_cast<double>(splitmix64(h + i) >> 11) * 0x1.0p-53;
            v = static_cast<float>((2.0 * u - 1.0) * 0.034641016);
          }
          if (dt == DType::kF32)
            std::memcpy(data + i * 4, &v, 4);
          else {
            const uint16_t b16 = dt == DType::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
            std::memcpy(data + i * 2, &b16, 2);
          }
        }
      });
      tensors.push_back({spec.name, dt, spec.shape, data, static_cast<size_t>(n) * esz});
    }
    write_safetensors(out + "/model.safetensors", tensors, {{"format", "pt"}});
    const std::string cfg = j.dump(2);
    write_file_atomic(out + "/config.json", cfg.data(), cfg.size());
    size_t total = 0;
    for (const auto& t : tensors) total += t.nbytes;
    std::printf("wrote %s/model.safetensors: %zu tensors, %.2f GB (%s)\n", out.c_str(),
                tensors.size(), total / 1e9, dtype_name.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_checkpoint: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
