#include "faults/fault_plan.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

// Parsing rules beyond the grammar in fault_plan.h:
// - Leading and trailing whitespace of the whole text is trimmed (quoting
//   artefacts from shells and YAML). Whitespace anywhere else is an error,
//   except inside a fail message, which is kept verbatim.
// - The trigger starts at the last '@', so a fail message may contain '@'
//   only when an explicit trigger follows ("fail:user@host@always").
// - The spec splits at the first '=', so a fail message may contain '='.
// - Action and trigger names are case-sensitive.
// - A plain "fail" gets the message "injected failure at POINT".
//
// Plans: only points with a spec are counted. Several specs on one point
// report their texts joined by ", " as that point's action; a spec built by
// hand without text is rendered in the same form. A spec whose action is
// kNone (only possible when built by hand) never fires.
//
// Randomness, so that a seed replays a run exactly on any standard library:
// - a probability trigger draws exactly one 64-bit number each time it is
//   evaluated (also for p:0 and p:1) and fires when u < p, with
//   u = (draw >> 11) * 2^-53 in [0,1);
// - a delay range draws exactly one number per firing: min + draw % (max -
//   min + 1); a fixed delay (min == max) draws nothing.
// Specs after the first one that fires at a reach are not evaluated, so they
// draw nothing either.

namespace lmh::faults {

namespace {

constexpr const char* kActionList = "actions: delay, drop, duplicate, fire-early, fail, crash";
constexpr const char* kTriggerList = "triggers: always, nth:N, from:N, p:PROBABILITY";
constexpr const char* kGrammar = "POINT=ACTION[:ARG][@TRIGGER]";
constexpr const char* kDelayUsage = "e.g. delay:500 or delay:100-500";
constexpr const char* kSpaces = " \t\r\n\f\v";

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(kSpaces);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpaces);
  return s.substr(b, e - b + 1);
}

