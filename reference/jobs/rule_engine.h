// DTR's policy rule engine (ruleengine.Rule = {field, operator, values}) as tag pruning uses
// it: rules over the name of a tag and the time it was last updated. A policy matches a tag
// when every one of its rules does (AND), as DTR's policy pages say of their criteria ("an
// image that meets all the criteria"). Pure: no clock (callers pass `now`), no I/O.
//
// Fields and operators:
//   tag                  eq, sw (starts with), ew (ends with), c (contains): one value;
//                        oo (one of), noo (not one of): one or more values
//   updated_at           bf (before), af (after): one RFC 3339 timestamp
//   updated_at_duration  bf, af: one Go duration ("720h", "1h30m"); "bf 720h" matches tags
//                        last updated more than 720 hours ago, "af 24h" those updated within
//                        the last day
// The scanning fields of DTR's engine (vulnerability_*, license.name, component.name) are
// refused with a message saying so: this registry does not scan images.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace dtr::jobs {

struct Rule {
  std::string field;
  std::string op;  // "operator" in JSON
  std::vector<std::string> values;
  // Derived from values by ParseRules for the time fields: unix milliseconds for
  // updated_at, milliseconds for updated_at_duration.
  int64_t time_value = 0;
};

// What a rule can look at for one tag.
struct TagFacts {
  std::string tag;
  int64_t updated_at_ms = 0;  // unix milliseconds
};

// Parses and validates a JSON array of rules; the message names the rule (by index) and
// what is wrong with it.
Result<std::vector<Rule>> ParseRules(const nlohmann::json& rules);
nlohmann::json RulesToJson(const std::vector<Rule>& rules);

bool RuleMatches(const Rule& rule, const TagFacts& tag, int64_t now_ms);
// True when every rule matches (and there is at least one rule).
bool AllRulesMatch(const std::vector<Rule>& rules, const TagFacts& tag, int64_t now_ms);

// Go's time.ParseDuration: an optional sign, then one or more decimal numbers (fractions
// allowed) each with a unit: ns, us (µs, μs), ms, s, m, h. "0" alone is zero. Returns
// nanoseconds; errors on overflow, like Go.
Result<int64_t> ParseGoDuration(std::string_view text);

// RFC 3339 ("2006-01-02T15:04:05Z", with optional fraction and a Z or ±hh:mm offset) to
// unix milliseconds.
Result<int64_t> ParseRfc3339Ms(std::string_view text);

}  // namespace dtr::jobs
