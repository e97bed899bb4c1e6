// Repositories (inventory §2.4): listing filtered by what the caller can see, creation by
// namespace admins, details, settings and deletion by repository admins.
#include "api/resources.h"
#include "api/routes.h"

namespace dtr::api {

namespace {

using meta::AccessLevel;

constexpr size_t kBatch = 200;
constexpr int64_t kMaxTagLimit = 1000000;

bool ValidVisibility(Call& c, const std::string& v) {
  if (v == "public" || v == "private") return true;
  c.Fail(err::kInvalidVisibility, "visibility must be public or private, not '" + v + "'");
  return false;
}

// {repositories:[...]} of the repositories in `ns` (all when empty) the caller can read,
// paged by full name.
void ListVisible(Call& c, const std::string& ns, bool missing_namespace) {
  auto page = c.PageParams();
  if (!page) return;
  json repos = json::array();
  std::string next;
  int64_t total = 0;
  std::string bound = page->count ? "" : BoundBefore(page->start);
  while (true) {
    auto batch = c.deps.identity->ListRepositoryRecords(ns, bound, kBatch);
    if (!batch.ok()) return c.Internal(batch.status());
    for (const auto& r : *batch) {
      bound = r.full_name();
      auto level = c.RepoLevel(r.namespace_name, r.name);
      if (!level.ok()) return c.Internal(level.status());
      if (*level == AccessLevel::kNone) continue;
      ++total;
      if (r.full_name() < page->start) continue;
      if (repos.size() < page->size) {
        repos.push_back(RepositoryJson(c, r));
      } else if (next.empty()) {
        next = r.full_name();
      }
    }
    if (batch->size() < kBatch || (!page->count && !next.empty())) break;
  }
  // A namespace with no account and nothing the caller can see does not exist, as far as
  // they can tell.
  if (missing_namespace && total == 0) {
    return c.Fail(err::kNoSuchAccount, "no account named " + ns);
  }
  if (!next.empty()) c.SetNextPage(next, page->size);
  if (page->count) c.res.headers.Set("X-Resource-Count", std::to_string(total));
  c.Reply(200, {{"repositories", repos}});
}

void ListAll(Call& c) { ListVisible(c, "", false); }

void ListNamespace(Call& c) {
  const std::string& ns = c.Param("namespace");
  auto owner = c.deps.identity->GetAccount(ns);
  if (!owner.ok()) return c.Internal(owner.status());
  ListVisible(c, ns, !owner->has_value());
}

void CreateRepository(Call& c) {
  const std::string& ns = c.Param("namespace");
  auto owner = FindAccount(c, ns);
  if (!owner) return;
  auto level = c.deps.policy->NamespaceAccess(c.user(), owner->name);
  if (!level.ok()) return c.Internal(level.status());
  if (*level != AccessLevel::kAdmin) {
    return c.Fail(err::kNotAuthorized,
                  "creating a repository in " + owner->name + " needs admin access to it");
  }
  auto body = c.BodyObject();
  if (!body) return;
  meta::Repository r;
  r.namespace_name = owner->name;
  Form f(*body);
  f.Str("name", &r.name, true, 255)
      .Str("shortDescription", &r.short_description, false, 140)
      .Str("longDescription", &r.long_description, false, 100000)
      .Str("visibility", &r.visibility, false, 32)
      .Bool("scanOnPush", &r.scan_on_push)
      .Bool("immutableTags", &r.immutable_tags)
      .Bool("enableManifestLists", &r.enable_manifest_lists)
      .Int("tagLimit", &r.tag_limit, false, 0, kMaxTagLimit);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (Status s = ValidateRepoComponent(r.namespace_name, r.name); !s.ok()) {
    return c.Fail(err::kInvalidParameters, s.message());
  }
  if (!ValidVisibility(c, r.visibility)) return;
  Status s = c.deps.identity->CreateRepository(&r);
  if (s.is(Code::kAlreadyExists)) {
    return c.Fail(err::kRepositoryExists, "repository " + r.full_name() + " already exists");
  }
  if (!s.ok()) return c.Internal(s);
  // The registry index lists it from now on (an empty tag list rather than NAME_UNKNOWN).
  if (Status e = c.deps.meta->EnsureRepository(r.full_name()); !e.ok()) return c.Internal(e);
  json out = RepositoryJson(c, r);
  RecordEvent(c, MakeEvent("CREATE", "REPOSITORY", r.full_name(), out.dump(), r.full_name()));
  c.Reply(201, out);
}

void GetRepository(Call& c) {
  auto r = VisibleRepo(c);
  if (r) c.Reply(200, RepositoryJson(c, r->repo));
}

void UpdateRepository(Call& c) {
  auto r = VisibleRepo(c);
  if (!r || !RequireLevel(c, *r, AccessLevel::kAdmin, "change its settings")) return;
  auto body = c.BodyObject();
  if (!body) return;
  meta::Repository next = r->repo;
  std::string name = next.name;
  Form f(*body);
  f.Str("name", &name, false, 255)
      .Str("shortDescription", &next.short_description, false, 140)
      .Str("longDescription", &next.long_description, false, 100000)
      .Str("visibility", &next.visibility, false, 32)
      .Bool("scanOnPush", &next.scan_on_push)
      .Bool("immutableTags", &next.immutable_tags)
      .Bool("enableManifestLists", &next.enable_manifest_lists)
      .Int("tagLimit", &next.tag_limit, false, 0, kMaxTagLimit);
  if (!f.ok()) return c.Fail(err::kInvalidParameters, f.error());
  if (name != next.name) {
    return c.Fail(err::kInvalidParameters, "repositories cannot be renamed");
  }
  if (!ValidVisibility(c, next.visibility)) return;
  if (Status s = c.deps.identity->UpdateRepository(next); !s.ok()) return c.Internal(s);
  json out = RepositoryJson(c, next);
  RecordEvent(c,
              MakeEvent("UPDATE", "REPOSITORY", next.full_name(), body->dump(), next.full_name()));
  c.Reply(200, out);
}

void DeleteRepository(Call& c) {
  const std::string& ns = c.Param("namespace");
  const std::string& name = c.Param("reponame");
  auto rec = c.deps.identity->GetRepository(ns, name);
  if (!rec.ok()) return c.Internal(rec.status());
  if (!rec->has_value()) return c.NoContent();
  auto level = c.RepoLevel(ns, name);
  if (!level.ok()) return c.Internal(level.status());
  // One the caller cannot see is, to them, one that does not exist.
  if (*level == AccessLevel::kNone) return c.NoContent();
  RepoView view{**rec, *level};
  if (!RequireLevel(c, view, AccessLevel::kAdmin, "delete it") || !RequireWritable(c)) return;
  if (c.deps.has_trust_data) {
    auto trusted = c.deps.has_trust_data(view.full());
    if (!trusted.ok()) return c.Internal(trusted.status());
    if (*trusted) {
      return c.Fail(err::kRepositoryContainsTagsInNotary,
                    "repository " + view.full() +
                        " has content trust data in Notary; delete it first (notary delete "
                        "<gun> --remote) and then the repository");
    }
  }
  json content = RepositoryJson(c, view.repo);
  if (Status s = DeleteRepositoryEverywhere(c, ns, name); !s.ok()) return c.Internal(s);
  RecordEvent(c, MakeEvent("DELETE", "REPOSITORY", view.full(), content.dump(), view.full()));
  c.NoContent();
}

}  // namespace

void AddRepositoryRoutes(RouteTable& t) {
  const std::vector<QueryParam> kPage = {
      {"pageStart", "string", "namespace/name of the first repository of the page"},
      {"pageSize", "integer", "repositories per page, 1-1000 (default 10)"},
      {"count", "boolean", "set X-Resource-Count to the number of repositories"}};
  const std::string repo = "/api/v0/repositories/{namespace}/{reponame}";
  t.Add("GET", "/api/v0/repositories", Caller::kAnyone, ListAll)
      .Tag("repositories")
      .Summary("List the repositories the caller can see")
      .Permission("anyone; filtered by what the caller can read")
      .Query(kPage)
      .Returns(200, "responses.Repositories")
      .Errors({err::kInvalidParameters});
  t.Add("GET", "/api/v0/repositories/{namespace}", Caller::kAnyone, ListNamespace)
      .Tag("repositories")
      .Summary("List the repositories of a namespace the caller can see")
      .Permission("anyone; filtered by what the caller can read")
      .Query(kPage)
      .Returns(200, "responses.Repositories")
      .Errors({err::kNoSuchAccount, err::kInvalidParameters});
  t.Add("POST", "/api/v0/repositories/{namespace}", Caller::kUser, CreateRepository)
      .Tag("repositories")
      .Summary("Create a repository")
      .Permission(
          "admins of the namespace: its user, organization admins, teams with admin "
          "on the namespace, system admins")
      .Body("forms.CreateRepo")
      .Returns(201, "responses.Repository")
      .Errors({err::kNoSuchAccount, err::kNotAuthorized, err::kInvalidParameters,
               err::kInvalidVisibility, err::kRepositoryExists});
  t.Add("GET", repo, Caller::kAnyone, GetRepository)
      .Tag("repositories")
      .Summary("Get a repository")
      .Permission("whoever can read it")
      .Returns(200, "responses.Repository")
      .Errors({err::kNoSuchRepository});
  t.Add("PATCH", repo, Caller::kUser, UpdateRepository)
      .Tag("repositories")
      .Summary("Change a repository's descriptions, visibility, immutability or tag limit")
      .Permission("repository admins")
      .Body("forms.UpdateRepo")
      .Returns(200, "responses.Repository")
      .Errors({err::kNoSuchRepository, err::kNotAuthorized, err::kInvalidParameters,
               err::kInvalidVisibility});
  t.Add("DELETE", repo, Caller::kUser, DeleteRepository)
      .Tag("repositories")
      .Summary("Delete a repository with its tags and manifests (204 even if absent)")
      .Permission("repository admins")
      .Returns(204)
      .Errors({err::kNotAuthorized, err::kNotAllowed, err::kRepositoryContainsTagsInNotary});
}

}  // namespace dtr::api
