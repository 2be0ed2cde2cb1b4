// Where and how insitu talks to the Hugging Face hub: endpoint, token, offline switch, cache
// root and the organisation that publishes community UQFF artifacts. from_env() reads the same
// environment variables as huggingface_hub, so both tools share one cache and one login.
#pragma once

#include <string>

namespace insitu::hub {

// The reference publishes pre-quantized UQFF artifacts as <org>/<model name>-UQFF under this
// organisation; users' existing artifacts are found there unless INSITU_UQFF_ORG overrides it.
inline constexpr const char* kDefaultUqffOrg = "mistralrs-community";
inline constexpr const char* kDefaultEndpoint = "https://huggingface.co";

struct HubOptions {
  std::string endpoint = kDefaultEndpoint;  // no trailing '/'
  std::string token;                        // empty: anonymous
  bool offline = false;                     // cache only, never a request
  std::string cache_dir;                    // the "hub" directory holding models--org--name/
  std::string uqff_org = kDefaultUqffOrg;
  bool progress = true;  // progress bar on stderr when it is a TTY
  int max_attempts = 5;  // per file; each retry resumes with Range
  long connect_timeout_s = 10;
  long stall_timeout_s = 60;  // abort a transfer that moves no byte this long

  // HF_ENDPOINT, HF_TOKEN (else the file $HF_TOKEN_PATH or $HF_HOME/token that `hf auth login`
  // writes), HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME, HF_HUB_DISABLE_PROGRESS_BARS,
  // INSITU_UQFF_ORG.
  static HubOptions from_env();
};

// $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (legacy), else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub: huggingface_hub's order.
std::string default_cache_dir();
// huggingface_hub's truthiness for boolean variables: 1, ON, YES, TRUE (any case).
bool env_flag(const char* name);

}  // namespace insitu::hub
