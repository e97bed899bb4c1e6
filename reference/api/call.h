// Call: one API request being served, with what every handler needs: the caller, the path
// parameters, typed access to query and body, DTR's error replies, and cached lookups
// (namespace types, access levels) so a listing does not ask the store twice.
// Internal to reference/api.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_server.h"

namespace dtr::api {

using nlohmann::json;

// DTR's error codes (inventory §2.0) and the few the reference adds.
namespace err {
inline constexpr const char* kNotAuthenticated = "NOT_AUTHENTICATED";
inline constexpr const char* kNotAuthorized = "NOT_AUTHORIZED";
inline constexpr const char* kNotAllowed = "NOT_ALLOWED";
inline constexpr const char* kNotFound = "NOT_FOUND";  // no such endpoint
inline constexpr const char* kInternal = "INTERNAL_ERROR";
inline constexpr const char* kInvalidJson = "INVALID_JSON";
inline constexpr const char* kInvalidParameters = "INVALID_PARAMETERS";
inline constexpr const char* kInvalidSettings = "INVALID_SETTINGS";
inline constexpr const char* kNoSuchAccount = "NO_SUCH_ACCOUNT";
inline constexpr const char* kNoSuchUser = "NO_SUCH_USER";
inline constexpr const char* kNoSuchTeam = "NO_SUCH_TEAM";
inline constexpr const char* kNoSuchRepository = "NO_SUCH_REPOSITORY";
inline constexpr const char* kNoSuchTag = "NO_SUCH_TAG";
inline constexpr const char* kNoSuchApiToken = "NO_SUCH_API_TOKEN";
inline constexpr const char* kNoSuchNamespaceTeamAccess = "NO_SUCH_NAMESPACE_TEAM_ACCESS";
inline constexpr const char* kRepositoryExists = "REPOSITORY_EXISTS";
inline constexpr const char* kAccountExists = "ACCOUNT_EXISTS";
inline constexpr const char* kTeamExists = "TEAM_EXISTS";
inline constexpr const char* kInvalidVisibility = "INVALID_REPOSITORY_VISIBILITY";
inline constexpr const char* kInvalidTagName = "INVALID_TAG_NAME";
inline constexpr const char* kInvalidDigest = "INVALID_DIGEST";
inline constexpr const char* kTagInNotary = "TAG_IN_NOTARY";  // 409
inline constexpr const char* kRepositoryContainsTagsInNotary =
    "REPOSITORY_CONTAINS_TAGS_IN_NOTARY";  // 405
// Served by the jobs module (jobs/api_docs.h documents its endpoints).
inline constexpr const char* kNoSuchJob = "NO_SUCH_JOB";
inline constexpr const char* kNoSuchCron = "NO_SUCH_CRON";
inline constexpr const char* kNoSuchWorker = "NO_SUCH_WORKER";
inline constexpr const char* kNoSuchActionConfig = "NO_SUCH_ACTION_CONFIG";
inline constexpr const char* kNoSuchWebhook = "NO_SUCH_WEBHOOK";
inline constexpr const char* kNoSuchPruningPolicy = "NO_SUCH_PRUNING_POLICY";
inline constexpr const char* kInvalidPruningPolicy = "INVALID_PRUNING_POLICY";
inline constexpr const char* kWebhookDeliveryFailed = "WEBHOOK_DELIVERY_FAILED";  // 502
}  // namespace err

// HTTP status of an error code.
int ErrorStatus(std::string_view code);

// Reads fields of a JSON object with type checks. Missing optional fields leave the output
// untouched; the first problem is kept and later calls do nothing.
class Form {
 public:
  explicit Form(const json& body) : body_(body) {}
  bool Has(const char* key) const;
  Form& Str(const char* key, std::string* out, bool required = false, size_t max_len = 1024);
  Form& Bool(const char* key, bool* out, bool required = false);
  Form& Int(const char* key, int64_t* out, bool required, int64_t min, int64_t max);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const json* Field(const char* key, bool required, const char* type);
  const json& body_;
  std::string error_;
};

// Pagination of /api/v0 listings (inventory §2.0): pageStart names the first record,
// pageSize (1-1000, default 10) bounds the page, count asks for X-Resource-Count.
struct Page {
  std::string start;
  size_t size = 10;
  bool count = false;
};

class Call {
 public:
  Call(http::Request& request, http::Response& response, const access::Principal& principal,
       const ApiDeps& dependencies, std::vector<std::pair<std::string, std::string>> params)
      : req(request),
        res(response),
        who(principal),
        deps(dependencies),
        params_(std::move(params)) {}

  http::Request& req;
  http::Response& res;
  const access::Principal& who;
  const ApiDeps& deps;

  const std::string& Param(std::string_view name) const;
  const meta::Account* user() const { return who.user(); }
  bool is_admin() const { return who.is_admin(); }

  // Replies.
  void Reply(int status, const json& body);
  void NoContent();
  void Fail(const char* code, const std::string& message, const json& detail = json::object());
  // A store failure: 500 INTERNAL_ERROR; the details go to the log, not the caller.
  void Internal(const Status& s);
  // NOT_AUTHENTICATED for anonymous callers, NOT_AUTHORIZED for the others.
  void Deny(const std::string& message);

  // The body as a JSON object (at most 1 MiB); nullopt after replying INVALID_JSON. An empty
  // body is {} when `allow_empty`.
  std::optional<json> BodyObject(bool allow_empty = false);
  // Query parameters; nullopt after replying INVALID_PARAMETERS.
  std::optional<bool> QueryBool(std::string_view name, bool fallback);
  std::optional<int64_t> QueryInt(std::string_view name, int64_t fallback, int64_t min,
                                  int64_t max);
  // Optional RFC 3339 time as unix milliseconds (0 when absent).
  std::optional<int64_t> QueryTime(std::string_view name);
  std::string QueryStr(std::string_view name) const;
  std::optional<Page> PageParams();
  // X-Next-Page-Start and a Link rel="next" header for the next page.
  void SetNextPage(const std::string& next, size_t page_size);

  // Cached lookups.
  // "user" or "organization" (namespaces without an account are treated as users).
  std::string NamespaceType(const std::string& ns);
  Result<meta::AccessLevel> RepoLevel(const std::string& ns, const std::string& name);

 private:
  std::vector<std::pair<std::string, std::string>> params_;
  std::map<std::string, std::string> ns_types_;
  std::map<std::string, meta::AccessLevel> levels_;
};

// Names. Accounts and teams: 2-100 characters of lowercase letters and digits, optionally
// separated by single '.', '_' or '-'. Repositories: one path component of the distribution
// grammar, with namespace/name at most 255 characters.
Status ValidateAccountName(std::string_view name, const char* what);
Status ValidateRepoComponent(const std::string& ns, const std::string& name);

// The exclusive lower bound from which a "name > bound" store query reaches `first`; the
// caller skips entries below `first`.
std::string BoundBefore(const std::string& first);

// Times.
std::string Rfc3339(int64_t unix_seconds);
std::string Rfc3339Millis(int64_t unix_millis);
std::optional<int64_t> ParseRfc3339Millis(std::string_view s);

// An event about `object_name` (of `object_type`) in `repository`; content is JSON.
meta::Event MakeEvent(std::string type, std::string object_type, std::string object_name,
                      std::string content, std::string repository);

// Records an event (actor: the caller) and tells deps.on_event. Failures are logged, not
// returned: the change the event describes has already happened.
void RecordEvent(Call& c, meta::Event e);

}  // namespace dtr::api
