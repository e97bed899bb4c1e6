#include "jobs/rule_engine.h"

#include <algorithm>
#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

namespace dtr::jobs {

using nlohmann::json;

namespace {

constexpr size_t kMaxRules = 50;
constexpr size_t kMaxValues = 100;
constexpr size_t kMaxValueLength = 255;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The operators each field accepts, and whether they take exactly one value.
struct FieldSpec {
  std::vector<std::string> single;  // exactly one value
  std::vector<std::string> multi;   // one or more values
};

const std::map<std::string, FieldSpec>& Fields() {
  static const std::map<std::string, FieldSpec> fields = {
      {"tag", {{"eq", "sw", "ew", "c"}, {"oo", "noo"}}},
      {"updated_at", {{"bf", "af"}, {}}},
      {"updated_at_duration", {{"bf", "af"}, {}}},
  };
  return fields;
}

bool IsScanningField(const std::string& field) {
  return field == "license.name" || field == "component.name" ||
         field.rfind("vulnerability_", 0) == 0;
}

std::string Join(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (const auto* list : {&a, &b}) {
    for (const auto& s : *list) out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

Status RuleError(size_t i, const std::string& what) {
  return InvalidArgument("rules[" + std::to_string(i) + "]: " + what);
}

Result<Rule> ParseRule(size_t i, const json& j) {
  if (!j.is_object()) return RuleError(i, "a rule is an object {field, operator, values}");
  Rule r;
  auto field = j.find("field");
  auto op = j.find("operator");
  auto values = j.find("values");
  if (field == j.end() || !field->is_string()) return RuleError(i, "field must be a string");
  if (op == j.end() || !op->is_string()) return RuleError(i, "operator must be a string");
  if (values == j.end() || !values->is_array()) {
    return RuleError(i, "values must be an array of strings");
  }
  r.field = field->get<std::string>();
  r.op = op->get<std::string>();
  if (IsScanningField(r.field)) {
    return RuleError(i, "field '" + r.field +
                            "' needs image scanning, which this registry does not provide; "
                            "use tag, updated_at or updated_at_duration");
  }
  auto spec = Fields().find(r.field);
  if (spec == Fields().end()) {
    return RuleError(i, "unknown field '" + r.field +
                            "'; pruning rules use tag, updated_at or updated_at_duration");
  }
  bool single = std::count(spec->second.single.begin(), spec->second.single.end(), r.op) > 0;
  bool multi = std::count(spec->second.multi.begin(), spec->second.multi.end(), r.op) > 0;
  if (!single && !multi) {
    return RuleError(i, "operator '" + r.op + "' does not apply to field " + r.field +
                            "; use one of: " + Join(spec->second.single, spec->second.multi));
  }
  if (values->size() > kMaxValues) {
    return RuleError(i, "at most " + std::to_string(kMaxValues) + " values");
  }
  for (const auto& v : *values) {
    if (!v.is_string()) return RuleError(i, "values must be an array of strings");
    std::string s = v.get<std::string>();
    if (s.empty() || s.size() > kMaxValueLength) {
      return RuleError(
          i, "each value must be 1 to " + std::to_string(kMaxValueLength) + " characters long");
    }
    r.values.push_back(std::move(s));
  }
  if (single && r.values.size() != 1) {
    return RuleError(i, "operator '" + r.op + "' takes exactly one value" +
                            (r.field == "tag" ? " (use oo for a list)" : ""));
  }
  if (multi && r.values.empty()) {
    return RuleError(i, "operator '" + r.op + "' needs at least one value");
  }
  if (r.field == "updated_at") {
    auto t = ParseRfc3339Ms(r.values[0]);
    if (!t.ok()) return RuleError(i, "updated_at: " + t.status().message());
    r.time_value = *t;
  } else if (r.field == "updated_at_duration") {
    auto d = ParseGoDuration(r.values[0]);
    if (!d.ok()) return RuleError(i, "updated_at_duration: " + d.status().message());
    if (*d < 0) return RuleError(i, "updated_at_duration must not be negative");
    r.time_value = *d / 1000000;
  }
  return r;
}

bool Contains(const std::vector<std::string>& values, const std::string& s) {
  return std::find(values.begin(), values.end(), s) != values.end();
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads exactly `n` digits at `*p`.
bool Digits(std::string_view s, size_t* p, size_t n, int* out) {
  if (*p + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*p + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* p, char c) {
  if (*p >= s.size() || s[*p] != c) return false;
  ++*p;
  return true;
}

}  // namespace

Result<std::vector<Rule>> ParseRules(const json& rules) {
  if (!rules.is_array()) return InvalidArgument("rules must be an array");
  if (rules.empty()) {
    return InvalidArgument("a policy needs at least one rule (none would prune every tag)");
  }
  if (rules.size() > kMaxRules) {
    return InvalidArgument("at most " + std::to_string(kMaxRules) + " rules per policy");
  }
  std::vector<Rule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    auto r = ParseRule(i, rules[i]);
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

json RulesToJson(const std::vector<Rule>& rules) {
  json out = json::array();
  for (const auto& r : rules) {
    out.push_back(json{{"field", r.field}, {"operator", r.op}, {"values", r.values}});
  }
  return out;
}

bool RuleMatches(const Rule& rule, const TagFacts& tag, int64_t now_ms) {
  if (rule.field == "tag") {
    if (rule.op == "oo") return Contains(rule.values, tag.tag);
    if (rule.op == "noo") return !Contains(rule.values, tag.tag);
    if (rule.values.empty()) return false;
    const std::string& v = rule.values[0];
    if (rule.op == "eq") return tag.tag == v;
    if (rule.op == "sw") return tag.tag.rfind(v, 0) == 0;
    if (rule.op == "ew") return EndsWith(tag.tag, v);
    if (rule.op == "c") return tag.tag.find(v) != std::string::npos;
    return false;
  }
  int64_t threshold;
  if (rule.field == "updated_at") {
    threshold = rule.time_value;
  } else if (rule.field == "updated_at_duration") {
    threshold = now_ms - rule.time_value;
  } else {
    return false;
  }
  if (rule.op == "bf") return tag.updated_at_ms < threshold;
  if (rule.op == "af") return tag.updated_at_ms > threshold;
  return false;
}

bool AllRulesMatch(const std::vector<Rule>& rules, const TagFacts& tag, int64_t now_ms) {
  if (rules.empty()) return false;
  for (const auto& r : rules) {
    if (!RuleMatches(r, tag, now_ms)) return false;
  }
  return true;
}

Result<int64_t> ParseGoDuration(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  auto invalid = [&] { return InvalidArgument("invalid duration " + quoted); };
  constexpr uint64_t kMax = uint64_t{1} << 63;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  static const std::map<std::string_view, uint64_t> kUnits = {
      {"ns", 1},
      {"us", 1000},
      {"\xC2\xB5s", 1000},  // U+00B5 micro sign
      {"\xCE\xBCs", 1000},  // U+03BC Greek mu
      {"ms", 1000000},
      {"s", 1000000000},
      {"m", uint64_t{60} * 1000000000},
      {"h", uint64_t{3600} * 1000000000},
  };
  uint64_t total = 0;
  while (!s.empty()) {
    if (s[0] != '.' && !IsDigit(s[0])) return invalid();
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (v > kMax / 10) return InvalidArgument("duration " + quoted + " overflows");
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return InvalidArgument("duration " + quoted + " overflows");
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    uint64_t frac = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (frac > (kMax - 1) / 10) {
          overflow = true;  // further digits cannot change the result
          continue;
        }
        frac = frac * 10 + static_cast<uint64_t>(s[j] - '0');
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    if (u == 0) return InvalidArgument("missing unit in duration " + quoted);
    auto unit = kUnits.find(s.substr(0, u));
    if (unit == kUnits.end()) {
      return InvalidArgument("unknown unit \"" + std::string(s.substr(0, u)) + "\" in duration " +
                             quoted + " (use ns, us, ms, s, m or h)");
    }
    s.remove_prefix(u);
    if (v > kMax / unit->second) return InvalidArgument("duration " + quoted + " overflows");
    v *= unit->second;
    if (frac > 0) {
      v += static_cast<uint64_t>(static_cast<double>(frac) *
                                 (static_cast<double>(unit->second) / scale));
      if (v > kMax) return InvalidArgument("duration " + quoted + " overflows");
    }
    total += v;
    if (total > kMax) return InvalidArgument("duration " + quoted + " overflows");
  }
  if (neg) return total == kMax ? INT64_MIN : -static_cast<int64_t>(total);
  if (total > kMax - 1) return InvalidArgument("duration " + quoted + " overflows");
  return static_cast<int64_t>(total);
}

Result<int64_t> ParseRfc3339Ms(std::string_view s) {
  auto invalid = [&] {
    return InvalidArgument("\"" + std::string(s) +
                           "\" is not an RFC 3339 time like 2006-01-02T15:04:05Z");
  };
  std::tm tm{};
  size_t p = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &p, 4, &year) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &month) ||
      !Expect(s, &p, '-') || !Digits(s, &p, 2, &day) || !Expect(s, &p, 'T') ||
      !Digits(s, &p, 2, &hour) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &minute) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &second)) {
    return invalid();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return invalid();
  }
  int64_t ms = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t digits = 0;
    int64_t scale = 100;
    while (p < s.size() && IsDigit(s[p])) {
      if (digits < 3) ms += (s[p] - '0') * scale;
      scale /= 10;
      ++digits;
      ++p;
    }
    if (digits == 0 || digits > 9) return invalid();
  }
  int64_t offset_s = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!Digits(s, &p, 2, &oh) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &om) || oh > 23 ||
        om > 59) {
      return invalid();
    }
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return invalid();
  }
  if (p != s.size()) return invalid();
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t unix_s = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return unix_s * 1000 + ms;
}

}  // namespace dtr::jobs
