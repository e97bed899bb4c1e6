// Settings, features (inventory §2.7) and the event stream (§2.16). Events are shown only
// for repositories the caller can read, and pull events only to their admins.
#include <limits>
#include <optional>

#include "api/resources.h"
#include "api/routes.h"

namespace dtr::api {

namespace {

using meta::AccessLevel;

constexpr size_t kEventBatch = 200;

json SettingsJson(const app::DtrSettings& s) {
  json j;
  s.ToJson(&j);
  return j;
}

// The storage settings as JSON, or null when the storage is not exposed.
std::optional<json> StorageJson(Call& c) {
  if (!c.deps.get_storage) return json(nullptr);
  auto text = c.deps.get_storage();
  if (!text.ok()) {
    c.Internal(text.status());
    return std::nullopt;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    c.Internal(Status(Code::kInternal, "storage settings are not JSON"));
    return std::nullopt;
  }
  return j;
}

void GetSettings(Call& c) {
  if (c.deps.settings == nullptr) return c.Internal(Status(Code::kInternal, "no settings store"));
  json out = SettingsJson(*c.deps.settings->Get());
  auto storage = StorageJson(c);
  if (!storage) return;
  if (storage->is_object() && (*storage)["storage"].is_object()) {
    const json& st = (*storage)["storage"];
    for (auto it = st.begin(); it != st.end(); ++it) {
      if (it.key() == "delete" || it.key() == "maintenance") continue;
      out["storageBackend"] = it.key();
      // DTR's readback fields for NFS and local volumes.
      out["storageVolume"] = it.key() == "filesystem" ? it.value().value("rootdirectory", "") : "";
      out["nfsHost"] = "";
      out["nfsPath"] = "";
      if (it.key() == "nfs") {
        std::string url = it.value().value("url", "");
        if (url.rfind("nfs://", 0) == 0) {
          std::string rest = url.substr(6);
          size_t slash = rest.find('/');
          out["nfsHost"] = rest.substr(0, slash);
          out["nfsPath"] = slash == std::string::npos ? "/" : rest.substr(slash);
        }
      }
    }
    out["storage"] = st;
  }
  c.Reply(200, out);
}

void GetStorage(Call& c) {
  auto storage = StorageJson(c);
  if (!storage) return;
  if (storage->is_null()) return c.Fail(err::kNotFound, "storage settings are not available here");
  c.Reply(200, *storage);
}

void PutStorage(Call& c) {
  if (!c.deps.put_storage) {
    return c.Fail(err::kNotFound, "storage settings cannot be changed here");
  }
  auto body = c.BodyObject();
  if (!body) return;
  if (!body->contains("storage") || !(*body)["storage"].is_object()) {
    return c.Fail(err::kInvalidSettings,
                  "the body must be {\"storage\": {\"<driver>\": {...}}}, the storage section of "
                  "distribution's config.yml as JSON");
  }
  Status s = c.deps.put_storage(body->dump());
  if (!s.ok()) {
    if (s.is(Code::kInvalidArgument) || s.is(Code::kUnsupported) || s.is(Code::kUnavailable) ||
        s.is(Code::kPermissionDenied) || s.is(Code::kUnauthenticated) || s.is(Code::kNotFound)) {
      return c.Fail(err::kInvalidSettings, s.message());
    }
    return c.Internal(s);
  }
  auto storage = StorageJson(c);
  if (!storage) return;
  RecordEvent(c, MakeEvent("UPDATE", "STORAGE_SETTINGS", "registry", storage->dump(), ""));
  c.Reply(202, *storage);
}

void UpdateSettings(Call& c) {
  if (c.deps.settings == nullptr) return c.Internal(Status(Code::kInternal, "no settings store"));
  auto body = c.BodyObject();
  if (!body) return;
  auto updated = c.deps.settings->Update(*body);
  if (!updated.ok()) {
    if (updated.status().is(Code::kInvalidArgument)) {
      return c.Fail(err::kInvalidSettings, updated.status().message());
    }
    return c.Internal(updated.status());
  }
  c.Reply(202, SettingsJson(**updated));
}

void GetFeatures(Call& c) {
  c.Reply(200, {{"scanningEnabled", false},
                {"scanningLicensed", false},
                {"promotionLicensed", false},
                {"mirroringLicensed", false},
                {"metadataStoreOptedIn", true},
                {"onlineGCEnabled", true},
                {"db_version", ""},
                {"ucpHost", ""}});
}

// Whether the caller may see `e`; `repo_level` is their level on the event's repository.
bool EventVisible(const meta::Event& e, AccessLevel repo_level) {
  if (repo_level == AccessLevel::kNone) return false;
  return e.type != "GET" || repo_level == AccessLevel::kAdmin;
}

// The events matching the query parameters. `repo` scopes them to one repository (the
// caller can read it: VisibleRepo said so).
void ListEvents(Call& c, const std::optional<RepoView>& repo) {
  auto page_start = c.QueryInt("pageStart", 0, 0, std::numeric_limits<int64_t>::max() - 1);
  if (!page_start) return;
  auto page_size = c.QueryInt("pageSize", 10, 1, 1000);
  if (!page_size) return;
  auto count = c.QueryBool("count", false);
  if (!count) return;
  auto before = c.QueryTime("publishedBefore");
  if (!before) return;
  auto after = c.QueryTime("publishedAfter");
  if (!after) return;
  meta::EventQuery q;
  q.type = c.QueryStr("eventType");
  q.object_type = c.QueryStr("objectType");
  q.published_before = *before;
  q.published_after = *after;
  q.actor = c.QueryStr("actorId");
  if (!q.actor.empty()) {
    auto actor = c.deps.identity->GetAccount(q.actor);
    if (!actor.ok()) return c.Internal(actor.status());
    if (actor->has_value()) q.actor = (*actor)->name;
  }
  // Without per-event checks (system admins, one repository) the store filters and counts.
  bool store_filters = c.is_admin() || repo.has_value();
  if (repo) {
    q.repository = repo->full();
    auto exclude = c.QueryBool("excludePull", false);
    if (!exclude) return;
    q.exclude_pull = *exclude || repo->level != AccessLevel::kAdmin;
  }
  json events = json::array();
  std::string next;
  int64_t total = 0;
  q.page_start = *page_start ? *page_start + 1 : 0;
  q.page_size = kEventBatch;
  while (true) {
    auto batch = c.deps.identity->ListEvents(q);
    if (!batch.ok()) return c.Internal(batch.status());
    for (const auto& e : *batch) {
      q.page_start = e.id;
      if (!store_filters) {
        if (e.repository.empty()) continue;
        access::RepoName name = access::SplitRepoName(e.repository);
        auto level = c.RepoLevel(name.ns, name.name);
        if (!level.ok()) return c.Internal(level.status());
        if (!EventVisible(e, *level)) continue;
      }
      ++total;
      if (events.size() < static_cast<size_t>(*page_size)) {
        events.push_back(EventJson(e));
      } else if (next.empty()) {
        next = std::to_string(e.id);
      }
    }
    bool counting_by_scan = *count && !store_filters;
    if (batch->size() < kEventBatch || (!next.empty() && !counting_by_scan)) break;
  }
  if (!next.empty()) c.SetNextPage(next, static_cast<size_t>(*page_size));
  if (*count) {
    if (store_filters) {
      meta::EventQuery all = q;
      all.page_start = 0;
      auto n = c.deps.identity->CountEvents(all);
      if (!n.ok()) return c.Internal(n.status());
      total = *n;
    }
    c.res.headers.Set("X-Resource-Count", std::to_string(total));
  }
  c.Reply(200, {{"events", events}});
}

void ListAllEvents(Call& c) { ListEvents(c, std::nullopt); }

void ListRepoEvents(Call& c) {
  auto r = VisibleRepo(c);
  if (r) ListEvents(c, r);
}

}  // namespace

void AddMetaRoutes(RouteTable& t) {
  std::vector<QueryParam> event_query = {
      {"pageStart", "integer", "id of the first event of the page (events go newest first)"},
      {"pageSize", "integer", "events per page, 1-1000 (default 10)"},
      {"count", "boolean", "set X-Resource-Count to the number of matching events"},
      {"publishedBefore", "string", "RFC 3339 time; only events before it"},
      {"publishedAfter", "string", "RFC 3339 time; only events after it"},
      {"actorId", "string", "only events by this account (name or id)"},
      {"eventType", "string", "only events of this type (CREATE, GET, UPDATE, DELETE, ...)"},
      {"objectType", "string", "only events on this kind of object (REPOSITORY, TAG, ...)"}};
  t.Add("GET", "/api/v0/meta/settings", Caller::kAdmin, GetSettings)
      .Tag("meta")
      .Summary("DTR's settings")
      .Permission("system admins")
      .Returns(200, "responses.Settings");
  t.Add("POST", "/api/v0/meta/settings", Caller::kAdmin, UpdateSettings)
      .Tag("meta")
      .Summary("Change some of DTR's settings (fields absent from the body keep their value)")
      .Permission("system admins")
      .Body("forms.Settings")
      .Returns(202, "responses.Settings")
      .Errors({err::kInvalidSettings});
  t.Add("GET", "/api/v0/admin/settings/registry/simple", Caller::kAdmin, GetStorage)
      .Tag("meta")
      .Summary("The registry's storage settings, secrets left out")
      .Permission("system admins")
      .Returns(200, "forms.StorageSettings");
  t.Add("PUT", "/api/v0/admin/settings/registry/simple", Caller::kAdmin, PutStorage)
      .Tag("meta")
      .Summary(
          "Replace the storage backend: {\"storage\": {\"<driver>\": {...}}} as in "
          "distribution's config.yml; checked by writing and reading a probe before it "
          "takes effect (without a restart); secrets sent back as \"<redacted>\" keep their value")
      .Permission("system admins")
      .Body("forms.StorageSettings")
      .Returns(202, "forms.StorageSettings")
      .Errors({err::kInvalidSettings, err::kInvalidJson});
  t.Add("GET", "/api/v0/meta/features", Caller::kUser, GetFeatures)
      .Tag("meta")
      .Summary("Which optional features are enabled and licensed")
      .Permission("any authenticated user")
      .Returns(200, "responses.Features");
  t.Add("GET", "/api/v0/events", Caller::kUser, ListAllEvents)
      .Tag("events")
      .Summary(
          "Events, newest first, on repositories the caller can read (pulls only for "
          "repository admins)")
      .Permission("any authenticated user; filtered by access")
      .Query(event_query)
      .Returns(200, "responses.Events")
      .Errors({err::kInvalidParameters});
  event_query.push_back({"excludePull", "boolean", "leave out pull (GET) events"});
  t.Add("GET", "/api/v0/repositories/{namespace}/{reponame}/events", Caller::kAnyone,
        ListRepoEvents)
      .Tag("events")
      .Summary("A repository's events, newest first (pulls only for its admins)")
      .Permission("whoever can read the repository")
      .Query(event_query)
      .Returns(200, "responses.Events")
      .Errors({err::kNoSuchRepository, err::kInvalidParameters});
}

}  // namespace dtr::api