bool has_space(std::string_view s) { return s.find_first_of(kSpaces) != std::string_view::npos; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// A whole string of decimal digits as a non-negative integer of type T.
template <typename T>
std::optional<T> parse_digits(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Parses the text after "delay:" into 'action'; an error message or "".
std::string parse_delay(std::string_view arg, Action& action) {
  const std::string bad =
      "bad delay " + quoted(arg) + " (milliseconds, " + std::string(kDelayUsage) + ")";
  size_t dash = arg.find('-');
  auto lo = parse_digits<int64_t>(arg.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : parse_digits<int64_t>(arg.substr(dash + 1));
  if (!lo || !hi) return bad;
  if (*lo > *hi)
    return "bad delay " + quoted(arg) + ": min " + std::to_string(*lo) + " is above max " +
           std::to_string(*hi);
  action.kind = ActionKind::kDelay;
  action.delay_min = std::chrono::milliseconds(*lo);
  action.delay_max = std::chrono::milliseconds(*hi);
  return "";
}

// Parses ACTION[:ARG] for 'point' into 'action'; an error message or "".
std::string parse_action(std::string_view text, const std::string& point, Action& action) {
  if (text.empty()) return "missing action after '=' (" + std::string(kActionList) + ")";
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  std::optional<std::string_view> arg;
  if (colon != std::string_view::npos) arg = text.substr(colon + 1);
  if (has_space(name) || (name != "fail" && arg && has_space(*arg)))
    return "unexpected whitespace in " + quoted(text) + " (write " + kGrammar +
           " without spaces; only a fail message may contain them)";

  if (name == "delay") {
    if (!arg || arg->empty()) return "delay needs milliseconds, " + std::string(kDelayUsage);
    return parse_delay(*arg, action);
  }
  if (name == "fail") {
    if (arg && arg->empty()) return "fail needs a message after ':' (or write plain fail)";
    action.kind = ActionKind::kFail;
    action.message = arg ? std::string(*arg) : "injected failure at " + point;
    return "";
  }
  static const std::pair<const char*, ActionKind> kPlain[] = {
      {"drop", ActionKind::kDrop},
      {"duplicate", ActionKind::kDuplicate},
      {"fire-early", ActionKind::kFireEarly},
      {"crash", ActionKind::kCrash},
  };
  for (const auto& [plain, kind] : kPlain) {
    if (name != plain) continue;
    if (arg) return std::string(plain) + " takes no argument (got " + quoted(*arg) + ")";
    action.kind = kind;
    return "";
  }
  return "unknown action " + quoted(name) + " (" + kActionList + ")";
}

// Parses TRIGGER into 'trigger'; an error message or "".
std::string parse_trigger(std::string_view text, Trigger& trigger) {
  if (text.empty()) return "missing trigger after '@' (" + std::string(kTriggerList) + ")";
  if (has_space(text))
    return "unexpected whitespace in " + quoted(text) + " (write " + kGrammar + " without spaces)";
  if (text == "always") {
    trigger.kind = Trigger::Kind::kAlways;
    return "";
  }
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  std::string_view arg = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (name == "always") return "bad trigger " + quoted(text) + " (always takes no argument)";
  if (name == "nth" || name == "from") {
    auto n = parse_digits<int>(arg);
    if (colon == std::string_view::npos || !n || *n < 1)
      return "bad trigger " + quoted(text) + " (" + std::string(name) + ":N with N >= 1)";
    trigger.kind = name == "nth" ? Trigger::Kind::kNth : Trigger::Kind::kFrom;
    trigger.n = *n;
    return "";
  }
  if (name == "p") {
    double p = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), p);
    if (colon == std::string_view::npos || arg.empty() || ec != std::errc() ||
        end != arg.data() + arg.size())
      return "bad trigger " + quoted(text) + " (p:PROBABILITY, a number in [0,1])";
    if (!(p >= 0.0 && p <= 1.0)) return std::string(text) + ": probability must be in [0,1]";
    trigger.kind = Trigger::Kind::kProbability;
    trigger.probability = p;
    return "";
  }
  return "unknown trigger " + quoted(text) + " (" + kTriggerList + ")";
}

// Why 'point' is not a usable point name, or "" when it is one.
std::string check_point(std::string_view point) {
  if (point.empty()) return "missing point before '='";
  if (has_space(point))
    return "unexpected whitespace in " + quoted(point) + " (write " + kGrammar + " without spaces)";
  std::string name(point);
  if (is_known_fault_point(name)) return "";
  // "rpc.cast" names a family: point at one of its members.
  for (const auto& p : known_fault_points()) {
    if (p.name.size() > name.size() + 1 && p.name.compare(0, name.size(), name) == 0 &&
        p.name[name.size()] == '.')
      return "unknown point " + quoted(name) + " (name one point of the family, e.g. " +
             quoted(p.name) + "; `lmh faults` lists all)";
  }
  if (auto close = closest_fault_point(name))
    return "unknown point " + quoted(name) + " (did you mean " + quoted(*close) +
           "? `lmh faults` lists all)";
  return "unknown point " + quoted(name) + " (`lmh faults` lists all)";
}

// The part of a spec after '=', for reports: as written when the spec was
// parsed, otherwise rendered from its fields.
std::string action_text(const FaultSpec& spec) {
  size_t eq = spec.text.find('=');
  if (eq != std::string::npos) return spec.text.substr(eq + 1);
  std::string s = action_name(spec.action.kind);
  if (spec.action.kind == ActionKind::kDelay) {
    s += ":" + std::to_string(spec.action.delay_min.count());
    if (spec.action.delay_max != spec.action.delay_min)
      s += "-" + std::to_string(spec.action.delay_max.count());
  } else if (spec.action.kind == ActionKind::kFail && !spec.action.message.empty()) {
    s += ":" + spec.action.message;
  }
  switch (spec.trigger.kind) {
    case Trigger::Kind::kAlways: break;
    case Trigger::Kind::kNth: s += "@nth:" + std::to_string(spec.trigger.n); break;
    case Trigger::Kind::kFrom: s += "@from:" + std::to_string(spec.trigger.n); break;
    case Trigger::Kind::kProbability: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, spec.trigger.probability);
      s += "@p:" + std::string(buf, ec == std::errc() ? end : buf);
      break;
    }
  }
  return s;
}

}  // namespace

