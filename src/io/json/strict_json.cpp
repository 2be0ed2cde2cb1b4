#include "io/json/strict_json.h"

#include <set>
#include <vector>

#include "core/error.h"

namespace insitu {

nlohmann::json parse_strict_json(std::string_view text, const std::string& path,
                                 std::string_view what) {
  using Json = nlohmann::json;
  const std::string where = path + ": " + std::string(what) + ": ";
  // One key set per open object; arrays push an empty marker so pops stay balanced.
  std::vector<std::set<std::string>> open_keys;
  std::vector<bool> is_object;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          throw Error(ErrorCode::kCorruptFile,
                      where + "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
        }
        is_object.push_back(event == Json::parse_event_t::object_start);
        open_keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!open_keys.empty()) {
          open_keys.pop_back();
          is_object.pop_back();
        }
        break;
      case Json::parse_event_t::key:
        if (!open_keys.empty() && is_object.back() && parsed.is_string()) {
          const auto& key = parsed.get_ref<const std::string&>();
          if (!open_keys.back().insert(key).second) {
            throw Error(ErrorCode::kCorruptFile, where + "duplicate key \"" + key + "\"");
          }
        }
        break;
      case Json::parse_event_t::value: break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, where + "invalid JSON: " + e.what());
  }
}

}  // namespace insitu
