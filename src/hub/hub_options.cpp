#include "hub/hub_options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace insitu::hub {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string hf_home() {
  if (std::string h = env("HF_HOME"); !h.empty()) return h;
  if (std::string x = env("XDG_CACHE_HOME"); !x.empty()) return x + "/huggingface";
  return env("HOME") + "/.cache/huggingface";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string stored_token() {
  std::string path = env("HF_TOKEN_PATH");
  if (path.empty()) path = hf_home() + "/token";
  std::ifstream f(path);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  return trim(ss.str());
}

}  // namespace

bool env_flag(const char* name) {
  std::string v = trim(env(name));
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string default_cache_dir() {
  if (std::string c = env("HF_HUB_CACHE"); !c.empty()) return c;
  if (std::string c = env("HUGGINGFACE_HUB_CACHE"); !c.empty()) return c;
  return hf_home() + "/hub";
}

HubOptions HubOptions::from_env() {
  HubOptions o;
  if (std::string e = trim(env("HF_ENDPOINT")); !e.empty()) o.endpoint = e;
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  o.token = trim(env("HF_TOKEN"));
  if (o.token.empty()) o.token = stored_token();
  o.offline = env_flag("HF_HUB_OFFLINE");
  o.cache_dir = default_cache_dir();
  o.progress = !env_flag("HF_HUB_DISABLE_PROGRESS_BARS");
  if (std::string org = trim(env("INSITU_UQFF_ORG")); !org.empty()) o.uqff_org = org;
  return o;
}

}  // namespace insitu::hub
