#include "case_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "digest.h"

namespace dtrc {
namespace {

std::vector<CaseInfo>& registry() {
  static std::vector<CaseInfo> cases;
  return cases;
}

// Groups in the order issue 3 and its successors name them; unknown groups sort after.
int group_rank(const std::string& g) {
  static const char* kOrder[] = {"registry", "auth", "api", "trust", "jobs", "health"};
  for (int i = 0; i < 6; ++i) {
    if (g == kOrder[i]) return i;
  }
  return 100;
}

}  // namespace

const char* level_name(Level level) { return level == Level::kMust ? "MUST" : "SHOULD"; }

unsigned profile_bit(const std::string& name) {
  if (name == "oci") return kProfileOci;
  if (name == "dtr") return kProfileDtr;
  return 0;
}

CaseRegistrar::CaseRegistrar(const CaseInfo& info) { registry().push_back(info); }

std::string full_id(const CaseInfo& info) { return std::string(info.group) + "/" + info.id; }

const std::vector<CaseInfo>& all_cases() {
  static const std::vector<CaseInfo> sorted = [] {
    std::vector<CaseInfo> v = registry();
    std::set<std::string> seen;
    for (const auto& c : v) {
      if (!seen.insert(full_id(c)).second || c.fn == nullptr) {
        std::fprintf(stderr, "internal error: case %s registered twice or without body\n",
                     full_id(c).c_str());
        std::abort();
      }
    }
    std::sort(v.begin(), v.end(), [](const CaseInfo& a, const CaseInfo& b) {
      int ra = group_rank(a.group), rb = group_rank(b.group);
      if (ra != rb) return ra < rb;
      if (std::string(a.group) != b.group) return std::string(a.group) < b.group;
      if (a.order != b.order) return a.order < b.order;
      return std::string(a.id) < b.id;
    });
    return v;
  }();
  return sorted;
}

RunState::RunState(const Options& options, HttpClient& http)
    : options_(options), http_(http), run_id_(random_hex(6)) {
  http_.set_observer([this](const HttpResponse& r) {
    if (r.status >= 400 && observed_.size() < 2000) {
      observed_.push_back({r.status, r.header("Content-Type"), r.body.substr(0, 4096),
                           r.request_text + "\n" + r.text()});
    }
  });
}

CaseContext::CaseContext(RunState& run, const CaseInfo& info) : run_(run), info_(info) {}

CaseContext::~CaseContext() { run_cleanups(); }

std::string CaseContext::new_repo() {
  ++repos_;
  std::string name = options().ns + "/c-" + run_.run_id() + "-" + info_.id;
  if (repos_ > 1) name += "-" + std::to_string(repos_);
  return name;
}

void CaseContext::fail(const std::string& reason) { fail(reason, http().last()); }

void CaseContext::fail(const std::string& reason, const HttpResponse& evidence) {
  CaseFailed f;
  f.reason = reason;
  f.evidence = evidence.request_text + "\n" + evidence.text();
  f.transport = !evidence.ok();
  throw f;
}

void CaseContext::skip(const std::string& reason) { throw CaseSkipped{reason}; }

void CaseContext::blocked(const std::string& step, const HttpResponse& evidence) {
  if (!evidence.ok()) {
    // No HTTP answer at all is not a judgement call: the run is in trouble.
    fail(step + ": " + evidence.error, evidence);
  }
  std::string why = "blocked: " + step + " answered " + std::to_string(evidence.status);
  if (!evidence.body.empty()) why += " " + printable(evidence.body, 160);
  throw CaseSkipped{why};
}

void CaseContext::run_cleanups() {
  while (!cleanups_.empty()) {
    auto undo = std::move(cleanups_.back());
    cleanups_.pop_back();
    try {
      undo();
    } catch (...) {
      // Cleanup is best effort: the case's outcome is already decided.
    }
  }
}

}  // namespace dtrc
