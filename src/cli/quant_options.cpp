#include "cli/quant_options.h"

#include <cstdio>
#include <optional>

#include "core/error.h"
#include "hub/uqff_probe.h"
#include "model/arch.h"
#include "model/config.h"
#include "model/isq/size_estimate.h"
#include "quant/policy/quant_value.h"

namespace insitu::cli {

void add_quant_options(CLI::App& app, QuantOptions& o) {
  const std::string values = valid_quant_values();
  auto* quant = app.add_option("--quant", o.quant,
                               "quantize: 2,3,4,5,6,8, a type name, or auto (fits memory)");
  auto* isq = app.add_option("--isq", o.isq, "force in-situ quantization to this type");
  quant->excludes(isq);
  isq->excludes(quant);
  app.add_option("--isq-organization", o.organization,
                 "default: attention+MLP+embeddings; moqe: only MoE expert weights")
      ->check(CLI::IsMember({"default", "moqe"}));
  app.add_option("--topology", o.topology, "YAML file mapping layer ranges / name regexes to types")
      ->check(CLI::ExistingFile);
  app.add_flag("--pure", o.pure,
               "quantize every selected tensor to exactly the requested type (no K-quant mixes)");
  app.add_option("--device", o.device,
                 "backend to run on: cpu (default), cuda or metal; also what 2..8 mean (AFQ on "
                 "metal). This build runs on cpu only")
      ->check(CLI::IsMember({"cpu", "cuda", "metal"}));
  // After CLI11 has checked every option, before the final callbacks (the -m hub resolution
  // may download weights): a request the device cannot run fails first.
  app.parse_complete_callback([&o] {
    try {
      check_quant_device(o);
    } catch (const Error& e) {
      std::fprintf(stderr, "insitu: error: %s\n", e.what());
      throw CLI::RuntimeError(1);
    }
  });
}

Backend QuantOptions::backend() const {
  const auto b = parse_backend(device);
  if (!b)
    throw Error(ErrorCode::kInvalidArgument,
                "--device '" + device + "' is not a backend; valid values: cpu, cuda, metal");
  return *b;
}

namespace {
void check_type_on(QuantType t, Backend b, const std::string& what) {
  if (quant_supported_on(t, b)) return;
  const std::string dev(backend_name(b));
  throw Error(ErrorCode::kUnsupported, what + ": " + std::string(quant_info(t).name) +
                                           " is not supported on the " + dev +
                                           " backend (runs on: " + quant_backend_names(t) +
                                           "); types for " + dev + ": " + quant_type_names_on(b));
}

QuantType source_type(const ModelConfig& c) {
  if (c.dtype == "float32") return QuantType::kF32;
  if (c.dtype == "float16") return QuantType::kF16;
  return QuantType::kBF16;
}
// --quant prefers a pre-quantized UQFF artifact (the model itself, then the community repo or
// the sibling <dir>-UQFF folder; reference §1.4). insitu cannot read UQFF files yet, so a match
// stops with a message instead of silently quantizing something other than what was found.
void refuse_uqff_artifact(const std::string& flag_value, const std::string& probe_value,
                          const std::string& model_dir) {
  const auto artifact = hub::find_uqff_artifact(hub::describe_model_dir(model_dir), probe_value,
                                                hub::HubOptions::from_env());
  if (!artifact) return;
  std::string shards;
  for (const auto& s : artifact->shards) shards += (shards.empty() ? "" : ", ") + s;
  throw Error(ErrorCode::kUnsupported,
              "--quant " + flag_value + " selects the UQFF artifact '" + artifact->quant + "' in " +
                  artifact->location + " (" + shards +
                  "), and insitu cannot read UQFF files yet; use --isq " + probe_value +
                  " to quantize in situ instead");
}
}  // namespace

void check_quant_device(const QuantOptions& o) {
  const Backend b = o.backend();
  const std::string& flag_value = !o.isq.empty() ? o.isq : o.quant;
  const std::string flag = (!o.isq.empty() ? "--isq " : "--quant ") + flag_value;
  std::optional<QuantType> requested;
  if (!o.isq.empty())
    requested = parse_quant_value(o.isq, b, "--isq", /*allow_auto=*/false).type;
  else if (!o.quant.empty())
    if (const QuantValue v = parse_quant_value(o.quant, b, "--quant"); !v.is_auto)
      requested = v.type;
  if (requested) check_type_on(*requested, b, flag);
  if (!o.topology.empty()) {
    const Topology topology = Topology::from_file(o.topology);
    for (const TopologyRule& r : topology.rules())
      if (r.type)
        check_type_on(*r.type, b, "--topology " + o.topology + ":" + std::to_string(r.line));
  }
  if (backend_built(b)) return;
  std::string msg = "--device " + o.device + ": this build has no " +
                    std::string(backend_display_name(b)) + " backend (CPU-only build";
  // A shorthand means something else per device (4 is afq4 on metal): say what it became.
  if (requested && quant_info(*requested).name != flag_value)
    msg += "; " + flag + " is " + std::string(quant_info(*requested).name) + " on " + o.device;
  throw Error(ErrorCode::kUnsupported, msg + ")");
}

QuantPolicy resolve_quant_policy(const QuantOptions& o, const std::string& model_dir,
                                 int64_t context) {
  check_quant_device(o);  // normally already done at parse time; cheap, and keeps callers honest
  const Backend backend = o.backend();
  QuantPolicy p;
  p.organization = o.organization == "moqe" ? IsqOrganization::kMoqe : IsqOrganization::kDefault;
  p.pure = o.pure;
  if (!o.topology.empty()) p.topology = Topology::from_file(o.topology);
  if (!o.isq.empty()) {
    p.default_type = parse_quant_value(o.isq, backend, "--isq", /*allow_auto=*/false).type;
  } else if (!o.quant.empty()) {
    const QuantValue v = parse_quant_value(o.quant, backend, "--quant");
    if (v.is_auto) {
      ModelConfig c = load_model_config(model_dir);
      const ArchSpec& arch = find_arch(c.model_type);
      arch.finalize_config(c);
      const AutoChoice choice =
          choose_auto_quant(c, arch, source_type(c), context, default_memory_budget());
      std::fprintf(stderr, "[%s]\n", choice.explanation.c_str());
      if (choice.type)
        refuse_uqff_artifact(o.quant, std::string(quant_info(*choice.type).name), model_dir);
      p.default_type = choice.type;
    } else {
      refuse_uqff_artifact(o.quant, o.quant, model_dir);
      p.default_type = v.type;  // no artifact: quantize in situ (the reference's ISQ fallback)
    }
  }
  if (o.organization == "moqe" && !p.default_type && p.topology.empty())
    std::fprintf(stderr, "[--isq-organization moqe has no effect without --quant/--isq]\n");
  return p;
}

}  // namespace insitu::cli
