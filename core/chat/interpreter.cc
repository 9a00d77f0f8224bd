#include "core/chat/interpreter.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "core/chat/builtins.h"
#include "core/util/status_macros.h"

namespace strata::jinja {
namespace {

// One variable scope. A for-loop iteration, a macro call and a call block's caller each get their own frame, so
// `set` inside them does not leak out (as in Jinja, where namespace() is the way to carry state out of a loop).
struct Frame {
  absl::flat_hash_map<std::string, Value> vars;
  Frame* parent = nullptr;

  const Value* lookup(const std::string& name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      auto it = f->vars.find(name);
      if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

enum class Flow { kNormal, kBreak, kContinue };

bool has_line(const absl::Status& s) { return absl::StartsWith(s.message(), "line "); }

absl::Status undefined_error(const Value& v) {
  return absl::InvalidArgumentError(v.undefined_hint().empty() ? "value is undefined" : v.undefined_hint());
}

absl::StatusOr<int64_t> checked_int(int64_t r, bool overflow) {
  if (overflow) return absl::InvalidArgumentError("integer overflow");
  return r;
}

class Interpreter {
 public:
  explicit Interpreter(const RenderLimits& limits) : limits_(limits) {}

  ~Interpreter() {
    // A namespace can hold itself (`set ns.me = ns`); emptying them all breaks such cycles.
    for (auto& ns : namespaces_) {
      if (auto locked = ns.lock()) locked->clear();
    }
  }

  absl::StatusOr<std::string> run(const StmtList& body, const Value& context) {
    install_builtins();
    if (context.is_dict()) {
      for (const auto& [key, value] : context.as_dict()->entries()) root_.vars[key] = value;
    }
    std::string out;
    out_ = &out;
    absl::StatusOr<Flow> flow = exec_list(body, root_);
    if (!flow.ok()) return flow.status();
    if (*flow != Flow::kNormal) return absl::InvalidArgumentError("'break' or 'continue' outside a loop");
    return out;
  }

 private:
  class DepthGuard {
   public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }

   private:
    int& depth_;
  };

  absl::Status step() {
    if (++steps_ > limits_.max_steps) {
      return absl::ResourceExhaustedError("template exceeded " + std::to_string(limits_.max_steps) + " steps");
    }
    return absl::OkStatus();
  }

  absl::Status emit(std::string_view text) {
    total_emitted_ += text.size();
    if (out_->size() + text.size() > limits_.max_output_bytes || total_emitted_ > 4 * limits_.max_output_bytes) {
      return absl::ResourceExhaustedError("template output exceeds " + std::to_string(limits_.max_output_bytes) +
                                          " bytes");
    }
    out_->append(text);
    return absl::OkStatus();
  }

  absl::Status located(const absl::Status& s, int line) const {
    if (s.ok() || raised_ || has_line(s)) return s;
    return absl::Status(s.code(), "line " + std::to_string(line) + ": " + std::string(s.message()));
  }

  // Renders `body` into a string of its own (macro bodies, set blocks, filter blocks).
  absl::StatusOr<std::string> capture(const StmtList& body, Frame& frame) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    absl::StatusOr<Flow> flow = exec_list(body, frame);
    out_ = saved;
    if (!flow.ok()) return flow.status();
    if (*flow != Flow::kNormal) return absl::InvalidArgumentError("'break' or 'continue' outside a loop");
    return buffer;
  }

