#include "api/resources.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/digest.h"

namespace dtr::api {

using meta::AccessLevel;

// ---- JSON views ----

json AccountJson(Call& c, const meta::Account& a) {
  json j = {{"id", a.id},          {"name", a.name},        {"fullName", a.full_name},
            {"isOrg", a.is_org},   {"isAdmin", a.is_admin}, {"isActive", a.is_active},
            {"isImported", false}, {"membersCount", 0},     {"teamsCount", 0}};
  if (a.is_org) {
    auto members = c.deps.identity->ListOrgMembers(a.id);
    auto teams = c.deps.identity->ListTeams(a.id);
    if (members.ok()) j["membersCount"] = members->size();
    if (teams.ok()) j["teamsCount"] = teams->size();
  } else {
    auto teams = c.deps.identity->ListUserTeams(a.id);
    if (teams.ok()) j["teamsCount"] = teams->size();
  }
  return j;
}

json TeamJson(Call& c, const meta::Team& t) {
  json j = {{"id", t.id},        {"orgID", t.org_id},
            {"name", t.name},    {"description", t.description},
            {"membersCount", 0}, {"clientUserIsMember", false}};
  auto members = c.deps.identity->ListTeamMembers(t.id);
  if (members.ok()) {
    j["membersCount"] = members->size();
    if (const meta::Account* u = c.user()) {
      j["clientUserIsMember"] = std::any_of(members->begin(), members->end(),
                                            [&](const auto& m) { return m.user_id == u->id; });
    }
  }
  return j;
}

json MemberJson(Call& c, const meta::Account& member, const meta::Membership& m) {
  return json{
      {"member", AccountJson(c, member)}, {"isAdmin", m.is_admin}, {"isPublic", m.is_public}};
}

json RepositoryJson(Call& c, const meta::Repository& r) {
  return json{{"id", r.id},
              {"namespace", r.namespace_name},
              {"namespaceType", c.NamespaceType(r.namespace_name)},
              {"name", r.name},
              {"shortDescription", r.short_description},
              {"longDescription", r.long_description},
              {"visibility", r.visibility},
              {"scanOnPush", r.scan_on_push},
              {"immutableTags", r.immutable_tags},
              {"enableManifestLists", r.enable_manifest_lists},
              {"pulls", r.pulls},
              {"pushes", r.pushes},
              {"tagLimit", r.tag_limit}};
}

json EventJson(const meta::Event& e) {
  json content = json::parse(e.object_content, nullptr, false);
  if (content.is_discarded()) content = e.object_content;
  return json{{"id", std::to_string(e.id)},
              {"publishedAt", Rfc3339Millis(e.published_at)},
              {"actor", e.actor},
              {"actorType", e.actor_type},
              {"type", e.type},
              {"object",
               {{"id", e.object_name},
                {"type", e.object_type},
                {"name", e.object_name},
                {"content", content}}},
              {"target", e.target},
              {"repository", e.repository}};
}

json TokenJson(const meta::ApiToken& t) {
  return json{{"hashedToken", t.hashed_token},
              {"tokenLabel", t.label},
              {"isActive", t.is_active},
              {"lastUsed", t.last_used ? json(Rfc3339(t.last_used)) : json(nullptr)},
              {"createdAt", Rfc3339(t.created_at)},
              {"generatedBy", t.generated_by},
              {"creatorUa", t.creator_ua}};
}

// ---- lookups ----

std::optional<meta::Account> FindAccount(Call& c, const std::string& name_or_id) {
  auto a = c.deps.identity->GetAccount(name_or_id);
  if (!a.ok()) {
    c.Internal(a.status());
    return std::nullopt;
  }
  if (!a->has_value()) {
    c.Fail(err::kNoSuchAccount, "no account named " + name_or_id);
    return std::nullopt;
  }
  return **a;
}

std::optional<meta::Account> FindUser(Call& c, const std::string& name_or_id) {
  auto a = c.deps.identity->GetAccount(name_or_id);
  if (!a.ok()) {
    c.Internal(a.status());
    return std::nullopt;
  }
  if (!a->has_value() || (*a)->is_org) {
    c.Fail(err::kNoSuchUser, "no user named " + name_or_id);
    return std::nullopt;
  }
  return **a;
}

std::optional<meta::Account> FindOrg(Call& c, const std::string& name_or_id) {
  auto a = FindAccount(c, name_or_id);
  if (a && !a->is_org) {
    c.Fail(err::kNoSuchAccount, name_or_id + " is a user, not an organization");
    return std::nullopt;
  }
  return a;
}

std::optional<meta::Team> FindTeam(Call& c, const meta::Account& org, const std::string& team) {
  auto t = c.deps.identity->GetTeam(org.id, team);
  if (!t.ok()) {
    c.Internal(t.status());
    return std::nullopt;
  }
  if (!t->has_value()) {
    c.Fail(err::kNoSuchTeam, "organization " + org.name + " has no team named " + team);
    return std::nullopt;
  }
  return **t;
}

bool IsOrgAdmin(Call& c, const meta::Account& org) {
  if (c.is_admin()) return true;
  const meta::Account* u = c.user();
  if (u == nullptr || !u->is_active) return false;
  auto m = c.deps.identity->GetOrgMember(org.id, u->id);
  return m.ok() && m->has_value() && (*m)->is_admin;
}

bool IsOrgMember(Call& c, const meta::Account& org) {
  if (c.is_admin()) return true;
  const meta::Account* u = c.user();
  if (u == nullptr || !u->is_active) return false;
  auto m = c.deps.identity->GetOrgMember(org.id, u->id);
  return m.ok() && m->has_value();
}

std::optional<RepoView> VisibleRepo(Call& c) {
  const std::string& ns = c.Param("namespace");
  const std::string& name = c.Param("reponame");
  auto rec = c.deps.identity->GetRepository(ns, name);
  if (!rec.ok()) {
    c.Internal(rec.status());
    return std::nullopt;
  }
  AccessLevel level = AccessLevel::kNone;
  if (rec->has_value()) {
    auto l = c.RepoLevel(ns, name);
    if (!l.ok()) {
      c.Internal(l.status());
      return std::nullopt;
    }
    level = *l;
  }
  if (level == AccessLevel::kNone) {
    c.Fail(err::kNoSuchRepository, "no repository " + ns + "/" + name);
    return std::nullopt;
  }
  return RepoView{**rec, level};
}

bool RequireLevel(Call& c, const RepoView& r, AccessLevel needed, const std::string& action) {
  if (r.level >= needed) return true;
  c.Deny("you need " + std::string(meta::AccessLevelName(needed)) + " access to " + r.full() +
         " to " + action + "; you have " + meta::AccessLevelName(r.level));
  return false;
}

bool RequireWritable(Call& c) {
  if (c.deps.settings == nullptr || !c.deps.settings->Get()->read_only_registry) return true;
  c.Fail(err::kNotAllowed, "the registry is in read-only mode (setting readOnlyRegistry)");
  return false;
}

// ---- repository content ----

Result<std::vector<meta::ManifestRecord>> ListRepoManifests(Call& c, const std::string& repo) {
  // The MetaStore has no "manifests of a repository" listing; the manifests without a
  // subject are the referrers of "", and the rest hang below them or below tags.
  std::map<std::string, meta::ManifestRecord> found;
  std::vector<std::string> subjects = {""};
  while (!subjects.empty()) {
    std::string subject = subjects.back();
    subjects.pop_back();
    auto refs = c.deps.meta->Referrers(repo, subject);
    if (!refs.ok()) return refs.status();
    for (auto& m : *refs) {
      if (found.count(m.digest)) continue;
      subjects.push_back(m.digest);
      found.emplace(m.digest, std::move(m));
    }
  }
  auto tags = c.deps.meta->ListTags(repo, "", 0);
  if (!tags.ok()) return tags.status();
  for (const auto& tag : *tags) {
    auto t = c.deps.meta->GetTag(repo, tag);
    if (!t.ok()) return t.status();
    if (!t->has_value() || found.count((*t)->digest)) continue;
    auto stored = c.deps.registry->GetManifest(repo, (*t)->digest);
    if (!stored.ok()) continue;  // a dangling tag names nothing to list
    meta::ManifestRecord m;
    m.repo = repo;
    m.digest = (*t)->digest;
    m.media_type = stored->media_type;
    m.size = static_cast<int64_t>(stored->content->size());
    m.created_at = (*t)->updated_at;
    found.emplace(m.digest, std::move(m));
  }
  std::vector<meta::ManifestRecord> out;
  out.reserve(found.size());
  for (auto& [digest, m] : found) out.push_back(std::move(m));
  return out;
}

Status DeleteRepositoryEverywhere(Call& c, const std::string& ns, const std::string& name) {
  std::string repo = ns + "/" + name;
  auto manifests = ListRepoManifests(c, repo);
  if (!manifests.ok()) return manifests.status();
  // Referrers first, then what they refer to: nothing is left pointing at a deleted manifest.
  std::stable_sort(manifests->begin(), manifests->end(), [](const auto& a, const auto& b) {
    return !a.subject.empty() && b.subject.empty();
  });
  for (const auto& m : *manifests) {
    Status s = c.deps.registry->DeleteManifest(repo, m.digest);
    if (!s.ok() && !s.is(Code::kNotFound)) return s;
  }
  if (Status s = c.deps.meta->DeleteRepository(repo); !s.ok()) return s;
  return c.deps.identity->DeleteRepositoryRecord(ns, name);
}

}  // namespace dtr::api
