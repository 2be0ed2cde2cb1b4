// Strict JSON parsing for untrusted file headers (safetensors headers, shard indexes).
//
// nlohmann::json silently keeps the last of two equal keys, so a header such as
// {"w":{...},"w":{...}} would hide a tensor; these helpers reject duplicate keys at every
// nesting level and cap the nesting depth, and report every problem as
// Error(kCorruptFile) naming `path`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace insitu {

// Deepest nesting accepted. Real headers nest 3 levels; the cap bounds work on hostile input.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text` as one JSON value (surrounding whitespace allowed). Throws
// Error(kCorruptFile, "<path>: <what>: ...") on a syntax error, invalid UTF-8, a duplicate key
// or nesting deeper than kMaxJsonDepth.
nlohmann::json parse_strict_json(std::string_view text, const std::string& path,
                                 std::string_view what);

}  // namespace insitu