  void install_builtins() {
    root_.vars["range"] = Value(Function([this](CallArgs& args) -> absl::StatusOr<Value> { return range(args); }));
    root_.vars["namespace"] = Value(Function([this](CallArgs& args) -> absl::StatusOr<Value> {
      auto ns = std::make_shared<ValueDict>();
      ns->is_namespace = true;
      for (const Value& v : args.positional) {
        if (!v.is_dict()) return absl::InvalidArgumentError("namespace() takes keyword arguments or a dict");
        for (const auto& [key, item] : v.as_dict()->entries()) ns->set(key, item);
      }
      for (auto& [key, item] : args.keyword) ns->set(key, item);
      namespaces_.push_back(ns);
      return Value(std::move(ns));
    }));
    root_.vars["dict"] = Value(Function([](CallArgs& args) -> absl::StatusOr<Value> {
      auto d = std::make_shared<ValueDict>();
      for (const Value& v : args.positional) {
        if (!v.is_dict()) return absl::InvalidArgumentError("dict() takes keyword arguments or a dict");
        for (const auto& [key, item] : v.as_dict()->entries()) d->set(key, item);
      }
      for (auto& [key, item] : args.keyword) d->set(key, item);
      return Value(std::move(d));
    }));
    root_.vars["raise_exception"] = Value(Function([this](CallArgs& args) -> absl::StatusOr<Value> {
      raised_ = true;  // the template's own message goes out unchanged, without a line prefix
      std::string message = args.positional.empty() ? "raise_exception() called" : value_to_string(args.positional[0]);
      return absl::InvalidArgumentError(message);
    }));
    root_.vars["strftime_now"] = Value(Function([](CallArgs& args) -> absl::StatusOr<Value> {
      if (args.positional.empty() || !args.positional[0].is_string()) {
        return absl::InvalidArgumentError("strftime_now() takes a format string");
      }
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      localtime_r(&now, &tm);
      char buf[256];
      size_t n = std::strftime(buf, sizeof(buf), args.positional[0].as_string().c_str(), &tm);
      return Value(std::string(buf, n));
    }));
  }

  absl::StatusOr<Value> range(CallArgs& args) {
    if (!args.keyword.empty() || args.positional.empty() || args.positional.size() > 3) {
      return absl::InvalidArgumentError("range() takes 1 to 3 integer arguments");
    }
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < args.positional.size(); ++i) {
      const Value& a = args.positional[i];
      if (!a.is_int() && !a.is_bool()) return absl::InvalidArgumentError("range() arguments must be integers");
      v[i] = a.is_int() ? a.as_int() : static_cast<int64_t>(a.as_bool());
    }
    int64_t start = 0, stop = v[0], step = 1;
    if (args.positional.size() >= 2) {
      start = v[0];
      stop = v[1];
      step = v[2];
    }
    if (step == 0) return absl::InvalidArgumentError("range() step must not be zero");
    // Count with doubles so that extreme bounds cannot overflow before the size check.
    double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
    if (count > static_cast<double>(limits_.max_list_size)) {
      return absl::ResourceExhaustedError("range() of more than " + std::to_string(limits_.max_list_size) +
                                          " elements");
    }
    ValueList out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      out.push_back(Value(i));
      if (step > 0 ? i > std::numeric_limits<int64_t>::max() - step : i < std::numeric_limits<int64_t>::min() - step) {
        break;
      }
    }
    return Value(std::move(out));
  }

  // ---- statements ----

