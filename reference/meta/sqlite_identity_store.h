// The embedded IdentityStore, in the same SQLite database as the registry index.
#pragma once

#include <atomic>

#include "meta/identity_store.h"
#include "meta/sqlite_db.h"

namespace dtr::meta {

class SqliteIdentityStore : public IdentityStore {
 public:
  // Creates the tables when missing. `db` must outlive the store.
  static Result<std::unique_ptr<SqliteIdentityStore>> Open(SqliteDb* db);

  Status CreateAccount(Account* account) override;
  Result<std::optional<Account>> GetAccount(const std::string& name_or_id) override;
  Status UpdateAccount(const Account& account) override;
  Status DeleteAccount(const std::string& id) override;
  uint64_t AccountsVersion() const override { return accounts_version_.load(); }
  Result<std::vector<Account>> ListAccounts(const std::string& filter, const std::string& start,
                                            size_t limit) override;
  Status SetOrgMember(const Membership& m) override;
  Status RemoveOrgMember(const std::string& org_id, const std::string& user_id) override;
  Result<std::optional<Membership>> GetOrgMember(const std::string& org_id,
                                                 const std::string& user_id) override;
  Result<std::vector<Membership>> ListOrgMembers(const std::string& org_id) override;
  Result<std::vector<Membership>> ListUserOrgs(const std::string& user_id) override;
  Status CreateTeam(Team* team) override;
  Result<std::optional<Team>> GetTeam(const std::string& org_id,
                                      const std::string& name_or_id) override;
  Status UpdateTeam(const Team& team) override;
  Status DeleteTeam(const std::string& team_id) override;
  Result<std::vector<Team>> ListTeams(const std::string& org_id) override;
  Status SetTeamMember(const std::string& team_id, const Membership& m) override;
  Status RemoveTeamMember(const std::string& team_id, const std::string& user_id) override;
  Result<std::vector<Membership>> ListTeamMembers(const std::string& team_id) override;
  Result<std::vector<Team>> ListUserTeams(const std::string& user_id) override;
  Status CreateRepository(Repository* repo) override;
  Result<std::optional<Repository>> GetRepository(const std::string& ns,
                                                  const std::string& name) override;
  Status UpdateRepository(const Repository& repo) override;
  Status DeleteRepositoryRecord(const std::string& ns, const std::string& name) override;
  Result<std::vector<Repository>> ListRepositoryRecords(const std::string& ns,
                                                        const std::string& start,
                                                        size_t limit) override;
  Status CountPull(const std::string& ns, const std::string& name) override;
  Status CountPush(const std::string& ns, const std::string& name) override;
  Status RecordPulls(std::vector<PullRecord>* pulls) override;
  Status SetRepoGrant(const TeamGrant& g) override;
  Status RemoveRepoGrant(const std::string& repo, const std::string& team_id) override;
  Result<std::vector<TeamGrant>> ListRepoGrants(const std::string& repo) override;
  Status SetNamespaceGrant(const TeamGrant& g) override;
  Status RemoveNamespaceGrant(const std::string& ns, const std::string& team_id) override;
  Result<std::vector<TeamGrant>> ListNamespaceGrants(const std::string& ns) override;
  Result<std::vector<TeamGrant>> ListTeamGrants(const std::string& team_id) override;
  Status CreateApiToken(const ApiToken& t) override;
  Result<std::optional<ApiToken>> GetApiToken(const std::string& hashed) override;
  Status UpdateApiToken(const ApiToken& t) override;
  Status DeleteApiToken(const std::string& hashed) override;
  Result<std::vector<ApiToken>> ListApiTokens(const std::string& account_id) override;
  Status AddEvent(Event* e) override;
  Result<std::vector<Event>> ListEvents(const EventQuery& q) override;
  Result<int64_t> CountEvents(const EventQuery& q) override;

 private:
  explicit SqliteIdentityStore(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
  std::atomic<uint64_t> accounts_version_{1};
};

std::string NewId();

}  // namespace dtr::meta
