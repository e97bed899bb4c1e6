#include "runner.h"

#include <chrono>
#include <exception>
#include <set>

namespace dtrc {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kSkip:
      return "SKIP";
  }
  return "?";
}

Selection select_cases(const Options& options) {
  Selection s;
  std::set<std::string> groups;
  for (const auto& c : all_cases()) groups.insert(c.group);
  for (const auto& g : options.only) {
    if (!groups.count(g)) {
      std::string known;
      for (const auto& k : groups) known += (known.empty() ? "" : ", ") + k;
      s.error = "--only: unknown group \"" + g + "\" (known: " + known + ")";
      return s;
    }
  }
  const unsigned bit = profile_bit(options.profile);
  for (const auto& c : all_cases()) {
    if (!(c.profiles & bit)) continue;
    if (!options.only.empty()) {
      bool wanted = false;
      for (const auto& g : options.only) wanted = wanted || g == c.group;
      if (!wanted) continue;
    }
    s.cases.push_back(&c);
  }
  return s;
}

std::string preflight(HttpClient& http) {
  HttpResponse r = http.send({.method = "GET", .target = "/v2/"});
  const std::string url = http.absolute("/v2/");
  if (!r.ok()) return "cannot reach the registry: " + r.error;
  if (r.status == 401) {
    std::string why = http.auth_problem();
    return "GET " + url + " answered 401 Unauthorized" + (why.empty() ? "" : ": " + why);
  }
  std::string type = r.header("Content-Type");
  const bool html = type.find("text/html") != std::string::npos ||
                    r.body.find("<html") != std::string::npos ||
                    r.body.find("<HTML") != std::string::npos;
  if (r.status != 200) {
    return "GET " + url + " answered " + std::to_string(r.status) + " " + r.reason +
           (html ? " with an HTML page" : "") + ": this URL does not serve the registry API (/v2/)";
  }
  if (html && !r.has_header("Docker-Distribution-API-Version")) {
    return "GET " + url + " answered an HTML page: this looks like a web site, not a registry API";
  }
  return "";
}

RunReport run_cases(RunState& state, const std::vector<const CaseInfo*>& cases,
                    const std::function<void(const CaseResult&)>& on_result) {
  RunReport report;
  int transport_streak = 0;
  for (const CaseInfo* info : cases) {
    CaseResult res;
    res.info = info;
    const auto started = std::chrono::steady_clock::now();
    if (!report.aborted.empty()) {
      res.outcome = Outcome::kSkip;
      res.reason = "not run: " + report.aborted;
    } else if (info->destructive && !state.options().destructive) {
      res.outcome = Outcome::kSkip;
      res.reason = "cannot be undone: runs only with --destructive";
    } else {
      bool transport = false;
      {
        CaseContext ctx(state, *info);
        try {
          info->fn(ctx);
          res.outcome = Outcome::kPass;
          for (const auto& n : ctx.notes()) res.reason += (res.reason.empty() ? "" : "; ") + n;
        } catch (const CaseFailed& f) {
          res.outcome = f.fatal ? Outcome::kSkip : Outcome::kFail;
          res.reason = f.fatal ? "not run: " + f.reason : f.reason;
          res.evidence = f.fatal ? "" : f.evidence;
          transport = f.transport;
          if (f.fatal) report.aborted = f.reason;
        } catch (const CaseSkipped& s) {
          res.outcome = Outcome::kSkip;
          res.reason = s.reason;
        } catch (const std::exception& e) {
          // A response of an unexpected shape (e.g. JSON of the wrong type) is the
          // registry's failure, shown with the last exchange.
          const HttpResponse& last = state.http().last();
          res.outcome = Outcome::kFail;
          res.reason = std::string("unexpected response: ") + e.what();
          res.evidence = last.request_text + "\n" + last.text();
        }
      }  // cleanups run here
      transport_streak = transport ? transport_streak + 1 : 0;
      if (transport_streak >= 3) {
        report.aborted = "the registry stopped answering (" + res.reason + ")";
      }
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    switch (res.outcome) {
      case Outcome::kPass:
        ++report.passed;
        break;
      case Outcome::kFail:
        ++report.failed;
        if (info->level == Level::kMust) {
          ++report.must_failed;
        } else {
          ++report.should_failed;
        }
        break;
      case Outcome::kSkip:
        ++report.skipped;
        break;
    }
    on_result(res);
    report.results.push_back(std::move(res));
  }
  return report;
}

}  // namespace dtrc