  absl::StatusOr<Flow> exec_list(const StmtList& body, Frame& frame) {
    for (const auto& stmt : body) {
      STRATA_ASSIGN_OR_RETURN(Flow flow, exec(*stmt, frame));
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  absl::StatusOr<Flow> exec(const Stmt& s, Frame& frame) {
    DepthGuard guard(depth_);
    if (depth_ > limits_.max_depth) return absl::ResourceExhaustedError("template nesting too deep");
    STRATA_RETURN_IF_ERROR(step());
    absl::StatusOr<Flow> r = exec_impl(s, frame);
    if (!r.ok()) return located(r.status(), s.line);
    return r;
  }

  absl::StatusOr<Flow> exec_impl(const Stmt& s, Frame& frame) {
    switch (s.kind) {
      case StmtKind::kText:
        STRATA_RETURN_IF_ERROR(emit(s.text));
        return Flow::kNormal;
      case StmtKind::kOutput: {
        STRATA_ASSIGN_OR_RETURN(Value v, eval(*s.expr, frame));
        STRATA_RETURN_IF_ERROR(emit(value_to_string(v)));
        return Flow::kNormal;
      }
      case StmtKind::kIf: {
        STRATA_ASSIGN_OR_RETURN(Value cond, eval(*s.expr, frame));
        return exec_list(cond.truthy() ? s.body : s.else_body, frame);
      }
      case StmtKind::kFor:
        return exec_for(s, frame);
      case StmtKind::kSet: {
        STRATA_ASSIGN_OR_RETURN(Value v, eval(*s.expr, frame));
        STRATA_RETURN_IF_ERROR(assign(s, std::move(v), frame));
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock: {
        STRATA_ASSIGN_OR_RETURN(std::string text, capture(s.body, frame));
        Value v(std::move(text));
        if (s.filter) {
          STRATA_ASSIGN_OR_RETURN(v, eval_filter(*s.filter, frame, &v));
        }
        frame.vars[s.targets[0]] = std::move(v);
        return Flow::kNormal;
      }
      case StmtKind::kMacro:
        frame.vars[s.name] = make_macro(s);
        return Flow::kNormal;
      case StmtKind::kCallBlock: {
        auto alive = std::make_shared<bool>(true);
        Frame* caller_frame = &frame;
        Value caller(Function([this, &s, caller_frame, alive](CallArgs& args) -> absl::StatusOr<Value> {
          if (!*alive) return absl::InvalidArgumentError("caller() used outside its call block");
          return invoke(s, *caller_frame, args, "caller");
        }));
        absl::StatusOr<Value> result = eval_call(*s.expr, frame, &caller);
        *alive = false;
        if (!result.ok()) return result.status();
        STRATA_RETURN_IF_ERROR(emit(value_to_string(*result)));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        STRATA_ASSIGN_OR_RETURN(std::string text, capture(s.body, frame));
        Value v(std::move(text));
        STRATA_ASSIGN_OR_RETURN(Value filtered, eval_filter(*s.filter, frame, &v));
        STRATA_RETURN_IF_ERROR(emit(value_to_string(filtered)));
        return Flow::kNormal;
      }
      case StmtKind::kScope:
        return exec_list(s.body, frame);
      case StmtKind::kBreak:
        return Flow::kBreak;
      case StmtKind::kContinue:
        return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  absl::Status bind_targets(const std::vector<std::string>& targets, const Value& value, Frame& frame) {
    if (targets.size() == 1) {
      frame.vars[targets[0]] = value;
      return absl::OkStatus();
    }
    if (!value.is_list()) {
      return absl::InvalidArgumentError("cannot unpack '" + std::string(value.type_name()) + "' into " +
                                        std::to_string(targets.size()) + " names");
    }
    const ValueList& items = value.as_list();
    if (items.size() != targets.size()) {
      return absl::InvalidArgumentError("cannot unpack " + std::to_string(items.size()) + " values into " +
                                        std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) frame.vars[targets[i]] = items[i];
    return absl::OkStatus();
  }

  absl::Status assign(const Stmt& s, Value value, Frame& frame) {
    if (s.name.empty()) return bind_targets(s.targets, value, frame);
    const Value* target = frame.lookup(s.targets[0]);
    if (target == nullptr || !target->is_dict() || !target->as_dict()->is_namespace) {
      return absl::InvalidArgumentError("cannot assign attribute '" + s.name + "' of '" + s.targets[0] +
                                        "': only namespace() objects take attributes");
    }
    target->as_dict()->set(s.name, std::move(value));
    return absl::OkStatus();
  }

  absl::StatusOr<Flow> exec_for(const Stmt& s, Frame& frame) {
    STRATA_ASSIGN_OR_RETURN(Value iterable, eval(*s.expr, frame));
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(iterable));
    if (s.filter) {  // the inline `if` filters before the loop, so loop.length counts only kept items
      ValueList kept;
      for (Value& item : items) {
        STRATA_RETURN_IF_ERROR(step());
        Frame probe{{}, &frame};
        STRATA_RETURN_IF_ERROR(bind_targets(s.targets, item, probe));
        STRATA_ASSIGN_OR_RETURN(Value keep, eval(*s.filter, probe));
        if (keep.truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_list(s.else_body, frame);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      STRATA_RETURN_IF_ERROR(step());
      Frame inner{{}, &frame};
      STRATA_RETURN_IF_ERROR(bind_targets(s.targets, items[static_cast<size_t>(i)], inner));
      auto loop = std::make_shared<ValueDict>();
      loop->set("index", Value(i + 1));
      loop->set("index0", Value(i));
      loop->set("revindex", Value(n - i));
      loop->set("revindex0", Value(n - i - 1));
      loop->set("first", Value(i == 0));
      loop->set("last", Value(i == n - 1));
      loop->set("length", Value(n));
      loop->set("depth", Value(1));
      loop->set("depth0", Value(0));
      loop->set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
      loop->set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
      loop->set("cycle", Value(Function([i](CallArgs& args) -> absl::StatusOr<Value> {
                  if (args.positional.empty()) return absl::InvalidArgumentError("loop.cycle() needs arguments");
                  return args.positional[static_cast<size_t>(i) % args.positional.size()];
                })));
      inner.vars["loop"] = Value(std::move(loop));
      STRATA_ASSIGN_OR_RETURN(Flow flow, exec_list(s.body, inner));
      if (flow == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  Value make_macro(const Stmt& s) {
    return Value(
        Function([this, &s](CallArgs& args) -> absl::StatusOr<Value> { return invoke(s, root_, args, s.name); }));
  }

  // Runs a macro body (or a call block's caller body) in a new frame over `scope`, binding parameters from `args`.
  absl::StatusOr<Value> invoke(const Stmt& s, Frame& scope, CallArgs& args, const std::string& what) {
    if (macro_depth_ >= limits_.max_macro_depth) {
      return absl::ResourceExhaustedError("macro calls nested deeper than " + std::to_string(limits_.max_macro_depth));
    }
    STRATA_RETURN_IF_ERROR(step());
    DepthGuard guard(macro_depth_);
    if (args.positional.size() > s.targets.size()) {
      return absl::InvalidArgumentError(what + "() takes " + std::to_string(s.targets.size()) + " arguments, " +
                                        std::to_string(args.positional.size()) + " given");
    }
    Frame frame{{}, &scope};
    std::vector<bool> bound(s.targets.size(), false);
    for (size_t i = 0; i < args.positional.size(); ++i) {
      frame.vars[s.targets[i]] = args.positional[i];
      bound[i] = true;
    }
    for (auto& [key, value] : args.keyword) {
      if (key == "caller") {
        frame.vars["caller"] = value;
        continue;
      }
      size_t i = 0;
      while (i < s.targets.size() && s.targets[i] != key) ++i;
      if (i == s.targets.size())
        return absl::InvalidArgumentError(what + "() got an unexpected argument '" + key + "'");
      frame.vars[key] = value;
      bound[i] = true;
    }
    for (size_t i = 0; i < s.targets.size(); ++i) {
      if (bound[i]) continue;
      if (s.defaults[i]) {
        STRATA_ASSIGN_OR_RETURN(Value def, eval(*s.defaults[i], frame));
        frame.vars[s.targets[i]] = std::move(def);
      } else {
        frame.vars[s.targets[i]] = Value::undefined("missing argument '" + s.targets[i] + "' of " + what + "()");
      }
    }
    STRATA_ASSIGN_OR_RETURN(std::string text, capture(s.body, frame));
    return Value(std::move(text));
  }

  // ---- expressions ----

  absl::StatusOr<Value> eval(const Expr& e, Frame& frame) {
    DepthGuard guard(depth_);
    if (depth_ > limits_.max_depth) return absl::ResourceExhaustedError("template nesting too deep");
    absl::StatusOr<Value> r = eval_impl(e, frame);
    if (!r.ok()) return located(r.status(), e.line);
    return r;
  }

  absl::StatusOr<CallArgs> eval_args(const Expr& e, Frame& frame) {
    CallArgs args;
    for (size_t i = 1; i < e.args.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(Value v, eval(*e.args[i], frame));
      const std::string& name = e.arg_names[i - 1];
      if (name.empty()) {
        args.positional.push_back(std::move(v));
      } else {
        args.keyword.emplace_back(name, std::move(v));
      }
    }
    return args;
  }

  absl::StatusOr<Value> eval_impl(const Expr& e, Frame& frame) {
    switch (e.kind) {
      case ExprKind::kLiteral:
        return e.literal;
      case ExprKind::kName: {
        const Value* v = frame.lookup(e.name);
        if (v == nullptr) return Value::undefined("'" + e.name + "' is undefined");
        return *v;
      }
      case ExprKind::kList: {
        ValueList list;
        for (const auto& item : e.args) {
          STRATA_ASSIGN_OR_RETURN(Value v, eval(*item, frame));
          list.push_back(std::move(v));
        }
        return Value(std::move(list));
      }
      case ExprKind::kDict: {
        auto dict = std::make_shared<ValueDict>();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          STRATA_ASSIGN_OR_RETURN(Value key, eval(*e.args[i], frame));
          if (!key.is_string()) return absl::InvalidArgumentError("dict keys must be strings");
          STRATA_ASSIGN_OR_RETURN(Value value, eval(*e.args[i + 1], frame));
          dict->set(key.as_string(), std::move(value));
        }
        return Value(std::move(dict));
      }
      case ExprKind::kAttribute: {
        STRATA_ASSIGN_OR_RETURN(Value object, eval(*e.args[0], frame));
        return get_attribute(object, e.name);
      }
      case ExprKind::kIndex: {
        STRATA_ASSIGN_OR_RETURN(Value object, eval(*e.args[0], frame));
        STRATA_ASSIGN_OR_RETURN(Value key, eval(*e.args[1], frame));
        return get_item(object, key);
      }
      case ExprKind::kSlice:
        return eval_slice(e, frame);
      case ExprKind::kCall:
        return eval_call(e, frame, nullptr);
      case ExprKind::kFilter:
        return eval_filter(e, frame, nullptr);
      case ExprKind::kTest: {
        STRATA_ASSIGN_OR_RETURN(Value operand, eval(*e.args[0], frame));
        STRATA_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, frame));
        STRATA_RETURN_IF_ERROR(step());
        STRATA_ASSIGN_OR_RETURN(bool result, apply_test(e.name, operand, args));
        return Value(result != e.negated);
      }
      case ExprKind::kUnary: {
        STRATA_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], frame));
        if (e.name == "not") return Value(!v.truthy());
        if (v.is_undefined()) return undefined_error(v);
        if (v.is_bool()) v = Value(static_cast<int64_t>(v.as_bool()));
        if (!v.is_number()) {
          return absl::InvalidArgumentError("bad operand type for unary " + e.name + ": '" +
                                            std::string(v.type_name()) + "'");
        }
        if (e.name == "+") return v;
        if (v.is_float()) return Value(-v.as_float());
        if (v.as_int() == std::numeric_limits<int64_t>::min()) return absl::InvalidArgumentError("integer overflow");
        return Value(-v.as_int());
      }
      case ExprKind::kBinary: {
        STRATA_ASSIGN_OR_RETURN(Value left, eval(*e.args[0], frame));
        if (e.name == "and") return left.truthy() ? eval(*e.args[1], frame) : absl::StatusOr<Value>(left);
        if (e.name == "or") return left.truthy() ? absl::StatusOr<Value>(left) : eval(*e.args[1], frame);
        STRATA_ASSIGN_OR_RETURN(Value right, eval(*e.args[1], frame));
        return binary_op(e.name, left, right);
      }
      case ExprKind::kCompare: {
        STRATA_ASSIGN_OR_RETURN(Value left, eval(*e.args[0], frame));
        for (size_t i = 0; i < e.ops.size(); ++i) {
          STRATA_ASSIGN_OR_RETURN(Value right, eval(*e.args[i + 1], frame));
          STRATA_ASSIGN_OR_RETURN(bool ok, compare(e.ops[i], left, right));
          if (!ok) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case ExprKind::kConditional: {
        STRATA_ASSIGN_OR_RETURN(Value cond, eval(*e.args[1], frame));
        if (cond.truthy()) return eval(*e.args[0], frame);
        if (e.args[2]) return eval(*e.args[2], frame);
        return Value::undefined("the conditional expression had no else branch");
      }
    }
    return Value();
  }

  absl::StatusOr<Value> eval_call(const Expr& e, Frame& frame, const Value* caller) {
    STRATA_RETURN_IF_ERROR(step());
    const Expr& callee = *e.args[0];
    Value function;
    if (callee.kind == ExprKind::kAttribute) {
      STRATA_ASSIGN_OR_RETURN(Value object, eval(*callee.args[0], frame));
      bool own_function = object.is_dict() && object.as_dict()->find(callee.name) != nullptr &&
                          object.as_dict()->find(callee.name)->is_function();
      if (!own_function && has_method(object, callee.name)) {
        STRATA_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, frame));
        return call_method(object, callee.name, args, limits_);
      }
      STRATA_ASSIGN_OR_RETURN(function, get_attribute(object, callee.name));
    } else {
      STRATA_ASSIGN_OR_RETURN(function, eval(callee, frame));
    }
    if (function.is_undefined()) return undefined_error(function);
    if (!function.is_function()) {
      return absl::InvalidArgumentError("'" + std::string(function.type_name()) + "' object is not callable");
    }
    STRATA_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, frame));
    if (caller != nullptr) args.keyword.emplace_back("caller", *caller);
    return function.as_function()(args);
  }

  // Applies a filter chain. `input` replaces the innermost operand when the chain heads a filter or set block.
  absl::StatusOr<Value> eval_filter(const Expr& e, Frame& frame, const Value* input) {
    Value operand;
    if (e.args[0] == nullptr) {
      operand = input != nullptr ? *input : Value();
    } else if (e.args[0]->kind == ExprKind::kFilter && input != nullptr) {
      STRATA_ASSIGN_OR_RETURN(operand, eval_filter(*e.args[0], frame, input));
    } else {
      STRATA_ASSIGN_OR_RETURN(operand, eval(*e.args[0], frame));
    }
    STRATA_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, frame));
    STRATA_RETURN_IF_ERROR(step());
    absl::StatusOr<Value> r = apply_filter(e.name, operand, args, limits_);
    if (!r.ok()) return located(r.status(), e.line);
    return r;
  }

