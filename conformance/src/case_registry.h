// The case registry: every conformance case registers itself from its group's .cc file
// through a static CaseRegistrar, so adding a group is adding a file. A case is a function
// over a CaseContext; it ends by returning (PASS), or through fail()/skip().
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "http_client.h"

namespace dtrc {

enum class Level { kMust, kShould };
const char* level_name(Level level);

enum Profile : unsigned { kProfileOci = 1u, kProfileDtr = 2u, kProfileAll = 3u };
unsigned profile_bit(const std::string& name);  // 0 for an unknown name

class CaseContext;
using CaseFn = void (*)(CaseContext&);

struct CaseInfo {
  const char* group = "";
  const char* id = "";      // unique within the group, kebab-case
  const char* clause = "";  // the spec clause checked: section / endpoint id and its words
  Level level = Level::kMust;
  CaseFn fn = nullptr;
  unsigned profiles = kProfileAll;
  bool destructive = false;  // cannot be undone: runs only with --destructive
  int order = 100;           // lower runs first within a group; ties by id
};

struct CaseRegistrar {
  explicit CaseRegistrar(const CaseInfo& info);
};

// Every registered case, sorted by group rank, order, id. Aborts on a duplicate id.
const std::vector<CaseInfo>& all_cases();
std::string full_id(const CaseInfo& info);  // "group/id"

// Thrown by CaseContext::fail/skip; the runner turns them into results.
struct CaseFailed {
  std::string reason;
  std::string evidence;  // request and response that proved it
  bool transport = false;
  bool fatal = false;  // no case can run on: the runner stops (e.g. credentials refused)
};
struct CaseSkipped {
  std::string reason;
};

// An HTTP answer with an error status, kept for the passive error-format checks.
struct ObservedError {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string evidence;
};

// What all cases of one run share.
class RunState {
 public:
  RunState(const Options& options, HttpClient& http);
  const Options& options() const { return options_; }
  HttpClient& http() { return http_; }
  const std::string& run_id() const { return run_id_; }
  // Results of probes that several cases depend on (e.g. "referrers-api").
  std::map<std::string, std::optional<bool>>& probes() { return probes_; }
  const std::vector<ObservedError>& observed_errors() const { return observed_; }
  int next_serial() { return ++serial_; }

 private:
  const Options& options_;
  HttpClient& http_;
  std::string run_id_;
  std::map<std::string, std::optional<bool>> probes_;
  std::vector<ObservedError> observed_;
  int serial_ = 0;
};

class CaseContext {
 public:
  CaseContext(RunState& run, const CaseInfo& info);
  ~CaseContext();
  CaseContext(const CaseContext&) = delete;
  CaseContext& operator=(const CaseContext&) = delete;

  RunState& run() { return run_; }
  HttpClient& http() { return run_.http(); }
  const Options& options() const { return run_.options(); }
  const CaseInfo& info() const { return info_; }

  // A fresh repository name under --namespace, unique to this run and case.
  std::string new_repo();

  [[noreturn]] void fail(const std::string& reason);  // evidence: the last exchange
  [[noreturn]] void fail(const std::string& reason, const HttpResponse& evidence);
  [[noreturn]] void skip(const std::string& reason);
  // A setup step the case needs did not work: the case cannot judge, so it is skipped
  // with the step's answer as the reason (the step's own case reports the failure).
  [[noreturn]] void blocked(const std::string& step, const HttpResponse& evidence);
  void note(const std::string& text) { notes_.push_back(text); }
  const std::vector<std::string>& notes() const { return notes_; }

  // Undo actions, run in reverse order when the case ends, whatever its outcome.
  void on_cleanup(std::function<void()> undo) { cleanups_.push_back(std::move(undo)); }
  void run_cleanups();

 private:
  RunState& run_;
  const CaseInfo& info_;
  std::vector<std::string> notes_;
  std::vector<std::function<void()>> cleanups_;
  int repos_ = 0;
};

}  // namespace dtrc

#define DTRC_CONCAT_INNER(a, b) a##b
#define DTRC_CONCAT(a, b) DTRC_CONCAT_INNER(a, b)
// DTRC_CASE({.group = "registry", .id = "...", .clause = "...", .level = ..., .fn = ...});
#define DTRC_CASE(...)                                                   \
  static const ::dtrc::CaseRegistrar DTRC_CONCAT(dtrc_case_, __LINE__) { \
    ::dtrc::CaseInfo __VA_ARGS__                                         \
  }
