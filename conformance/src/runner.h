// Runs the selected cases against a registry: a preflight that tells an unreachable or
// non-registry URL apart from a failing registry, then each case in order, each result
// handed to the reporter as it lands.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "case_registry.h"

namespace dtrc {

enum class Outcome { kPass, kFail, kSkip };
const char* outcome_name(Outcome o);

struct CaseResult {
  const CaseInfo* info = nullptr;
  Outcome outcome = Outcome::kSkip;
  std::string reason;
  std::string evidence;  // request + response that proved a failure
  double seconds = 0;
};

struct RunReport {
  std::vector<CaseResult> results;
  int passed = 0, failed = 0, skipped = 0;
  int must_failed = 0, should_failed = 0;
  std::string aborted;  // why the run stopped early ("" when it did not)
};

// The cases that apply: profile, --only groups. An unknown group is a usage error.
struct Selection {
  std::vector<const CaseInfo*> cases;
  std::string error;
};
Selection select_cases(const Options& options);

// GET /v2/ the way a client starts: "" when the URL serves the registry API (after auth),
// else a message saying why not (connection refused, TLS, timeout, HTML, 404, auth).
std::string preflight(HttpClient& http);

RunReport run_cases(RunState& state, const std::vector<const CaseInfo*>& cases,
                    const std::function<void(const CaseResult&)>& on_result);

}  // namespace dtrc