StatusOr<FaultSpec> parse_fault_spec(const std::string& text) {
  std::string_view s = trim(text);
  auto fail = [&](const std::string& why) -> Status {
    return invalid_argument("fault " + quoted(s) + ": " + why);
  };
  size_t eq = s.find('=');
  if (eq == std::string_view::npos)
    return fail("missing '=' (expected " + std::string(kGrammar) + ")");

  FaultSpec spec;
  spec.point = std::string(s.substr(0, eq));
  spec.text = std::string(s);
  if (std::string why = check_point(spec.point); !why.empty()) return fail(why);

  std::string_view rest = s.substr(eq + 1);
  size_t at = rest.rfind('@');
  if (std::string why = parse_action(rest.substr(0, at), spec.point, spec.action); !why.empty())
    return fail(why);
  if (const FaultPointDescriptor* fp = find_fault_point(spec.point); fp && !fp->implements(spec.action.kind))
    return fail(quoted(spec.point) + " does not implement " + action_name(spec.action.kind) +
                " (it implements: " + fp->action_list(", ") + ")");
  if (at != std::string_view::npos) {
    if (std::string why = parse_trigger(rest.substr(at + 1), spec.trigger); !why.empty())
      return fail(why);
  }
  return spec;
}

FaultPlan::FaultPlan(std::vector<FaultSpec> specs, uint64_t seed, bool armed)
    : specs_(std::move(specs)), seed_(seed), armed_(armed), rng_(seed) {
  for (const auto& spec : specs_) {
    auto [it, inserted] = counts_.try_emplace(spec.point);
    std::string text = action_text(spec);
    it->second.action = inserted ? text : it->second.action + ", " + text;
  }
}

std::optional<ActionKind> FaultPlan::planned_action(const std::string& point) const {
  for (const auto& s : specs_)
    if (s.point == point) return s.action.kind;
  return std::nullopt;
}

bool FaultPlan::has(const std::string& point) const {
  // specs_ never changes after construction, so no lock is needed.
  return std::any_of(specs_.begin(), specs_.end(),
                     [&](const FaultSpec& s) { return s.point == point; });
}

Decision FaultPlan::at(const std::string& point) {
  if (!armed_) return {};
  std::lock_guard lock(mu_);
  auto count = counts_.find(point);
  if (count == counts_.end()) return {};
  const int reach = ++count->second.reached;  // 1-based

  for (const auto& spec : specs_) {
    if (spec.point != point) continue;
    bool fires = false;
    switch (spec.trigger.kind) {
      case Trigger::Kind::kAlways: fires = true; break;
      case Trigger::Kind::kNth: fires = reach == spec.trigger.n; break;
      case Trigger::Kind::kFrom: fires = reach >= spec.trigger.n; break;
      case Trigger::Kind::kProbability: {
        double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // one draw, [0,1)
        fires = u < spec.trigger.probability;
        break;
      }
    }
    if (!fires || spec.action.kind == ActionKind::kNone) continue;

    Decision d;
    d.kind = spec.action.kind;
    d.message = spec.action.message;
    if (spec.action.kind == ActionKind::kDelay) {
      d.delay = spec.action.delay_min;
      if (spec.action.delay_max > spec.action.delay_min) {
        uint64_t span = static_cast<uint64_t>(spec.action.delay_max.count() -
                                              spec.action.delay_min.count()) + 1;
        d.delay += std::chrono::milliseconds(static_cast<int64_t>(rng_() % span));
      }
    }
    ++count->second.injected;
    fired_[point].insert(d.kind);
    return d;
  }
  return {};
}

std::map<std::string, std::set<ActionKind>> FaultPlan::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

std::map<std::string, InjectionCount> FaultPlan::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace lmh::faults
