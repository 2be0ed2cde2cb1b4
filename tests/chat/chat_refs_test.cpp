// Renders every reference chat conversation and compares with transformers' output
// (shared/chat_templates, shared/tokenizers/real, the demo model).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "core/error.h"
#include "test_paths.h"

namespace insitu::chat {
namespace {

using nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ordered_json read_json(const std::string& path) {
  return ordered_json::parse(read_file(path));
}

// The references were rendered on 2026-11-27; Llama 3.2 prints that date via strftime_now.
std::time_t reference_day() {
  return 1795780800;
}  // 2026-11-27 12:00:00 UTC

std::string template_path(const std::string& name) {
  // chatml.jinja is the demo model's ChatML template; the others ship in shared/.
  if (name == "chatml.jinja")
    return test::source_dir() + "/models/demo-llama-14m/chat_template.jinja";
  return test::shared_dir() + "/chat_templates/" + name;
}

TEST(ChatTemplateRefs, SharedTemplatesMatchTransformers) {
  ordered_json refs = read_json(test::shared_dir() + "/chat_templates/chat_template_refs.json");
  ASSERT_GE(refs["cases"].size(), 100u);
  int outputs = 0, errors = 0;
  for (const auto& c : refs["cases"]) {
    const std::string name = c["template"].get<std::string>();
    SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>() +
                 (c["add_generation_prompt"].get<bool>() ? " +gen" : ""));
    ChatTemplate tpl(read_file(template_path(name)));
    tpl.set_bos_token(c["bos_token"].get<std::string>());
    tpl.set_eos_token(c["eos_token"].get<std::string>());
    tpl.set_clock(reference_day);
    ordered_json tools = c.contains("tools") ? c["tools"] : ordered_json();
    if (c.contains("output")) {
      ++outputs;
      try {
        EXPECT_EQ(tpl.render(c["messages"], tools, c["add_generation_prompt"].get<bool>()),
                  c["output"].get<std::string>());
      } catch (const Error& e) {
        ADD_FAILURE() << "unexpected error: " << e.what();
      }
    } else {
      ++errors;
      const std::string want = c["error"].get<std::string>();
      try {
        std::string out = tpl.render(c["messages"], tools, c["add_generation_prompt"].get<bool>());
        ADD_FAILURE() << "expected error '" << want << "', rendered: " << out;
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).substr(0, want.size()), want) << e.what();
      }
    }
  }
  EXPECT_EQ(outputs, 82);
  EXPECT_EQ(errors, 26);
}

TEST(ChatTemplateRefs, RealTokenizerConfigsMatchTransformers) {
  const std::string base = test::shared_dir() + "/tokenizers/real/";
  ordered_json refs = read_json(base + "refs.json");
  int checked = 0;
  for (const auto& [name, tok] : refs["tokenizers"].items()) {
    if (tok["chat"].empty()) continue;  // Llama 2's config has no chat template
    ChatTemplate tpl = ChatTemplate::from_dir(base + name);
    for (const auto& c : tok["chat"]) {
      SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>());
      EXPECT_EQ(tpl.render(c["messages"], c["tools"], c["add_generation_prompt"].get<bool>()),
                c["output"].get<std::string>());
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
  EXPECT_THROW(ChatTemplate::from_dir(base + "llama2"), Error);
}

TEST(ChatTemplateRefs, RealTokenizerSpecialTokens) {
  const std::string base = test::shared_dir() + "/tokenizers/real/";
  ChatTemplate llama3 = ChatTemplate::from_dir(base + "llama3_1");
  EXPECT_EQ(llama3.bos_token().value_or("?"), "<|begin_of_text|>");
  EXPECT_EQ(llama3.eos_token().value_or("?"), "<|eot_id|>");
  ChatTemplate qwen3 = ChatTemplate::from_dir(base + "qwen3");
  EXPECT_FALSE(qwen3.bos_token().has_value());  // null in its tokenizer_config.json
  EXPECT_EQ(qwen3.eos_token().value_or("?"), "<|im_end|>");
}

TEST(ChatTemplateRefs, DemoModelPrompt) {
  ordered_json refs = read_json(test::shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  ChatTemplate tpl = ChatTemplate::from_dir(test::source_dir() + "/models/demo-llama-14m");
  EXPECT_EQ(tpl.render(refs["chat"]["messages"], nullptr, true),
            refs["chat"]["prompt_text"].get<std::string>());
}

TEST(ChatTemplateRefs, QwenThinkingSwitchFromExtraContext) {
  ChatTemplate tpl = ChatTemplate::from_dir(test::shared_dir() + "/tokenizers/real/qwen3");
  ordered_json messages = ordered_json::array({{{"role", "user"}, {"content", "Hi"}}});
  EXPECT_EQ(tpl.render(messages, nullptr, true, {{"enable_thinking", false}}),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

}  // namespace
}  // namespace insitu::chat
