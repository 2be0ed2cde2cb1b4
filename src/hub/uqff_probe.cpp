#include "hub/uqff_probe.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "hub/hf_cache.h"
#include "hub/hub_client.h"
#include "hub/repo_id.h"
#include "hub/uqff_match.h"

namespace fs = std::filesystem;

namespace insitu::hub {
namespace {

// One place to look: its top-level file names and, when it has one, its report text.
struct Place {
  std::string location;
  bool on_hub = false;
  std::string basename;
  std::vector<std::string> listing;
  std::optional<std::string> report_text;
};

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (fs::is_regular_file(e.path(), ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

Place local_place(const std::string& dir) {
  Place p{dir, false, fs::path(dir).lexically_normal().filename().string(), list_dir(dir), {}};
  if (p.basename.empty())
    p.basename = fs::path(dir).lexically_normal().parent_path().filename().string();
  const std::string report = dir + "/" + kUqffReport;
  if (fs::exists(report)) p.report_text = read_text_file(report);
  return p;
}

// A hub repo's place: the file list from the hub, or (offline, or the hub unreachable) from
// the cached snapshot. nullopt when neither is available; `hard` makes a hub error fatal.
std::optional<Place> hub_place(const RepoId& id, const HubOptions& options, HttpClient& http,
                               bool hard) {
  const HfCache cache(options.cache_dir);
  Place p{id.repo(), true, id.name, {}, {}};
  std::optional<std::string> commit;
  if (!options.offline) {
    HubClient hub(options, http);
    try {
      const RepoInfo info = hub.repo_info(id);
      commit = info.commit;
      for (const auto& f : info.files)
        if (f.path.find('/') == std::string::npos) p.listing.push_back(f.path);
      if (const RepoFile* r = info.find(kUqffReport)) {
        hub.download(cache, id, info.commit, *r);
        p.report_text = read_text_file(cache.snapshot_dir(id, info.commit) + "/" + kUqffReport);
      }
      return p;
    } catch (const Error& e) {
      // Not found / no access / no network: the reference treats the repo as absent.
      if (hard && e.code() != ErrorCode::kIo) throw;
    }
  }
  commit = cache.commit_for(id);
  if (!commit || !fs::is_directory(cache.snapshot_dir(id, *commit))) return std::nullopt;
  const std::string dir = cache.snapshot_dir(id, *commit);
  p.listing = list_dir(dir);
  if (fs::exists(dir + "/" + kUqffReport)) p.report_text = read_text_file(dir + "/" + kUqffReport);
  return p;
}

std::optional<UqffArtifact> match_place(const Place& p, const std::string& quant) {
  std::optional<std::vector<UqffGroup>> report;
  if (p.report_text)
    report = parse_uqff_report(*p.report_text, p.listing, p.location + "/" + kUqffReport);
  auto g = match_uqff(quant, p.listing, report);
  if (!g) return std::nullopt;
  return UqffArtifact{p.location, p.on_hub, g->quant, g->shards};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

}  // namespace

std::optional<UqffArtifact> find_uqff_artifact(const ResolvedModel& source,
                                               const std::string& quant, const HubOptions& options,
                                               HttpClient* http) {
  std::unique_ptr<HttpClient> own;
  if (!http) {
    own = make_curl_client();
    http = own.get();
  }
  // 1. The model itself.
  std::optional<Place> self;
  if (source.from_hub) {
    RepoId id = parse_repo_id(source.repo);
    id.revision = source.commit.empty() ? source.revision : source.commit;
    self = hub_place(id, options, *http, /*hard=*/false);
  } else {
    self = local_place(source.dir);
  }
  if (self) {
    if (auto a = match_place(*self, quant)) return a;
    if (is_uqff_artifact(self->basename, self->listing))
      throw Error(ErrorCode::kNotFound,
                  "--quant " + quant + " matches no UQFF file in the artifact " + self->location +
                      " (it has: " + join(uqff_files(self->listing)) + ")");
  }
  // 2. The community repo, or the sibling folder.
  std::optional<Place> other;
  if (source.from_hub) {
    RepoId id = parse_repo_id(source.repo);
    RepoId community{options.uqff_org, id.name + "-UQFF", "main"};
    if (try_parse_repo_id(community.repo())) other = hub_place(community, options, *http, false);
  } else {
    std::string dir = fs::path(source.dir).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (fs::is_directory(dir + "-UQFF")) other = local_place(dir + "-UQFF");
  }
  if (!other) return std::nullopt;
  if (auto a = match_place(*other, quant)) return a;
  std::fprintf(stderr, "[%s has no UQFF file for --quant %s (it has: %s); quantizing in situ]\n",
               other->location.c_str(), quant.c_str(), join(uqff_files(other->listing)).c_str());
  return std::nullopt;
}

}  // namespace insitu::hub
