// Hub model ids: "org/name" with an optional "@revision" (branch, tag or commit).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace insitu::hub {

struct RepoId {
  std::string org;
  std::string name;
  std::string revision = "main";

  std::string repo() const { return org + "/" + name; }  // "org/name"
  // "models--org--name": the repo's folder in the Hugging Face cache.
  std::string cache_folder() const { return "models--" + org + "--" + name; }
};

// Parses and validates `id` with huggingface_hub's rules (letters, digits, '_', '-', '.';
// no "--" or ".."; parts neither start nor end with '-' or '.'; at most 96 characters) plus
// exactly one '/'. Throws Error(kInvalidArgument) quoting `id` and saying what is wrong.
RepoId parse_repo_id(std::string_view id);
// nullopt instead of throwing; `why` (if given) receives the reason.
std::optional<RepoId> try_parse_repo_id(std::string_view id, std::string* why = nullptr);

// True for a 40-hex-digit git commit id.
bool is_commit_hash(std::string_view s);
// Percent-encodes every byte outside RFC 3986's unreserved set ('/' too): how huggingface_hub
// puts a revision such as "refs/pr/1" into a URL path segment.
std::string url_encode(std::string_view s);
// Encodes each '/'-separated part of a repo file path, keeping the slashes.
std::string url_encode_path(std::string_view path);

}  // namespace insitu::hub
