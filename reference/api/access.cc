// Repository permissions (inventory §2.3 and §2.6): team grants per repository and per
// namespace, a user's effective access, a team's grants.
#include "api/resources.h"
#include "api/routes.h"

namespace dtr::api {

namespace {

using meta::AccessLevel;

// accessLevel of the body; nullopt after replying 400.
std::optional<AccessLevel> ReadAccessLevel(Call& c) {
  auto body = c.BodyObject();
  if (!body) return std::nullopt;
  std::string level;
  Form f(*body);
  f.Str("accessLevel", &level, true, 32);
  if (!f.ok()) {
    c.Fail(err::kInvalidParameters, f.error());
    return std::nullopt;
  }
  auto parsed = meta::ParseAccessLevel(level);
  if (!parsed) {
    c.Fail(err::kInvalidParameters,
           "accessLevel must be read-only, read-write or admin, not '" + level + "'");
  }
  return parsed;
}

// The organization owning a repository's namespace; nullopt after replying 400 for user
// namespaces, which have no teams.
std::optional<meta::Account> RepoOrg(Call& c, const RepoView& r) {
  auto owner = c.deps.identity->GetAccount(r.repo.namespace_name);
  if (!owner.ok()) {
    c.Internal(owner.status());
    return std::nullopt;
  }
  if (!owner->has_value() || !(*owner)->is_org) {
    c.Fail(err::kInvalidParameters, "team access applies only to repositories of organizations; " +
                                        r.repo.namespace_name + " is not one");
    return std::nullopt;
  }
  return **owner;
}

// ---- per repository ----

void ListRepoTeamAccess(Call& c) {
  auto r = VisibleRepo(c);
  if (!r || !RequireLevel(c, *r, AccessLevel::kAdmin, "see its team access")) return;
  auto grants = c.deps.identity->ListRepoGrants(r->full());
  if (!grants.ok()) return c.Internal(grants.status());
  auto owner = c.deps.identity->GetAccount(r->repo.namespace_name);
  if (!owner.ok()) return c.Internal(owner.status());
  json list = json::array();
  for (const auto& g : *grants) {
    if (!owner->has_value()) break;
    auto team = c.deps.identity->GetTeam((*owner)->id, g.team_id);
    if (!team.ok()) return c.Internal(team.status());
    if (!team->has_value()) continue;
    list.push_back(
        {{"accessLevel", meta::AccessLevelName(g.level)}, {"team", TeamJson(c, **team)}});
  }
  c.Reply(200, {{"repository", RepositoryJson(c, r->repo)}, {"teamAccessList", list}});
}

void PutRepoTeamAccess(Call& c) {
  auto r = VisibleRepo(c);
  if (!r || !RequireLevel(c, *r, AccessLevel::kAdmin, "grant team access")) return;
  auto org = RepoOrg(c, *r);
  if (!org) return;
  auto team = FindTeam(c, *org, c.Param("teamname"));
  if (!team) return;
  auto level = ReadAccessLevel(c);
  if (!level) return;
  if (Status s = c.deps.identity->SetRepoGrant({team->id, r->full(), *level}); !s.ok()) {
    return c.Internal(s);
  }
  c.Reply(200, {{"accessLevel", meta::AccessLevelName(*level)},
                {"team", TeamJson(c, *team)},
                {"repository", RepositoryJson(c, r->repo)}});
}

void DeleteRepoTeamAccess(Call& c) {
  auto r = VisibleRepo(c);
  if (!r || !RequireLevel(c, *r, AccessLevel::kAdmin, "revoke team access")) return;
  auto org = RepoOrg(c, *r);
  if (!org) return;
  auto team = FindTeam(c, *org, c.Param("teamname"));
  if (!team) return;
  if (Status s = c.deps.identity->RemoveRepoGrant(r->full(), team->id); !s.ok()) {
    return c.Internal(s);
  }
  c.NoContent();
}

// ---- per namespace ----

// The {namespace} account when the caller administers it; nullopt after replying.
std::optional<meta::Account> AdministeredNamespace(Call& c) {
  auto ns = FindAccount(c, c.Param("namespace"));
  if (!ns) return std::nullopt;
  auto level = c.deps.policy->NamespaceAccess(c.user(), ns->name);
  if (!level.ok()) {
    c.Internal(level.status());
    return std::nullopt;
  }
  if (*level != AccessLevel::kAdmin) {
    c.Fail(err::kNotAuthorized,
           "managing team access to " + ns->name + " needs admin access to it");
    return std::nullopt;
  }
  return ns;
}

void ListNamespaceTeamAccess(Call& c) {
  auto ns = AdministeredNamespace(c);
  if (!ns) return;
  auto grants = c.deps.identity->ListNamespaceGrants(ns->name);
  if (!grants.ok()) return c.Internal(grants.status());
  json list = json::array();
  for (const auto& g : *grants) {
    auto team = c.deps.identity->GetTeam(ns->id, g.team_id);
    if (!team.ok()) return c.Internal(team.status());
    if (!team->has_value()) continue;
    list.push_back(
        {{"accessLevel", meta::AccessLevelName(g.level)}, {"team", TeamJson(c, **team)}});
  }
  c.Reply(200, {{"namespace", AccountJson(c, *ns)}, {"teamAccessList", list}});
}

struct NamespaceTeam {
  meta::Account ns;
  meta::Team team;
};
std::optional<NamespaceTeam> LoadNamespaceTeam(Call& c) {
  auto ns = AdministeredNamespace(c);
  if (!ns) return std::nullopt;
  if (!ns->is_org) {
    c.Fail(err::kInvalidParameters,
           "team access applies only to organizations; " + ns->name + " is a user");
    return std::nullopt;
  }
  auto team = FindTeam(c, *ns, c.Param("teamname"));
  if (!team) return std::nullopt;
  return NamespaceTeam{*ns, *team};
}

void GetNamespaceTeamAccess(Call& c) {
  auto nt = LoadNamespaceTeam(c);
  if (!nt) return;
  auto grants = c.deps.identity->ListNamespaceGrants(nt->ns.name);
  if (!grants.ok()) return c.Internal(grants.status());
  for (const auto& g : *grants) {
    if (g.team_id != nt->team.id) continue;
    return c.Reply(200, {{"accessLevel", meta::AccessLevelName(g.level)},
                         {"team", TeamJson(c, nt->team)},
                         {"namespace", AccountJson(c, nt->ns)}});
  }
  c.Fail(err::kNoSuchNamespaceTeamAccess,
         "team " + nt->team.name + " has no access to namespace " + nt->ns.name);
}

void PutNamespaceTeamAccess(Call& c) {
  auto nt = LoadNamespaceTeam(c);
  if (!nt) return;
  auto level = ReadAccessLevel(c);
  if (!level) return;
  if (Status s = c.deps.identity->SetNamespaceGrant({nt->team.id, nt->ns.name, *level}); !s.ok()) {
    return c.Internal(s);
  }
  c.Reply(200, {{"accessLevel", meta::AccessLevelName(*level)},
                {"team", TeamJson(c, nt->team)},
                {"namespace", AccountJson(c, nt->ns)}});
}

void DeleteNamespaceTeamAccess(Call& c) {
  auto nt = LoadNamespaceTeam(c);
  if (!nt) return;
  if (Status s = c.deps.identity->RemoveNamespaceGrant(nt->ns.name, nt->team.id); !s.ok()) {
    return c.Internal(s);
  }
  c.NoContent();
}

// ---- effective access ----

void UserRepositoryAccess(Call& c) {
  const std::string& who = c.Param("username");
  bool self = who == c.user()->name || who == c.user()->id;
  if (!self && !c.is_admin()) {
    return c.Fail(err::kNotAuthorized, "you may ask only about your own access");
  }
  auto target = FindUser(c, who);
  if (!target) return;
  auto r = VisibleRepo(c);
  if (!r) return;
  auto level = c.deps.policy->EffectiveAccess(
      &*target, access::RepoName{r->repo.namespace_name, r->repo.name});
  if (!level.ok()) return c.Internal(level.status());
  c.Reply(200, {{"accessLevel", meta::AccessLevelName(*level)},
                {"user", AccountJson(c, *target)},
                {"repository", RepositoryJson(c, r->repo)}});
}

void TeamRepositoryAccess(Call& c) {
  auto org = FindOrg(c, c.Param("orgname"));
  if (!org) return;
  if (!IsOrgMember(c, *org)) {
    return c.Fail(err::kNotAuthorized,
                  "only members of organization " + org->name + " may see this");
  }
  auto team = FindTeam(c, *org, c.Param("teamname"));
  if (!team) return;
  auto page = c.PageParams();
  if (!page) return;
  auto grants = c.deps.identity->ListTeamGrants(team->id);
  if (!grants.ok()) return c.Internal(grants.status());
  json list = json::array();
  std::string next;
  int64_t total = 0;
  for (const auto& g : *grants) {
    access::RepoName name = access::SplitRepoName(g.target);
    auto rec = c.deps.identity->GetRepository(name.ns, name.name);
    if (!rec.ok()) return c.Internal(rec.status());
    if (!rec->has_value()) continue;
    // Grants on repositories the caller cannot read stay hidden.
    auto mine = c.RepoLevel(name.ns, name.name);
    if (!mine.ok()) return c.Internal(mine.status());
    if (*mine == AccessLevel::kNone) continue;
    ++total;
    if (g.target < page->start) continue;
    if (list.size() == page->size) {
      if (next.empty()) next = g.target;
      continue;
    }
    list.push_back({{"accessLevel", meta::AccessLevelName(g.level)},
                    {"repository", RepositoryJson(c, **rec)}});
  }
  if (!next.empty()) c.SetNextPage(next, page->size);
  if (page->count) c.res.headers.Set("X-Resource-Count", std::to_string(total));
  c.Reply(200, {{"team", TeamJson(c, *team)}, {"repositoryAccessList", list}});
}

}  // namespace

void AddAccessRoutes(RouteTable& t) {
  const std::string repo = "/api/v0/repositories/{namespace}/{reponame}/teamAccess";
  const std::string ns = "/api/v0/repositoryNamespaces/{namespace}/teamAccess";
  t.Add("GET", repo, Caller::kUser, ListRepoTeamAccess)
      .Tag("access")
      .Summary("Teams with access to a repository")
      .Permission("repository admins")
      .Returns(200, "responses.ListRepoTeamAccess")
      .Errors({err::kNoSuchRepository, err::kNotAuthorized});
  t.Add("PUT", repo + "/{teamname}", Caller::kUser, PutRepoTeamAccess)
      .Tag("access")
      .Summary("Grant a team access to a repository of its organization")
      .Permission("repository admins")
      .Body("forms.Access")
      .Returns(200, "responses.TeamAccess")
      .Errors(
          {err::kNoSuchRepository, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("DELETE", repo + "/{teamname}", Caller::kUser, DeleteRepoTeamAccess)
      .Tag("access")
      .Summary("Revoke a team's access to a repository (204 even if it had none)")
      .Permission("repository admins")
      .Returns(204)
      .Errors(
          {err::kNoSuchRepository, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("GET", ns, Caller::kUser, ListNamespaceTeamAccess)
      .Tag("access")
      .Summary("Teams with access to every repository of a namespace")
      .Permission("namespace admins")
      .Returns(200, "responses.ListNamespaceTeamAccess")
      .Errors({err::kNoSuchAccount, err::kNotAuthorized});
  t.Add("GET", ns + "/{teamname}", Caller::kUser, GetNamespaceTeamAccess)
      .Tag("access")
      .Summary("A team's access to a namespace")
      .Permission("namespace admins")
      .Returns(200, "responses.NamespaceTeamAccess")
      .Errors({err::kNoSuchAccount, err::kNoSuchTeam, err::kNoSuchNamespaceTeamAccess,
               err::kNotAuthorized, err::kInvalidParameters});
  t.Add("PUT", ns + "/{teamname}", Caller::kUser, PutNamespaceTeamAccess)
      .Tag("access")
      .Summary("Grant a team access to every repository of its organization")
      .Permission("namespace admins")
      .Body("forms.Access")
      .Returns(200, "responses.NamespaceTeamAccess")
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("DELETE", ns + "/{teamname}", Caller::kUser, DeleteNamespaceTeamAccess)
      .Tag("access")
      .Summary("Revoke a team's namespace-wide access (204 even if it had none)")
      .Permission("namespace admins")
      .Returns(204)
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
  t.Add("GET", "/api/v0/accounts/{username}/repositoryAccess/{namespace}/{reponame}", Caller::kUser,
        UserRepositoryAccess)
      .Tag("access")
      .Summary("A user's effective access to a repository (\"none\" when they have none)")
      .Permission("the user, system admins")
      .Returns(200, "responses.RepoUserAccess")
      .Errors({err::kNoSuchUser, err::kNoSuchRepository, err::kNotAuthorized});
  t.Add("GET", "/api/v0/accounts/{orgname}/teams/{teamname}/repositoryAccess", Caller::kUser,
        TeamRepositoryAccess)
      .Tag("access")
      .Summary("A team's repository grants (those on repositories the caller can read)")
      .Permission("organization members, system admins")
      .Query({{"pageStart", "string", "namespace/name of the first repository of the page"},
              {"pageSize", "integer", "grants per page, 1-1000 (default 10)"},
              {"count", "boolean", "set X-Resource-Count to the number of grants"}})
      .Returns(200, "responses.ListTeamRepoAccess")
      .Errors(
          {err::kNoSuchAccount, err::kNoSuchTeam, err::kNotAuthorized, err::kInvalidParameters});
}

}  // namespace dtr::api
