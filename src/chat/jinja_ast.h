// Jinja2 template syntax tree: expressions and statements, built once by the parser and
// walked by the interpreter for every render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace insitu::chat::jinja {

class Interpreter;
struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// A filter or test implementation; `input` is the filtered value, `args` the call arguments.
using FilterFn = Value (*)(Interpreter&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Interpreter&, const Value& input, CallArgs& args);

enum class ExprKind : uint8_t {
  kLiteral,   // literal
  kName,      // name
  kList,      // children
  kTuple,     // children
  kDict,      // children: key0, value0, key1, value1, ...
  kGetattr,   // children[0].name
  kGetitem,   // children[0][children[1]]
  kSlice,     // children[0][children[1]:children[2]:children[3]] (null entries allowed)
  kCall,      // children[0](args)
  kFilter,    // children[0] | name(args); children[0] is null inside {% filter %} blocks
  kTest,      // children[0] is [not] name(args)
  kNot,       // not children[0]
  kNeg,       // -children[0]
  kPos,       // +children[0]
  kBinary,    // children[0] op children[1] with op in + - * / // % ** ~
  kAnd,       // children[0] and children[1]
  kOr,        // children[0] or children[1]
  kCompare,   // children[0] ops[0] children[1] ops[1] children[2] ...
  kCondExpr,  // children[1] if children[0] else children[2] (children[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  int depth = 1;  // height of this subtree, bounded so evaluation cannot exhaust the stack
  Value literal;
  std::string name;  // variable / attribute / filter / test name, or the binary operator
  std::vector<ExprPtr> children;
  std::vector<std::string> ops;  // comparison operators: == != < <= > >= in notin
  // Call-style arguments for kCall, kFilter and kTest.
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args, star_kwargs;
  bool negated = false;  // kTest: "is not"
  FilterFn filter = nullptr;
  TestFn test = nullptr;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t {
  kText,       // text
  kOutput,     // {{ expr }}
  kIf,         // conds[i] -> bodies[i]; else_body
  kFor,        // for target in expr [if cond] body [else else_body]
  kSet,        // set target = expr
  kSetBlock,   // set name [| filter] body endset
  kMacro,      // macro name(params) body
  kCallBlock,  // call(params) expr body
  kFilterBlock,
  kBreak,
  kContinue,
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

// Shared by {% macro %} and the caller of {% call %}.
struct MacroDef {
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  bool uses_varargs = false;
  bool uses_kwargs = false;
  bool uses_caller = false;
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;  // kText; kSetBlock target name
  ExprPtr expr;      // output / for iterable / set value / call expression / filter chain
  ExprPtr target;    // for / set: a kName, a kTuple of names, or ns.attr as kGetattr
  ExprPtr cond;      // for filter condition
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::shared_ptr<MacroDef> macro;  // kMacro, kCallBlock (the caller)
};

}  // namespace insitu::chat::jinja
