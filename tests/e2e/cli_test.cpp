// The insitu binary end to end: demo-model outputs and clean failures on bad input (message
// naming the problem, exit code != 0, never a crash).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "../model/reference_logits.h"
#include "cli_util.h"

namespace fs = std::filesystem;

namespace insitu::test {
namespace {

std::string demo() {
  return source_dir() + "/models/demo-llama-14m";
}

// The full-file perplexity is checked in the library test (DemoModel.Perplexity...); the CLI
// test scores only the first 16 windows, which the reference also reports (ppl_first16).
TEST(Cli, PerplexityOfDemoModelMatchesReference) {
  const auto r = run_insitu("perplexity -t 2 -m " + demo() + " -f " + shared_dir() +
                            "/data/eval.txt --ctx 256 --chunks 16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto pos = r.output.find("perplexity: ");
  ASSERT_NE(pos, std::string::npos) << r.output;
  const double ppl = std::stod(r.output.substr(pos + 12));
  const auto refs = read_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  EXPECT_NEAR(ppl, refs["perplexity"]["ppl_first16"].get<double>(), 0.01);
}

TEST(Cli, RunStreamsTheGreedyChatReply) {
  const auto refs = read_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  const auto r = run_insitu("run -q -t 2 -m " + demo() +
                            " --system 'You are a helpful assistant.' -n 48 --prompt " +
                            quote("Who made the heaven and the earth?"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The reference decodes 48 tokens without stopping; ours stops at eos, so compare the prefix.
  const std::string expected = refs["chat"]["greedy_text"].get<std::string>();
  EXPECT_EQ(r.output.substr(0, 40), expected.substr(0, 40)) << r.output;
}

TEST(Cli, LogitsWritesRawF32) {
  TempDir tmp;
  const auto refs = read_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  const auto& g = refs["greedy"][0];
  std::string ids;
  for (const auto& id : g["prompt_ids"])
    ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  const auto r =
      run_insitu("logits -m " + demo() + " --ids " + ids + " -o " + tmp.str() + "/out.f32");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto got = read_f32_file(tmp.str() + "/out.f32");
  const auto expected = read_f32_file(shared_dir() + "/models/trained-llama-14m-refs/" +
                                      g["logits_file"].get<std::string>());
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_LE(relative_l2(got, expected), 1e-4);
}

TEST(Cli, BenchJsonHasLlamaBenchFields) {
  const auto r = run_insitu("bench -m " + demo() + " -p 32 -n 8 -r 1 -t 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('[')));
  ASSERT_EQ(j.size(), 2u);
  for (const char* k :
       {"n_prompt", "n_gen", "n_threads", "avg_ts", "stddev_ts", "type", "model_size"})
    EXPECT_TRUE(j[0].contains(k)) << k;
  EXPECT_EQ(j[0]["n_prompt"], 32);
  EXPECT_EQ(j[1]["n_gen"], 8);
  EXPECT_EQ(j[0]["type"], "bf16");  // unquantized: the checkpoint dtype
  EXPECT_GT(j[1]["avg_ts"].get<double>(), 0.0);
}

// --matmul-precision: exact and fast logits of a q4_0 model differ by the activation
// rounding only (kernels/matmul_precision.h: ~3e-3 relative L2 on the demo model), auto equals
// fast for q4_0, and bench reports the setting.
TEST(Cli, MatmulPrecisionFlag) {
  TempDir tmp;
  const auto refs = read_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  std::string ids;
  for (const auto& id : refs["greedy"][0]["prompt_ids"])
    ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  std::map<std::string, std::vector<float>> logits;
  for (const char* p : {"exact", "fast", "auto"}) {
    const std::string out = tmp.str() + "/" + p + ".f32";
    const auto r = run_insitu("logits -t 2 -m " + demo() + " --isq q4_0 --matmul-precision " + p +
                              " --ids " + ids + " -o " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    logits[p] = read_f32_file(out);
  }
  const double diff = relative_l2(logits["fast"], logits["exact"]);
  EXPECT_GT(diff, 1e-5);  // the rounding is really on
  EXPECT_LT(diff, 1e-2);
  EXPECT_EQ(logits["auto"], logits["fast"]);
  const auto r = run_insitu("bench -m " + demo() +
                            " -p 8 -n 0 -r 1 -t 2 --isq q4_0 --matmul-precision exact --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('[')));
  EXPECT_EQ(j[0]["matmul_precision"], "exact");
  // A bad environment value is reported and ignored (auto), never fatal.
  const auto env = run_insitu("bench -m " + demo() + " -p 8 -n 0 -r 1 -t 2 --isq q4_0 --json",
                              "INSITU_MATMUL_PRECISION=bogus");
  ASSERT_EQ(env.exit_code, 0) << env.output;
  EXPECT_NE(env.output.find("INSITU_MATMUL_PRECISION=bogus"), std::string::npos) << env.output;
  const auto je = nlohmann::json::parse(env.output.substr(env.output.find('[')));
  EXPECT_EQ(je[0]["matmul_precision"], "auto");
}

// --- bad input -------------------------------------------------------------------------------

// Copies the demo model into a temp dir so a test can damage one file.
struct DamagedModel {
  TempDir tmp;
  DamagedModel() {
    for (const auto& e : fs::directory_iterator(demo()))
      fs::copy_file(e.path(), tmp.path / e.path().filename());
    for (const auto& e : fs::directory_iterator(tmp.path))
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  std::string dir() const { return tmp.str(); }
  std::string file(const std::string& name) const { return (tmp.path / name).string(); }
};

void expect_clean_failure(const std::string& args, const std::string& needle) {
  const auto r = run_insitu(args);
  EXPECT_GT(r.exit_code, 0) << "expected a clean non-zero exit for: " << args << "\n" << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos)
      << "message should mention '" << needle << "':\n"
      << r.output;
}

const char* kShard2 = "model-00002-of-00002.safetensors";

TEST(CliBadInput, TruncatedShard) {
  DamagedModel m;
  fs::resize_file(m.file(kShard2), fs::file_size(m.file(kShard2)) / 2);
  expect_clean_failure("logits -m " + m.dir() + " --ids 1,2 -o " + m.file("o.f32"), kShard2);
  EXPECT_FALSE(fs::exists(m.file("o.f32")));
}

TEST(CliBadInput, HeaderLengthPastEnd) {
  DamagedModel m;
  std::fstream f(m.file(kShard2), std::ios::in | std::ios::out | std::ios::binary);
  const uint64_t huge = 1ull << 40;
  f.write(reinterpret_cast<const char*>(&huge), 8);
  f.close();
  expect_clean_failure("logits -m " + m.dir() + " --ids 1 -o " + m.file("o.f32"), kShard2);
}

void edit_header(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  auto h = nlohmann::json::parse(bytes.substr(8, n));
  edit(h);
  std::string hs = h.dump();
  while (hs.size() % 8) hs += ' ';  // data offsets are relative to the data section
  const uint64_t new_n = hs.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&new_n), 8);
  out.write(hs.data(), hs.size());
  out.write(bytes.data() + 8 + n, bytes.size() - 8 - n);
}

TEST(CliBadInput, OffsetsOutOfRange) {
  DamagedModel m;
  edit_header(m.file(kShard2), [](nlohmann::json& h) {
    for (auto& [k, v] : h.items())
      if (k != "__metadata__") {
        v["data_offsets"][1] = v["data_offsets"][1].get<int64_t>() + 1000000000;
        break;
      }
  });
  expect_clean_failure("logits -m " + m.dir() + " --ids 1 -o " + m.file("o.f32"), kShard2);
}

TEST(CliBadInput, DtypeSizeMismatch) {
  DamagedModel m;
  std::string victim;
  edit_header(m.file(kShard2), [&](nlohmann::json& h) {
    for (auto& [k, v] : h.items())
      if (k != "__metadata__" && v["dtype"] == "BF16") {
        v["dtype"] = "F32";
        victim = k;
        break;
      }
  });
  expect_clean_failure("logits -m " + m.dir() + " --ids 1 -o " + m.file("o.f32"), victim);
}

TEST(CliBadInput, MissingConfigField) {
  DamagedModel m;
  auto cfg = read_json(m.file("config.json"));
  cfg.erase("hidden_size");
  std::ofstream(m.file("config.json")) << cfg.dump();
  expect_clean_failure("logits -m " + m.dir() + " --ids 1 -o " + m.file("o.f32"), "hidden_size");
}

TEST(CliBadInput, UnknownArchitecture) {
  DamagedModel m;
  auto cfg = read_json(m.file("config.json"));
  cfg["model_type"] = "frobnicator";
  std::ofstream(m.file("config.json")) << cfg.dump();
  expect_clean_failure("logits -m " + m.dir() + " --ids 1 -o " + m.file("o.f32"), "frobnicator");
}

TEST(CliBadInput, MissingTokenizer) {
  DamagedModel m;
  fs::remove(m.file("tokenizer.json"));
  expect_clean_failure("run -m " + m.dir() + " --prompt hi", "tokenizer.json");
}

TEST(CliBadInput, MissingModelDirectoryAndBadFlags) {
  expect_clean_failure("run -m /nonexistent/model --prompt hi", "/nonexistent/model");
  expect_clean_failure("logits -m " + demo() + " --ids 1,x -o /tmp/x.f32", "--ids");
  expect_clean_failure("bench -m " + demo() + " -r 0", "repetitions");
  expect_clean_failure("bench -m " + demo() + " --matmul-precision half", "--matmul-precision");
  expect_clean_failure("frobnicate", "frobnicate");
}

}  // namespace
}  // namespace insitu::test

// --- in-situ quantization from the CLI ------------------------------------------------------

namespace insitu::test {
namespace {

double field_mb(const std::string& out, const std::string& key) {
  const auto p = out.find(key);
  if (p == std::string::npos) return -1;
  return std::stod(out.substr(p + key.size()));
}

TEST(CliIsq, LoadingPeaksBelowTheBf16Size) {
  const auto r = run_insitu("bench -t 2 -m " + demo() + " -p 0 -n 1 -r 1 --isq q4k --device cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The table names the request, not the q6k the mix gave layer 0's ffn_down.
  EXPECT_NE(r.output.find("| q4k (mix) | 2 | tg1 |"), std::string::npos) << r.output;
  const double peak = field_mb(r.output, "peak resident ");
  const double source = field_mb(r.output, "size: ");
  ASSERT_GT(peak, 0) << r.output;
  EXPECT_NEAR(source, 28.32, 0.01) << r.output;
  EXPECT_LT(peak, source) << "ISQ must never hold the full-precision model:\n" << r.output;
  // llama.cpp's Q4_K_M mix: 4 attn_v/ffn_down tensors and the tied embedding in q6k.
  EXPECT_NE(r.output.find("q6k x5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("q4k x24"), std::string::npos) << r.output;
}

TEST(CliIsq, QuantShorthandAndTopologyShowInTheSummary) {
  TempDir tmp;
  std::ofstream(tmp.str() + "/topo.yml") << "0-2: {isq: q8_0}\n'/down_proj/': {isq: q2k}\n";
  const auto r = run_insitu("bench -t 2 -m " + demo() + " -p 0 -n 1 -r 1 --quant 4 --topology " +
                            tmp.str() + "/topo.yml");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("q8_0 x12"), std::string::npos) << r.output;  // 6 linears x 2 layers
  EXPECT_NE(r.output.find("q2k x4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("q4k x10"), std::string::npos) << r.output;  // + attn_v of 2, 3 in q6k
  EXPECT_NE(r.output.find("q6k x3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| q4k (mix) + topology | 2 |"), std::string::npos) << r.output;
}

TEST(CliIsq, BadRequestsFailBeforeReadingWeights) {
  TempDir tmp;
  // Unknown type: the message lists the choices.
  expect_clean_failure("bench -m " + demo() + " --isq q9k", "valid values: 2, 3, 4, 5, 6, 8");
  // Conflicting flags.
  expect_clean_failure("bench -m " + demo() + " --isq q4k --quant 4", "excludes");
  // Topology errors name the file and line.
  std::ofstream(tmp.str() + "/bad.yml") << "0-4: {isq: q4k}\n9-2: {isq: q8_0}\n";
  expect_clean_failure("bench -m " + demo() + " --isq q4k --topology " + tmp.str() + "/bad.yml",
                       "bad.yml:2:");
  // moqe on a dense model.
  expect_clean_failure("bench -m " + demo() + " --isq q4k --isq-organization moqe", "moqe");
  expect_clean_failure("bench -m " + demo() + " --isq-organization mixed", "isq-organization");
}

// A model directory holding only config.json: any attempt to open the checkpoint fails with a
// safetensors error, so a test that sees its own message instead proves no weight was read.
struct WeightlessModel {
  TempDir tmp;
  WeightlessModel() { fs::copy_file(demo() + "/config.json", tmp.path / "config.json"); }
  std::string dir() const { return tmp.str(); }
};

void expect_unsupported_before_loading(const std::string& args, const std::string& needle) {
  const auto r = run_insitu(args);
  EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find("insitu: error: " + needle), std::string::npos)
      << "message should be '" << needle << "':\n"
      << r.output;
  EXPECT_EQ(r.output.find("safetensors"), std::string::npos) << "weights were read:\n" << r.output;
  EXPECT_EQ(r.output.find("size: "), std::string::npos) << "a model was loaded:\n" << r.output;
}

TEST(CliDevice, UnsupportedTypeBackendPairListsTheBackendsTypes) {
  WeightlessModel m;
  // Control: on the CPU the same request goes on to open the checkpoint, and says so.
  expect_clean_failure("bench -m " + m.dir() + " --device cpu --isq f8q8", "safetensors");
  expect_unsupported_before_loading(
      "bench -m " + m.dir() + " --device cuda --isq f8q8",
      "--isq f8q8: f8q8 is not supported on the cuda backend (runs on: cpu); types for cuda: "
      "q4_0, q4_1, q5_0, q5_1, q8_0, q2k, q3k, q4k, q5k, q6k, afq2,");
  expect_unsupported_before_loading("run -m " + m.dir() + " --prompt hi --device cuda --quant q8k",
                                    "--quant q8k: q8k is not supported on the cuda backend "
                                    "(runs on: cpu, metal)");
  // A topology entry is checked too, naming its file and line.
  TempDir tmp;
  std::ofstream(tmp.str() + "/topo.yml") << "0-2: {isq: q4k}\n'/down_proj/': {isq: q8_1}\n";
  expect_unsupported_before_loading(
      "perplexity -m " + m.dir() + " -f " + tmp.str() +
          "/topo.yml --device cuda --isq q4k --topology " + tmp.str() + "/topo.yml",
      "--topology " + tmp.str() + "/topo.yml:2: q8_1 is not supported on the cuda backend");
}

TEST(CliDevice, SupportedPairOnAGpuDeviceNeedsThatBackend) {
  WeightlessModel m;
  expect_unsupported_before_loading(
      "bench -m " + m.dir() + " --device cuda --isq q4k",
      "--device cuda: this build has no CUDA backend (CPU-only build)");
  // The shorthand resolves per device: 4 is afq4 on metal (reference §1.3).
  expect_unsupported_before_loading(
      "logits -m " + m.dir() + " --ids 1 -o /dev/null --device metal --quant 4",
      "--device metal: this build has no Metal backend (CPU-only build; --quant 4 is afq4 on "
      "metal)");
  expect_unsupported_before_loading("bench -m " + m.dir() + " --device metal --quant auto",
                                    "--device metal: this build has no Metal backend");
  // Even an unquantized model: dense weights run everywhere, but not in this build.
  expect_unsupported_before_loading("bench -m " + m.dir() + " --device cuda",
                                    "--device cuda: this build has no CUDA backend");
  // Before -m is resolved (which for a hub id downloads the weights).
  expect_unsupported_before_loading("bench -m /nonexistent/model --device cuda --isq q4k",
                                    "--device cuda: this build has no CUDA backend");
}

TEST(CliDevice, UnknownDeviceIsABadFlag) {
  WeightlessModel m;
  const auto r = run_insitu("bench -m " + m.dir() + " --device tpu --isq q4k");
  EXPECT_GT(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--device"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tpu"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("safetensors"), std::string::npos) << r.output;
}

TEST(CliIsq, QuantAutoPicksFullPrecisionWhenItFits) {
  const auto r = run_insitu("bench -t 2 -m " + demo() + " -p 0 -n 1 -r 1 --quant auto");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--quant auto: bf16 (full precision)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace insitu::test
