// Tags and manifests of a repository (inventory §2.5). Reading needs read access; deleting
// a tag needs read-write.
#include <map>
#include <optional>

#include "api/resources.h"
#include "api/routes.h"
#include "core/manifest.h"
#include "core/names.h"

namespace dtr::api {

namespace {

using meta::AccessLevel;

constexpr size_t kMaxConfig = 1 << 20;
constexpr size_t kBatch = 500;

// The image config blob as JSON; null when absent, too large or unreadable.
json ReadConfig(Call& c, const Digest& digest) {
  auto reader = c.deps.registry->OpenBlob(digest, 0);
  if (!reader.ok()) return nullptr;
  std::string data;
  char buf[16384];
  while (data.size() <= kMaxConfig) {
    auto n = (*reader)->Read(buf, sizeof buf);
    if (!n.ok()) return nullptr;
    if (*n == 0) break;
    data.append(buf, *n);
  }
  if (data.size() > kMaxConfig) return nullptr;
  json j = json::parse(data, nullptr, false);
  return j.is_object() ? j : json(nullptr);
}

std::string StringField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The "Dockerfile" view: config history lines matched with the layers they produced.
json Dockerfile(const json& config, const Manifest& m) {
  json lines = json::array();
  if (!config.is_object() || !config.contains("history") || !config["history"].is_array()) {
    return lines;
  }
  size_t layer = 0;
  for (const auto& h : config["history"]) {
    if (!h.is_object()) continue;
    bool empty =
        h.contains("empty_layer") && h["empty_layer"].is_boolean() && h["empty_layer"].get<bool>();
    json line = {
        {"line", StringField(h, "created_by")}, {"isEmpty", empty}, {"urls", json::array()}};
    if (!empty && layer < m.layers.size()) {
      const Descriptor& d = m.layers[layer++];
      line["layerDigest"] = d.digest.str();
      line["size"] = d.size;
      line["mediaType"] = d.media_type;
    } else {
      line["layerDigest"] = "";
      line["size"] = 0;
      line["mediaType"] = "";
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

struct ManifestInfo {
  json view;                         // the Manifest schema
  std::vector<Descriptor> children;  // for indexes
};

ManifestInfo DescribeManifest(Call& c, const std::string& repo, const std::string& digest,
                              int64_t created_at) {
  ManifestInfo info;
  info.view = {{"digest", digest},
               {"mediaType", ""},
               {"configMediaType", ""},
               {"configDigest", ""},
               {"os", ""},
               {"osVersion", ""},
               {"architecture", ""},
               {"author", ""},
               {"createdAt", Rfc3339(created_at)},
               {"size", 0},
               {"dockerfile", json::array()}};
  auto stored = c.deps.registry->GetManifest(repo, digest);
  if (!stored.ok()) return info;
  info.view["mediaType"] = stored->media_type;
  info.view["size"] = stored->content->size();
  auto parsed = ParseManifest(stored->media_type, *stored->content);
  if (!parsed.ok()) return info;
  if (parsed->kind == ManifestKind::kIndex) {
    info.children = parsed->manifests;
    return info;
  }
  if (!parsed->config) return info;
  info.view["configMediaType"] = parsed->config->media_type;
  info.view["configDigest"] = parsed->config->digest.str();
  json config = ReadConfig(c, parsed->config->digest);
  info.view["os"] = StringField(config, "os");
  info.view["osVersion"] = StringField(config, "os.version");
  info.view["architecture"] = StringField(config, "architecture");
  info.view["author"] = StringField(config, "author");
  if (auto t = ParseRfc3339Millis(StringField(config, "created"))) {
    info.view["createdAt"] = Rfc3339(*t / 1000);
  }
  info.view["dockerfile"] = Dockerfile(config, *parsed);
  return info;
}

// Creation times of the repository's manifests, from the index.
std::map<std::string, int64_t> ManifestTimes(Call& c, const std::string& repo) {
  std::map<std::string, int64_t> out;
  auto records = c.deps.meta->Referrers(repo, "");
  if (records.ok()) {
    for (const auto& m : *records) out[m.digest] = m.created_at;
  }
  return out;
}

// Tag name -> the sha256 hex Notary's signers vouched for.
using SignedMap = std::map<std::string, std::string>;

// The repository's tags signed in Notary (for ?domain= when given); nullopt after replying
// with an error.
std::optional<SignedMap> SignedTags(Call& c, const std::string& repo) {
  if (!c.deps.signed_tags) return SignedMap{};
  auto signed_tags = c.deps.signed_tags(repo, c.QueryStr("domain"));
  if (!signed_tags.ok()) {
    c.Internal(signed_tags.status());
    return std::nullopt;
  }
  return std::move(*signed_tags);
}

json TagJson(const meta::TagRecord& t, const ManifestInfo& m, int64_t created_at,
             bool include_manifest, const SignedMap& signed_tags) {
  auto it = signed_tags.find(t.tag);
  bool in_notary = it != signed_tags.end();
  std::string_view hex = t.digest;
  if (hex.rfind("sha256:", 0) == 0) hex.remove_prefix(7);
  json j = {{"name", t.tag},
            {"digest", t.digest},
            {"author", m.view["author"]},
            {"createdAt", Rfc3339(created_at)},
            {"updatedAt", Rfc3339(t.updated_at)},
            {"hashMismatch", in_notary && it->second != hex},
            {"inNotary", in_notary}};
  if (include_manifest) j["manifest"] = m.view;
  return j;
}

void ListTags(Call& c) {
  auto r = VisibleRepo(c);
  if (!r) return;
  auto include = c.QueryBool("includeManifests", false);
  if (!include) return;
  auto page = c.PageParams();
  if (!page) return;
  std::string repo = r->full();
  auto signed_tags = SignedTags(c, repo);
  if (!signed_tags) return;
  auto times = ManifestTimes(c, repo);
  json out = json::array();
  std::string next;
  int64_t total = 0;
  std::string bound = page->count ? "" : BoundBefore(page->start);
  while (true) {
    auto names = c.deps.meta->ListTags(repo, bound, kBatch);
    if (!names.ok()) return c.Internal(names.status());
    for (const auto& name : *names) {
      bound = name;
      ++total;
      if (name < page->start) continue;
      if (out.size() == page->size) {
        if (next.empty()) next = name;
        continue;
      }
      auto t = c.deps.meta->GetTag(repo, name);
      if (!t.ok()) return c.Internal(t.status());
      if (!t->has_value()) continue;
      auto created = times.count((*t)->digest) ? times[(*t)->digest] : (*t)->updated_at;
      ManifestInfo m = DescribeManifest(c, repo, (*t)->digest, created);
      out.push_back(TagJson(**t, m, created, *include, *signed_tags));
    }
    if (names->size() < kBatch || (!page->count && !next.empty())) break;
  }
  if (!next.empty()) c.SetNextPage(next, page->size);
  if (page->count) c.res.headers.Set("X-Resource-Count", std::to_string(total));
  c.Reply(200, out);
}

// One Tag per platform for an index (filtered by os/arch), else the tag itself.
void AppendTag(Call& c, const std::string& repo, const meta::TagRecord& t, int64_t created,
               const SignedMap& signed_tags, json* out) {
  ManifestInfo m = DescribeManifest(c, repo, t.digest, created);
  if (m.children.empty()) {
    out->push_back(TagJson(t, m, created, true, signed_tags));
    return;
  }
  std::string os = c.QueryStr("os"), arch = c.QueryStr("arch");
  for (const auto& child : m.children) {
    ManifestInfo cm = DescribeManifest(c, repo, child.digest.str(), created);
    if (!os.empty() && cm.view["os"] != os) continue;
    if (!arch.empty() && cm.view["architecture"] != arch) continue;
    out->push_back(TagJson(t, cm, created, true, signed_tags));
  }
}

void GetTag(Call& c) {
  auto r = VisibleRepo(c);
  if (!r) return;
  std::string repo = r->full();
  const std::string& ref = c.Param("reference");
  auto signed_tags = SignedTags(c, repo);
  if (!signed_tags) return;
  auto times = ManifestTimes(c, repo);
  json out = json::array();
  if (LooksLikeDigest(ref)) {
    auto d = Digest::Parse(ref);
    if (!d.ok()) return c.Fail(err::kInvalidDigest, "invalid digest: " + d.status().message());
    auto names = c.deps.meta->ListTags(repo, "", 0);
    if (!names.ok()) return c.Internal(names.status());
    for (const auto& name : *names) {
      auto t = c.deps.meta->GetTag(repo, name);
      if (!t.ok()) return c.Internal(t.status());
      if (!t->has_value() || (*t)->digest != d->str()) continue;
      int64_t created = times.count((*t)->digest) ? times[(*t)->digest] : (*t)->updated_at;
      AppendTag(c, repo, **t, created, *signed_tags, &out);
    }
    if (out.empty()) return c.Fail(err::kNoSuchTag, "no tag of " + repo + " points at " + ref);
  } else {
    if (Status s = ValidateTag(ref); !s.ok()) return c.Fail(err::kInvalidTagName, s.message());
    auto t = c.deps.meta->GetTag(repo, ref);
    if (!t.ok()) return c.Internal(t.status());
    if (!t->has_value()) return c.Fail(err::kNoSuchTag, "no tag " + ref + " in " + repo);
    int64_t created = times.count((*t)->digest) ? times[(*t)->digest] : (*t)->updated_at;
    AppendTag(c, repo, **t, created, *signed_tags, &out);
  }
  c.Reply(200, out);
}

void DeleteTag(Call& c) {
  auto r = VisibleRepo(c);
  if (!r || !RequireLevel(c, *r, AccessLevel::kReadWrite, "delete tags")) return;
  const std::string& tag = c.Param("reference");
  if (Status s = ValidateTag(tag); !s.ok()) return c.Fail(err::kInvalidTagName, s.message());
  if (!RequireWritable(c)) return;
  std::string repo = r->full();
  auto t = c.deps.meta->GetTag(repo, tag);
  if (!t.ok()) return c.Internal(t.status());
  if (!t->has_value()) return c.Fail(err::kNoSuchTag, "no tag " + tag + " in " + repo);
  auto signed_tags = SignedTags(c, repo);
  if (!signed_tags) return;
  if (signed_tags->count(tag)) {
    return c.Fail(err::kTagInNotary,
                  "tag " + tag + " of " + repo +
                      " is signed in Notary; remove its signature first (notary remove " + repo +
                      " " + tag + " and publish) and then delete the tag");
  }
  Status s = c.deps.registry->DeleteManifest(repo, tag);
  if (s.is(Code::kNotFound)) {
    // Indexed but gone from storage: drop the stale index entry too.
    s = c.deps.meta->DeleteTag(repo, tag);
  }
  if (!s.ok()) return c.Internal(s);
  RecordEvent(c, MakeEvent("DELETE", "TAG", repo + ":" + tag,
                           json{{"tag", tag}, {"digest", (*t)->digest}}.dump(), repo));
  c.NoContent();
}

void ListManifests(Call& c) {
  auto r = VisibleRepo(c);
  if (!r) return;
  auto manifests = ListRepoManifests(c, r->full());
  if (!manifests.ok()) return c.Internal(manifests.status());
  json out = json::array();
  for (const auto& m : *manifests) {
    out.push_back(DescribeManifest(c, r->full(), m.digest, m.created_at).view);
  }
  c.Reply(200, out);
}

}  // namespace

void AddTagRoutes(RouteTable& t) {
  const std::string repo = "/api/v0/repositories/{namespace}/{reponame}";
  t.Add("GET", repo + "/tags", Caller::kAnyone, ListTags)
      .Tag("tags")
      .Summary("List a repository's tags")
      .Permission("whoever can read the repository")
      .Query({{"includeManifests", "boolean", "include each tag's manifest"},
              {"pageStart", "string", "name of the first tag of the page"},
              {"pageSize", "integer", "tags per page, 1-1000 (default 10)"},
              {"count", "boolean", "set X-Resource-Count to the number of tags"}})
      .Returns(200, "[]responses.ListTag")
      .Errors({err::kNoSuchRepository, err::kInvalidParameters});
  t.Add("GET", repo + "/tags/{reference}", Caller::kAnyone, GetTag)
      .Tag("tags")
      .Summary(
          "The tag, or every tag pointing at a digest; one entry per platform of a "
          "manifest list")
      .Permission("whoever can read the repository")
      .Query({{"os", "string", "only this platform OS (manifest lists)"},
              {"arch", "string", "only this platform architecture (manifest lists)"}})
      .Returns(200, "[]responses.Tag")
      .Errors({err::kNoSuchRepository, err::kNoSuchTag, err::kInvalidTagName, err::kInvalidDigest});
  t.Add("DELETE", repo + "/tags/{reference}", Caller::kUser, DeleteTag)
      .Tag("tags")
      .Summary("Delete a tag")
      .Permission("read-write access to the repository")
      .Returns(204)
      .Errors({err::kNoSuchRepository, err::kNoSuchTag, err::kInvalidTagName, err::kNotAuthorized,
               err::kNotAllowed, err::kTagInNotary});
  t.Add("GET", repo + "/manifests", Caller::kAnyone, ListManifests)
      .Tag("tags")
      .Summary("List a repository's manifests")
      .Permission("whoever can read the repository")
      .Returns(200, "[]responses.Manifest")
      .Errors({err::kNoSuchRepository});
}

}  // namespace dtr::api
