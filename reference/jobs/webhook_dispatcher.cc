#include "jobs/webhook_dispatcher.h"

#include <map>

#include "access/policy.h"
#include "app/log.h"
#include "core/manifest.h"
#include "jobs/api_reply.h"
#include "jobs/webhook_delivery.h"

namespace dtr::jobs {

using nlohmann::json;
namespace wt = webhook_type;

namespace {

constexpr size_t kMaxConfigSize = 1 << 20;

const std::map<std::string, WebhookScope>& Scopes() {
  static const std::map<std::string, WebhookScope> scopes = {
      {wt::kTagPush, WebhookScope::kRepository},
      {wt::kTagPull, WebhookScope::kRepository},
      {wt::kTagDelete, WebhookScope::kRepository},
      {"PROMOTION", WebhookScope::kRepository},
      {"PUSH_MIRRORING", WebhookScope::kRepository},
      {"POLL_MIRRORING", WebhookScope::kRepository},
      {wt::kManifestPush, WebhookScope::kRepository},
      {wt::kManifestPull, WebhookScope::kRepository},
      {wt::kManifestDelete, WebhookScope::kRepository},
      {"SCAN_COMPLETED", WebhookScope::kRepository},
      {"SCAN_FAILED", WebhookScope::kRepository},
      {wt::kRepoEvent, WebhookScope::kNamespace},
      {wt::kScannerUpdateCompleted, WebhookScope::kGlobal},
  };
  return scopes;
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::optional<WebhookScope> WebhookTypeScope(const std::string& type) {
  auto it = Scopes().find(type);
  if (it == Scopes().end()) return std::nullopt;
  return it->second;
}

const std::vector<std::string>& WebhookTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (const auto& [t, scope] : Scopes()) out.push_back(t);
    return out;
  }();
  return types;
}

WebhookOptions WebhookDispatcher::options() const {
  std::lock_guard lock(mu_);
  return options_;
}

void WebhookDispatcher::set_options(WebhookOptions o) {
  std::lock_guard lock(mu_);
  options_ = o;
}

json WebhookDispatcher::Envelope(const std::string& type, const json& contents, int64_t at_ms,
                                 const std::string& location) {
  json e = {{"type", type}, {"createdAt", reply::FormatTime(at_ms)}};
  if (!location.empty()) e["location"] = location;
  e["contents"] = contents;
  return e;
}

json WebhookDispatcher::SampleContents(const std::string& type) {
  const std::string digest =
      "sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c";
  const std::string when = "2015-01-02T15:04:05Z";
  json image = {{"namespace", "foo"}, {"repository", "bar"},     {"digest", digest},
                {"os", "linux"},      {"architecture", "amd64"}, {"author", ""}};
  if (type == wt::kTagPush || type == wt::kTagPull || type == wt::kTagDelete) {
    image["tag"] = "latest";
    image["imageName"] = "example.com/foo/bar:latest";
  } else {
    image["imageName"] = "example.com/foo/bar@" + digest;
  }
  if (type == wt::kTagPush || type == wt::kManifestPush) image["pushedAt"] = when;
  if (type == wt::kTagPull || type == wt::kManifestPull) image["pulledAt"] = when;
  if (type == wt::kTagDelete || type == wt::kManifestDelete) image["deletedAt"] = when;
  if (type == wt::kRepoEvent) {
    return json{{"namespace", "foo"},
                {"repository", "bar"},
                {"event", "REPO_CREATED"},
                {"author", ""},
                {"data", json::object()}};
  }
  if (type == "SCAN_COMPLETED") {
    return json{{"namespace", "foo"},
                {"repository", "bar"},
                {"tag", "latest"},
                {"imageName", "example.com/foo/bar:latest"},
                {"scanSummary",
                 {{"namespace", "foo"},
                  {"repository", "bar"},
                  {"tag", "latest"},
                  {"critical", 0},
                  {"major", 0},
                  {"minor", 0},
                  {"last_scan_status", 6},
                  {"check_completed_at", when}}}};
  }
  if (type == "SCAN_FAILED") {
    return json{{"namespace", "foo"},
                {"repository", "bar"},
                {"tag", "latest"},
                {"imageName", "example.com/foo/bar:latest"},
                {"error", "example error"}};
  }
  if (type == wt::kScannerUpdateCompleted) {
    return json{{"scanner_version", "1"}, {"scanner_updated_at", when},
                {"db_version", 1},        {"db_updated_at", when},
                {"success", true},        {"replicas", json::object()}};
  }
  if (type == "PROMOTION" || type == "PUSH_MIRRORING" || type == "POLL_MIRRORING") {
    image["tag"] = "latest";
    image["imageName"] = "example.com/foo/bar:latest";
  }
  return image;
}

std::string WebhookDispatcher::ImageName(const std::string& repo, const std::string& ref,
                                         bool digest) const {
  std::string host = registry_host_ ? registry_host_() : "";
  return (host.empty() ? "" : host + "/") + repo + (digest ? "@" : ":") + ref;
}

WebhookDispatcher::ImageFacts WebhookDispatcher::FactsOf(const std::string& digest) {
  ImageFacts facts;
  auto d = Digest::Parse(digest);
  if (!d.ok()) return facts;
  auto stored = registry_->LoadManifestByDigest(*d);
  if (!stored.ok() || !stored->content) return facts;
  auto m = ParseManifest(stored->media_type, *stored->content);
  if (!m.ok() || m->kind != ManifestKind::kImage || !m->config ||
      m->config->size > static_cast<int64_t>(kMaxConfigSize)) {
    return facts;  // an index has no single platform
  }
  auto reader = registry_->OpenBlob(m->config->digest, 0);
  if (!reader.ok()) return facts;
  std::string config;
  char buf[8192];
  while (config.size() <= kMaxConfigSize) {
    auto n = (*reader)->Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    config.append(buf, *n);
  }
  json c = json::parse(config, nullptr, false);
  if (!c.is_object()) return facts;
  facts.os = StringField(c, "os");
  facts.architecture = StringField(c, "architecture");
  return facts;
}

size_t WebhookDispatcher::Notify(const std::string& type, const std::string& ns,
                                 const std::string& name, const std::function<json()>& contents,
                                 int64_t at_ms, const std::string& location) {
  auto hooks = store_->Matching(type, ns, name);
  if (!hooks.ok()) {
    log::Warn("webhooks: could not look up " + type +
              " subscriptions: " + hooks.status().message());
    return 0;
  }
  if (hooks->empty()) return 0;
  WebhookOptions opt = options();
  json payload = Envelope(type, contents(), at_ms, location);
  size_t queued = 0;
  for (const auto& h : *hooks) {
    Job j;
    j.action = "webhook";
    j.retries_left = opt.retries;
    j.parameters = json{{"webhookID", h.id},
                        {"type", type},
                        {"payload", payload},
                        {"timeoutMs", opt.timeout_ms}}
                       .dump();
    auto submitted = runner_->Submit(j);
    if (!submitted.ok()) {
      log::Warn("webhooks: delivery to " + h.id + " not queued: " + submitted.status().message());
      continue;
    }
    ++queued;
  }
  return queued;
}

void WebhookDispatcher::OnEvent(const meta::Event& e) {
  access::RepoName repo = access::SplitRepoName(e.repository);
  if (!repo.valid()) return;
  json content = json::parse(e.object_content.empty() ? "{}" : e.object_content, nullptr, false);
  if (!content.is_object()) content = json::object();
  int64_t at = e.published_at > 0 ? e.published_at : NowMs();
  std::string when = reply::FormatTime(at);
  std::string full = repo.full();

  std::optional<ImageFacts> facts;
  auto image = [&](const std::string& digest) -> json {
    if (!facts) facts = FactsOf(digest);
    return json{{"namespace", repo.ns},
                {"repository", repo.name},
                {"digest", digest},
                {"os", facts->os},
                {"architecture", facts->architecture},
                {"author", e.actor}};
  };
  const char* time_field = e.type == "CREATE" ? "pushedAt"
                           : e.type == "GET"  ? "pulledAt"
                                              : "deletedAt";
  if (e.object_type == "TAG") {
    std::string prefix = full + ":";
    if (e.object_name.rfind(prefix, 0) != 0) return;
    std::string tag = e.object_name.substr(prefix.size());
    std::string digest = StringField(content, "digest");
    const char* tag_type = e.type == "CREATE"   ? wt::kTagPush
                           : e.type == "GET"    ? wt::kTagPull
                           : e.type == "DELETE" ? wt::kTagDelete
                                                : nullptr;
    if (tag_type == nullptr) return;
    std::string location = "/repositories/" + full + "/tags/" + tag;
    Notify(
        tag_type, repo.ns, repo.name,
        [&] {
          json c = image(digest);
          c["tag"] = tag;
          c["imageName"] = ImageName(full, tag, false);
          c[time_field] = when;
          return c;
        },
        at, location);
    if (e.type == "DELETE") return;  // the manifest stays; only the tag went
    Notify(
        e.type == "CREATE" ? wt::kManifestPush : wt::kManifestPull, repo.ns, repo.name,
        [&] {
          json c = image(digest);
          c["imageName"] = ImageName(full, digest, true);
          c[time_field] = when;
          return c;
        },
        at);
    return;
  }
  if (e.object_type == "MANIFEST") {
    std::string prefix = full + "@";
    std::string digest = StringField(content, "digest");
    if (digest.empty() && e.object_name.rfind(prefix, 0) == 0) {
      digest = e.object_name.substr(prefix.size());
    }
    const char* manifest_type = e.type == "CREATE"   ? wt::kManifestPush
                                : e.type == "GET"    ? wt::kManifestPull
                                : e.type == "DELETE" ? wt::kManifestDelete
                                                     : nullptr;
    if (manifest_type == nullptr) return;
    Notify(
        manifest_type, repo.ns, repo.name,
        [&] {
          json c = image(digest);
          c["imageName"] = ImageName(full, digest, true);
          c[time_field] = when;
          return c;
        },
        at);
    return;
  }
  if (e.object_type == "REPOSITORY") {
    const char* event = e.type == "CREATE"   ? "REPO_CREATED"
                        : e.type == "UPDATE" ? "REPO_UPDATED"
                        : e.type == "DELETE" ? "REPO_DELETED"
                                             : nullptr;
    if (event == nullptr) return;
    // Namespace scope: keys "ns" and "" (a key naming the repository does not apply).
    Notify(
        wt::kRepoEvent, repo.ns, "",
        [&] {
          return json{{"namespace", repo.ns},
                      {"repository", repo.name},
                      {"event", event},
                      {"author", e.actor},
                      {"data", content}};
        },
        at, "/repositories/" + full);
  }
}

Status WebhookDispatcher::Deliver(JobContext& ctx) {
  const json& p = ctx.params();
  std::string id = StringField(p, "webhookID");
  auto payload = p.find("payload");
  if (id.empty() || payload == p.end() || !payload->is_object()) {
    return InvalidArgument("webhook jobs need parameters webhookID and payload");
  }
  auto hook = store_->Get(id);
  if (!hook.ok()) return hook.status();
  if (!hook->has_value()) {
    ctx.Log("webhook " + id + " no longer exists; nothing delivered");
    return Status::Ok();
  }
  const Webhook& w = **hook;
  if (w.inactive) {
    ctx.Log("webhook " + id + " is inactive; nothing delivered");
    return Status::Ok();
  }
  int64_t timeout = options().timeout_ms;
  if (auto t = p.find("timeoutMs"); t != p.end() && t->is_number_integer()) {
    timeout = t->get<int64_t>();
  }
  int status = 0;
  Status s = PostJson({w.endpoint, w.tls_cert, w.skip_tls_verification}, payload->dump(), timeout,
                      &status);
  if (!s.ok()) return s;  // logged and retried by the runner
  ctx.Log("delivered " + StringField(*payload, "type") + " to webhook " + id + " (HTTP " +
          std::to_string(status) + ")");
  if (Status m = store_->MarkDelivered(id, NowMs()); !m.ok()) {
    ctx.Log("could not record the delivery time: " + m.message());
  }
  return Status::Ok();
}

}  // namespace dtr::jobs