  absl::StatusOr<Value> eval_slice(const Expr& e, Frame& frame) {
    STRATA_ASSIGN_OR_RETURN(Value object, eval(*e.args[0], frame));
    std::optional<int64_t> bounds[3];
    for (int i = 0; i < 3; ++i) {
      if (!e.args[static_cast<size_t>(i) + 1]) continue;
      STRATA_ASSIGN_OR_RETURN(Value b, eval(*e.args[static_cast<size_t>(i) + 1], frame));
      if (b.is_none() || b.is_undefined()) continue;
      if (!b.is_int()) return absl::InvalidArgumentError("slice indices must be integers");
      bounds[i] = b.as_int();
    }
    int64_t step_value = bounds[2].value_or(1);
    if (step_value == 0) return absl::InvalidArgumentError("slice step cannot be zero");
    std::vector<size_t> offsets;
    int64_t n = 0;
    if (object.is_list()) {
      n = static_cast<int64_t>(object.as_list().size());
    } else if (object.is_string()) {
      offsets = utf8_offsets(object.as_string());
      n = static_cast<int64_t>(offsets.size()) - 1;
    } else if (object.is_undefined()) {
      return undefined_error(object);
    } else {
      return absl::InvalidArgumentError("'" + std::string(object.type_name()) + "' object cannot be sliced");
    }
    // Python's slice.indices(): clamp each bound into range for the direction of the step.
    auto clamp = [&](std::optional<int64_t> b, int64_t def_pos, int64_t def_neg) -> int64_t {
      if (!b) return step_value > 0 ? def_pos : def_neg;
      int64_t v = *b;
      if (v < 0) v += n;
      if (step_value > 0) return std::clamp<int64_t>(v, 0, n);
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    int64_t start = clamp(bounds[0], 0, n - 1);
    int64_t stop = clamp(bounds[1], n, -1);
    std::vector<int64_t> picks;
    for (int64_t i = start; step_value > 0 ? i < stop : i > stop; i += step_value) picks.push_back(i);
    if (object.is_list()) {
      ValueList out;
      for (int64_t i : picks) out.push_back(object.as_list()[static_cast<size_t>(i)]);
      return Value(std::move(out));
    }
    std::string out;
    const std::string& s = object.as_string();
    for (int64_t i : picks) {
      size_t from = offsets[static_cast<size_t>(i)];
      out.append(s, from, offsets[static_cast<size_t>(i) + 1] - from);
    }
    return Value(std::move(out));
  }

  absl::StatusOr<bool> compare(const std::string& op, const Value& left, const Value& right) {
    if (op == "==") return values_equal(left, right);
    if (op == "!=") return !values_equal(left, right);
    if (op == "in" || op == "not in") {
      STRATA_ASSIGN_OR_RETURN(bool found, contains(right, left));
      return found == (op == "in");
    }
    if (left.is_undefined()) return undefined_error(left);
    if (right.is_undefined()) return undefined_error(right);
    STRATA_ASSIGN_OR_RETURN(int c, values_compare(left, right));
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
  }

  absl::StatusOr<bool> contains(const Value& container, const Value& item) {
    if (container.is_string()) {
      if (!item.is_string()) {
        return absl::InvalidArgumentError("'in <string>' requires string as left operand, not " +
                                          std::string(item.type_name()));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_dict()) return item.is_string() && container.as_dict()->find(item.as_string()) != nullptr;
    if (container.is_list()) {
      for (const Value& v : container.as_list()) {
        if (values_equal(v, item)) return true;
      }
      return false;
    }
    if (container.is_undefined()) return false;  // Undefined iterates as empty
    return absl::InvalidArgumentError("argument of type '" + std::string(container.type_name()) + "' is not iterable");
  }

  absl::StatusOr<Value> binary_op(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") {
      std::string sa = value_to_string(a), sb = value_to_string(b);
      if (sa.size() + sb.size() > limits_.max_output_bytes) return absl::ResourceExhaustedError("string too large");
      return Value(sa + sb);
    }
    if (a.is_undefined()) return undefined_error(a);
    if (b.is_undefined()) return undefined_error(b);
    auto type_error = [&]() {
      return absl::InvalidArgumentError("unsupported operand type(s) for " + op + ": '" + std::string(a.type_name()) +
                                        "' and '" + std::string(b.type_name()) + "'");
    };
    bool a_num = a.is_number() || a.is_bool();
    bool b_num = b.is_number() || b.is_bool();
    if (op == "+") {
      if (a.is_string() && b.is_string()) {
        if (a.as_string().size() + b.as_string().size() > limits_.max_output_bytes) {
          return absl::ResourceExhaustedError("string too large");
        }
        return Value(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list()) {
        if (a.as_list().size() + b.as_list().size() > limits_.max_list_size) {
          return absl::ResourceExhaustedError("list too large");
        }
        ValueList out = a.as_list();
        out.insert(out.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(out));
      }
    }
    if (op == "*" && (a.is_string() || a.is_list() || b.is_string() || b.is_list())) {
      const Value& seq = (a.is_string() || a.is_list()) ? a : b;
      const Value& count = (a.is_string() || a.is_list()) ? b : a;
      if (!count.is_int()) return type_error();
      int64_t times = std::max<int64_t>(0, count.as_int());
      if (seq.is_string()) {
        const std::string& s = seq.as_string();
        if (!s.empty() && static_cast<uint64_t>(times) > limits_.max_output_bytes / s.size()) {
          return absl::ResourceExhaustedError("string too large");
        }
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += s;
        return Value(std::move(out));
      }
      const ValueList& l = seq.as_list();
      if (!l.empty() && static_cast<uint64_t>(times) > limits_.max_list_size / l.size()) {
        return absl::ResourceExhaustedError("list too large");
      }
      ValueList out;
      for (int64_t i = 0; i < times; ++i) out.insert(out.end(), l.begin(), l.end());
      return Value(std::move(out));
    }
    if (!a_num || !b_num) return type_error();
    bool ints = !a.is_float() && !b.is_float();
    int64_t x = a.is_bool() ? a.as_bool() : (a.is_int() ? a.as_int() : 0);
    int64_t y = b.is_bool() ? b.as_bool() : (b.is_int() ? b.as_int() : 0);
    double fx = a.as_double(), fy = b.as_double();
    int64_t r = 0;
    if (op == "+") {
      if (ints) return checked_int(r, __builtin_add_overflow(x, y, &r));
      return Value(fx + fy);
    }
    if (op == "-") {
      if (ints) return checked_int(r, __builtin_sub_overflow(x, y, &r));
      return Value(fx - fy);
    }
    if (op == "*") {
      if (ints) return checked_int(r, __builtin_mul_overflow(x, y, &r));
      return Value(fx * fy);
    }
    if (op == "/") {
      if (fy == 0) return absl::InvalidArgumentError("division by zero");
      return Value(fx / fy);
    }
    if (op == "//" || op == "%") {
      if (ints) {
        if (y == 0) return absl::InvalidArgumentError("integer division or modulo by zero");
        if (x == std::numeric_limits<int64_t>::min() && y == -1) return absl::InvalidArgumentError("integer overflow");
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
          --q;
          m += y;
        }
        return Value(op == "//" ? q : m);
      }
      if (fy == 0) return absl::InvalidArgumentError("float division or modulo by zero");
      double q = std::floor(fx / fy);
      return Value(op == "//" ? q : fx - q * fy);
    }
    if (op == "**") {
      if (ints && y >= 0) {
        // Exponentiation by squaring; y can be huge, so never loop y times.
        int64_t result = 1, base = x;
        for (uint64_t n = static_cast<uint64_t>(y); n != 0; n >>= 1) {
          if ((n & 1) && __builtin_mul_overflow(result, base, &result)) {
            return absl::InvalidArgumentError("integer overflow");
          }
          if ((n >> 1) != 0 && __builtin_mul_overflow(base, base, &base)) {
            return absl::InvalidArgumentError("integer overflow");
          }
        }
        return Value(result);
      }
      return Value(std::pow(fx, fy));
    }
    return type_error();
  }

  const RenderLimits& limits_;
  Frame root_;
  std::string* out_ = nullptr;
  int64_t steps_ = 0;
  size_t total_emitted_ = 0;
  int depth_ = 0;
  int macro_depth_ = 0;
  bool raised_ = false;
  std::vector<std::weak_ptr<ValueDict>> namespaces_;
};

}  // namespace

absl::StatusOr<std::string> interpret(const StmtList& body, const Value& context, const RenderLimits& limits) {
  Interpreter interpreter(limits);
  return interpreter.run(body, context);
}

}  // namespace strata::jinja
