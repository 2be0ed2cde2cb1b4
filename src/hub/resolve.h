// `-m` resolution: a local path, or a hub id "org/name[@revision]" found in (or downloaded
// into) the Hugging Face cache.
#pragma once

#include <string>
#include <vector>

#include "hub/http_client.h"
#include "hub/hub_options.h"

namespace insitu::hub {

struct ResolvedModel {
  std::string dir;  // directory to load from (the local path as given, or a snapshot)
  bool from_hub = false;
  std::string repo;      // "org/name" (hub only)
  std::string revision;  // as requested, default "main" (hub only)
  std::string commit;    // the snapshot's commit (hub only)
};

// An existing local path wins and is returned unchanged, and so is a missing one spelled as a
// path (starting with '/', '.' or '~'), for the loaders to report. Otherwise `m` must be a
// hub id: a
// snapshot in the cache that already holds every model file is used without any request;
// else (unless options.offline) the file list is fetched and the missing model files are
// downloaded. `http` null: libcurl. Throws Error naming `m` on a bad id, a missing repo /
// revision / file, an authentication failure, a network failure, or an offline cache miss.
ResolvedModel resolve_model_source(const std::string& m, const HubOptions& options,
                                   HttpClient* http = nullptr);

// The files insitu loads, picked from a repo listing: config, generation config, tokenizer
// files, chat template, and the safetensors weights the loader will open (the index and the
// shards it names, else model.safetensors, else every top-level *.safetensors). Never
// .bin/.pth/.gguf or files in sub-folders.
std::vector<std::string> select_model_files(const std::vector<std::string>& listing);

// The named files above whose absence the cache must know about (file or .no_exist marker)
// before a snapshot counts as complete.
extern const std::vector<std::string> kModelMetadataFiles;

// If `dir` is a snapshot folder of a Hugging Face cache (<root>/models--org--name/snapshots/
// <commit>), the model it holds (from_hub = true, revision = commit); else a local model.
ResolvedModel describe_model_dir(const std::string& dir);

}  // namespace insitu::hub
