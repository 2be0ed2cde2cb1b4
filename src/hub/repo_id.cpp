#include "hub/repo_id.h"

#include <cctype>

#include "core/error.h"

namespace insitu::hub {
namespace {

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// One part of "org/name": what huggingface_hub's validate_repo_id accepts.
std::string part_problem(std::string_view p, const char* what) {
  if (p.empty()) return std::string("the ") + what + " is empty";
  for (char c : p)
    if (!is_word(c) && c != '-' && c != '.')
      return std::string("the ") + what + " contains '" + std::string(1, c) +
             "' (allowed: letters, digits, '_', '-', '.')";
  if (!is_word(p.front()) || !is_word(p.back()))
    return std::string("the ") + what + " starts or ends with '-' or '.'";
  if (p.find("--") != std::string_view::npos || p.find("..") != std::string_view::npos)
    return std::string("the ") + what + " contains '--' or '..'";
  return "";
}

// Revisions become URL segments (encoded) and paths under refs/ in the cache, so only git-ref
// characters are allowed and nothing that could climb out of refs/.
std::string revision_problem(std::string_view r) {
  if (r.empty()) return "the revision after '@' is empty";
  for (char c : r)
    if (!is_word(c) && c != '-' && c != '.' && c != '/')
      return "the revision contains '" + std::string(1, c) + "'";
  if (r.front() == '/' || r.back() == '/' || r.find("//") != std::string_view::npos ||
      r.find("..") != std::string_view::npos || r.front() == '.')
    return "the revision is not a valid git ref";
  return "";
}

}  // namespace

std::optional<RepoId> try_parse_repo_id(std::string_view id, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<RepoId> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (id.empty()) return fail("the id is empty");
  std::string_view repo = id;
  RepoId out;
  if (size_t at = id.find('@'); at != std::string_view::npos) {
    repo = id.substr(0, at);
    out.revision = std::string(id.substr(at + 1));
    if (std::string p = revision_problem(out.revision); !p.empty()) return fail(p);
  }
  const size_t slash = repo.find('/');
  if (slash == std::string_view::npos) return fail("it has no '/'");
  if (repo.find('/', slash + 1) != std::string_view::npos) return fail("it has more than one '/'");
  if (repo.size() > 96) return fail("longer than 96 characters");
  out.org = std::string(repo.substr(0, slash));
  out.name = std::string(repo.substr(slash + 1));
  if (std::string p = part_problem(out.org, "organization"); !p.empty()) return fail(p);
  if (std::string p = part_problem(out.name, "model name"); !p.empty()) return fail(p);
  return out;
}

RepoId parse_repo_id(std::string_view id) {
  std::string why;
  if (auto r = try_parse_repo_id(id, &why)) return *r;
  throw Error(ErrorCode::kInvalidArgument, "invalid hub model id '" + std::string(id) +
                                               "': " + why + " (expected org/name[@revision])");
}

bool is_commit_hash(std::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string url_encode_path(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    out += url_encode(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

}  // namespace insitu::hub
