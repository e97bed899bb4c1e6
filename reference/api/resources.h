// The API's resources: how accounts, teams, repositories, events and tokens look in JSON,
// and the lookups handlers share (each replies with the right 404 when the thing is missing
// or must stay hidden). Internal to reference/api.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/call.h"

namespace dtr::api {

// JSON views. None carries a password hash or a plaintext token.
json AccountJson(Call& c, const meta::Account& a);
json TeamJson(Call& c, const meta::Team& t);
// {member: Account, isAdmin, isPublic}
json MemberJson(Call& c, const meta::Account& member, const meta::Membership& m);
json RepositoryJson(Call& c, const meta::Repository& r);
json EventJson(const meta::Event& e);
json TokenJson(const meta::ApiToken& t);

// Accounts by name or id. nullopt after replying 404.
std::optional<meta::Account> FindAccount(Call& c, const std::string& name_or_id);
std::optional<meta::Account> FindUser(Call& c, const std::string& name_or_id);  // not orgs
std::optional<meta::Account> FindOrg(Call& c, const std::string& name_or_id);
std::optional<meta::Team> FindTeam(Call& c, const meta::Account& org, const std::string& team);

// The caller's standing in an organization.
bool IsOrgAdmin(Call& c, const meta::Account& org);   // system admins too
bool IsOrgMember(Call& c, const meta::Account& org);  // admins and system admins too

struct RepoView {
  meta::Repository repo;
  meta::AccessLevel level = meta::AccessLevel::kNone;
  std::string full() const { return repo.full_name(); }
};
// The repository of the {namespace}/{reponame} path parameters when the caller can at least
// read it. A missing repository and one the caller cannot see get the same reply:
// 404 NO_SUCH_REPOSITORY.
std::optional<RepoView> VisibleRepo(Call& c);
// True when the caller holds `needed` on the repository; otherwise replies 401/403 naming
// `action` ("delete tags", ...).
bool RequireLevel(Call& c, const RepoView& r, meta::AccessLevel needed, const std::string& action);
// True when the registry accepts writes; otherwise replies 405 NOT_ALLOWED.
bool RequireWritable(Call& c);

// Every manifest of a repository, by digest, with its index record when there is one.
Result<std::vector<meta::ManifestRecord>> ListRepoManifests(Call& c, const std::string& repo);
// Removes a repository's manifests, tags, index entry, team grants and record.
Status DeleteRepositoryEverywhere(Call& c, const std::string& ns, const std::string& name);

}  // namespace dtr::api
