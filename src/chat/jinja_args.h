// Binds call arguments to a Python-style signature for builtin filters, tests and methods.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "chat/jinja_value.h"

namespace insitu::chat::jinja {

class ArgBinder {
 public:
  // `names` are the parameters in positional order (the filtered value is not one of them).
  ArgBinder(const char* fname, const CallArgs& args, std::initializer_list<const char*> names)
      : fname_(fname) {
    std::vector<const char*> params(names);
    slots_.assign(params.size(), nullptr);
    if (args.pos.size() > params.size())
      fail("TypeError", std::string(fname) + "() takes at most " + std::to_string(params.size()) +
                            " argument(s) (" + std::to_string(args.pos.size()) + " given)");
    for (size_t i = 0; i < args.pos.size(); ++i) slots_[i] = &args.pos[i];
    for (const auto& [k, v] : args.kw) {
      size_t i = 0;
      while (i < params.size() && k != params[i]) ++i;
      if (i == params.size())
        fail("TypeError", std::string(fname) + "() got an unexpected keyword argument '" + k + "'");
      if (slots_[i])
        fail("TypeError", std::string(fname) + "() got multiple values for argument '" + k + "'");
      slots_[i] = &v;
    }
  }

  const Value* get(size_t i) const { return slots_[i]; }
  Value get(size_t i, Value dflt) const { return slots_[i] ? *slots_[i] : std::move(dflt); }
  bool has(size_t i) const { return slots_[i] != nullptr; }

  // Typed accessors that raise Python's TypeError on a wrong type.
  int64_t get_int(size_t i, int64_t dflt) const {
    if (!slots_[i] || slots_[i]->is_none()) return dflt;
    if (!slots_[i]->is_int() && !slots_[i]->is_bool())
      fail("TypeError",
           std::string(fname_) + "(): expected an integer, got " + type_name(*slots_[i]));
    return slots_[i]->as_int();
  }
  std::string get_str(size_t i, const std::string& dflt) const {
    if (!slots_[i]) return dflt;
    if (!slots_[i]->is_string())
      fail("TypeError",
           std::string(fname_) + "(): expected a string, got " + type_name(*slots_[i]));
    return slots_[i]->str();
  }
  bool get_bool(size_t i, bool dflt) const { return slots_[i] ? truthy(*slots_[i]) : dflt; }

 private:
  const char* fname_;
  std::vector<const Value*> slots_;
};

}  // namespace insitu::chat::jinja
