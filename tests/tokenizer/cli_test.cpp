// `insitu tokenize` on a directory holding only tokenizer files. Needs the built binary
// (INSITU_BIN under CTest); skipped when it has not been built.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "tokenizer_test_util.h"

namespace insitu::test {
namespace {

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

TEST(TokenizerCli, TokenizeDirectoryWithOnlyTokenizerFiles) {
  const std::string bin = insitu_bin();
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << "insitu binary not built: " << bin;
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("insitu_tok_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(source_dir() + "/models/demo-llama-14m/tokenizer.json", dir / "tokenizer.json",
                fs::copy_options::overwrite_existing);

  const auto& g =
      cached_json(shared_dir() + "/models/trained-llama-14m-refs/refs.json").at("greedy").at(0);
  std::string want;
  for (int32_t id : to_ids(g.at("prompt_ids")))
    want += (want.empty() ? "" : " ") + std::to_string(id);
  int status = -1;
  std::string out = run_capture("'" + bin + "' tokenize -m '" + dir.string() + "' '" +
                                    g.at("prompt").get<std::string>() + "'",
                                &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, want + "\n");

  // --special adds the template's BOS for Llama 2.
  out = run_capture("'" + bin + "' tokenize -m '" + shared_dir() +
                        "/tokenizers/real/llama2' --special 'Hello world'",
                    &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "1 22557 1526\n");

  out =
      run_capture("'" + bin + "' tokenize -m '" + (dir / "missing").string() + "' x 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("tokenizer.json"), std::string::npos) << out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace insitu::test
