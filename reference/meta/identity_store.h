// IdentityStore: who exists and who may do what. Accounts (users and organizations), org
// and team memberships, DTR repository records (visibility, immutability, tag limit),
// team grants per repository and per namespace, API tokens and the event log. Lives in the
// same database as the registry index; SQLite by default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::meta {

struct Account {
  std::string id;
  std::string name;
  std::string full_name;
  bool is_org = false;
  bool is_admin = false;
  bool is_active = true;
  std::string password_hash;  // users only; never leaves the server
  int64_t created_at = 0;
};

struct Membership {
  std::string org_id;
  std::string user_id;
  bool is_admin = false;
  bool is_public = false;
};

struct Team {
  std::string id;
  std::string org_id;
  std::string name;
  std::string description;
};

enum class AccessLevel { kNone = 0, kReadOnly = 1, kReadWrite = 2, kAdmin = 3 };
const char* AccessLevelName(AccessLevel l);
std::optional<AccessLevel> ParseAccessLevel(const std::string& s);

struct Repository {
  std::string id;
  std::string namespace_name;
  std::string name;  // without the namespace
  std::string short_description;
  std::string long_description;
  std::string visibility = "private";  // public | private
  bool immutable_tags = false;
  bool scan_on_push = false;
  bool enable_manifest_lists = false;
  int64_t tag_limit = 0;
  int64_t pulls = 0;
  int64_t pushes = 0;
  int64_t created_at = 0;
  std::string full_name() const { return namespace_name + "/" + name; }
};

struct TeamGrant {
  std::string team_id;
  std::string target;  // repository full name, or namespace
  AccessLevel level = AccessLevel::kNone;
};

struct ApiToken {
  std::string hashed_token;
  std::string account_id;
  std::string label;
  bool is_active = true;
  int64_t last_used = 0;
  int64_t created_at = 0;
  std::string generated_by;
  std::string creator_ua;
};

struct Event {
  int64_t id = 0;
  int64_t published_at = 0;  // unix milliseconds
  std::string actor;
  std::string actor_type = "user";
  std::string type;         // CREATE, GET, UPDATE, DELETE, ...
  std::string object_type;  // TAG, MANIFEST, REPOSITORY, BLOB, ...
  std::string object_name;
  std::string object_content;  // JSON
  std::string target;
  std::string repository;
};

// One successful pull: counted on its repository and recorded as its event.
struct PullRecord {
  std::string ns;
  std::string name;
  Event event;
};

struct EventQuery {
  std::string repository;  // empty: all
  std::string actor;
  std::string type;
  std::string object_type;
  int64_t published_before = 0;  // 0: no bound
  int64_t published_after = 0;
  int64_t page_start = 0;  // id to start after (descending order)
  size_t page_size = 10;
  bool exclude_pull = false;
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // Accounts. Names are unique across users and organizations.
  virtual Status CreateAccount(Account* account) = 0;  // fills id and created_at
  // Changes whenever an account is updated or deleted through this store, so callers may
  // cache what they read about accounts and notice in-process changes at once. A store that
  // cannot tell returns 0 always (callers then rely on their cache's lifetime alone).
  virtual uint64_t AccountsVersion() const { return 0; }
  virtual Result<std::optional<Account>> GetAccount(const std::string& name_or_id) = 0;
  virtual Status UpdateAccount(const Account& account) = 0;
  virtual Status DeleteAccount(const std::string& id) = 0;
  // filter: all, users, orgs, admins, non-admins. Ordered by name, after `start`.
  virtual Result<std::vector<Account>> ListAccounts(const std::string& filter,
                                                    const std::string& start, size_t limit) = 0;

  virtual Status SetOrgMember(const Membership& m) = 0;
  virtual Status RemoveOrgMember(const std::string& org_id, const std::string& user_id) = 0;
  virtual Result<std::optional<Membership>> GetOrgMember(const std::string& org_id,
                                                         const std::string& user_id) = 0;
  virtual Result<std::vector<Membership>> ListOrgMembers(const std::string& org_id) = 0;
  virtual Result<std::vector<Membership>> ListUserOrgs(const std::string& user_id) = 0;

  virtual Status CreateTeam(Team* team) = 0;
  virtual Result<std::optional<Team>> GetTeam(const std::string& org_id,
                                              const std::string& name_or_id) = 0;
  virtual Status UpdateTeam(const Team& team) = 0;
  virtual Status DeleteTeam(const std::string& team_id) = 0;
  virtual Result<std::vector<Team>> ListTeams(const std::string& org_id) = 0;
  virtual Status SetTeamMember(const std::string& team_id, const Membership& m) = 0;
  virtual Status RemoveTeamMember(const std::string& team_id, const std::string& user_id) = 0;
  virtual Result<std::vector<Membership>> ListTeamMembers(const std::string& team_id) = 0;
  virtual Result<std::vector<Team>> ListUserTeams(const std::string& user_id) = 0;

  // DTR repositories (namespace/name).
  virtual Status CreateRepository(Repository* repo) = 0;  // kAlreadyExists when taken
  virtual Result<std::optional<Repository>> GetRepository(const std::string& ns,
                                                          const std::string& name) = 0;
  virtual Status UpdateRepository(const Repository& repo) = 0;
  virtual Status DeleteRepositoryRecord(const std::string& ns, const std::string& name) = 0;
  // namespace empty: all namespaces. Ordered by full name, after `start`.
  virtual Result<std::vector<Repository>> ListRepositoryRecords(const std::string& ns,
                                                                const std::string& start,
                                                                size_t limit) = 0;
  virtual Status CountPull(const std::string& ns, const std::string& name) = 0;
  virtual Status CountPush(const std::string& ns, const std::string& name) = 0;
  // Counts and records a batch of pulls (filling the events' ids and times), in one
  // transaction where the store has them: pulls are many, and one commit each would put a
  // disk flush on every manifest GET.
  virtual Status RecordPulls(std::vector<PullRecord>* pulls) {
    for (auto& p : *pulls) {
      if (Status s = CountPull(p.ns, p.name); !s.ok()) return s;
      if (Status s = AddEvent(&p.event); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // Team grants on one repository ("ns/name") or on a whole namespace.
  virtual Status SetRepoGrant(const TeamGrant& g) = 0;
  virtual Status RemoveRepoGrant(const std::string& repo, const std::string& team_id) = 0;
  virtual Result<std::vector<TeamGrant>> ListRepoGrants(const std::string& repo) = 0;
  virtual Status SetNamespaceGrant(const TeamGrant& g) = 0;
  virtual Status RemoveNamespaceGrant(const std::string& ns, const std::string& team_id) = 0;
  virtual Result<std::vector<TeamGrant>> ListNamespaceGrants(const std::string& ns) = 0;
  virtual Result<std::vector<TeamGrant>> ListTeamGrants(const std::string& team_id) = 0;

  virtual Status CreateApiToken(const ApiToken& t) = 0;
  virtual Result<std::optional<ApiToken>> GetApiToken(const std::string& hashed) = 0;
  virtual Status UpdateApiToken(const ApiToken& t) = 0;
  virtual Status DeleteApiToken(const std::string& hashed) = 0;
  virtual Result<std::vector<ApiToken>> ListApiTokens(const std::string& account_id) = 0;

  virtual Status AddEvent(Event* e) = 0;
  virtual Result<std::vector<Event>> ListEvents(const EventQuery& q) = 0;
  virtual Result<int64_t> CountEvents(const EventQuery& q) = 0;
};

}  // namespace dtr::meta
