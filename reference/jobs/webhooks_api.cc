#include "jobs/webhooks_api.h"

#include "jobs/api_reply.h"
#include "jobs/job_store.h"
#include "jobs/webhook_delivery.h"

namespace dtr::jobs {

using meta::AccessLevel;
using nlohmann::json;
using reply::Error;
using reply::Json;

namespace {

json WebhookJson(const Webhook& w) {
  return json{{"id", w.id},
              {"type", w.type},
              {"key", w.key},
              {"endpoint", w.endpoint},
              {"authorID", w.author_id},
              {"createdAt", reply::FormatTime(w.created_at)},
              {"lastSuccessfulAt", reply::FormatTime(w.last_successful_at)},
              {"inactive", w.inactive},
              {"tlsCert", w.tls_cert},
              {"skipTLSVerification", w.skip_tls_verification}};
}

json ListJson(const std::vector<Webhook>& hooks) {
  json out = json::array();
  for (const auto& w : hooks) out.push_back(WebhookJson(w));
  return out;
}

std::string TypeList() {
  std::string out;
  for (const auto& t : WebhookTypes()) out += (out.empty() ? "" : ", ") + t;
  return out;
}

void Invalid(http::Response& res, const std::string& message) {
  Error(res, 400, "INVALID_PARAMETERS", message);
}

using reply::OptBool;
using reply::OptString;

// The webhookType query parameter of the listings into `f`; false (after answering 400)
// when it names no type.
bool ReadTypeFilter(http::Request& req, http::Response& res, WebhookFilter* f) {
  f->type = std::string(req.Query("webhookType").value_or("any"));
  if (f->type != "any" && !f->type.empty() && !WebhookTypeScope(f->type)) {
    Invalid(res, "webhookType must be any or one of: " + TypeList());
    return false;
  }
  return true;
}

// Endpoint and TLS fields shared by subscribe and test.
bool ReadTarget(const json& b, DeliveryTarget* t, http::Response& res) {
  if (!OptString(b, "endpoint", &t->endpoint, res) || !OptString(b, "tlsCert", &t->tls_cert, res) ||
      !OptBool(b, "skipTLSVerification", &t->skip_tls_verification, res)) {
    return false;
  }
  if (Status s = ValidateEndpoint(t->endpoint); !s.ok()) return Invalid(res, s.message()), false;
  if (!t->tls_cert.empty()) {
    if (Status s = ValidateCertificatePem(t->tls_cert); !s.ok()) {
      return Invalid(res, s.message()), false;
    }
  }
  return true;
}

// Checks `key` has the shape `type` needs; answers 400/403 and returns false otherwise.
bool CheckKeyShape(const std::string& type, WebhookScope scope, const std::string& key,
                   const access::Principal& who, http::Response& res) {
  if (scope == WebhookScope::kGlobal) {
    if (!key.empty()) return Invalid(res, type + " is a global event; leave key empty"), false;
    if (!who.is_admin()) {
      Error(res, 403, "NOT_AUTHORIZED", "only system administrators subscribe to " + type);
      return false;
    }
    return true;
  }
  if (key.empty()) {
    if (who.is_admin()) return true;
    Invalid(res, "key is required: a repository (namespace/name) or a namespace");
    return false;
  }
  if (key.size() > 512) return Invalid(res, "key is too long"), false;
  auto slash = key.find('/');
  if (slash == std::string::npos) return true;
  if (scope == WebhookScope::kNamespace) {
    Invalid(res, type + " is a namespace event; key must be a namespace, not a repository");
    return false;
  }
  if (slash == 0 || slash + 1 == key.size() || key.find('/', slash + 1) != std::string::npos) {
    Invalid(res, "key must be a namespace or namespace/repository");
    return false;
  }
  return true;
}

}  // namespace

bool WebhooksApi::Handle(http::Request& req, http::Response& res, const access::Principal& who) {
  auto parts = reply::SplitPath(req.path);
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v0") return false;
  bool top = parts[2] == "webhooks" && parts.size() <= 4;
  bool by_repo = parts[2] == "repositories" && parts.size() == 6 && parts[5] == "webhooks";
  bool by_ns = parts[2] == "accounts" && parts.size() == 5 && parts[4] == "webhooks";
  if (!top && !by_repo && !by_ns) return false;
  if (reply::RequireAuthenticated(res, who)) return true;
  if (by_repo || by_ns) {
    if (req.method != "GET") return reply::MethodNotAllowed(res, "GET"), true;
    ByKey(req, res, who, by_repo ? parts[3] + "/" + parts[4] : parts[3]);
    return true;
  }
  if (parts.size() == 3) {
    if (req.method == "GET") {
      List(req, res, who);
    } else if (req.method == "POST") {
      Create(req, res, who);
    } else {
      reply::MethodNotAllowed(res, "GET, POST");
    }
    return true;
  }
  const std::string& sub = parts[3];
  if (sub == "test" || sub == "update") {
    if (req.method != "POST") return reply::MethodNotAllowed(res, "POST"), true;
    if (sub == "test") {
      Test(req, res);
    } else {
      Update(req, res, who);
    }
    return true;
  }
  One(req, res, who, sub);
  return true;
}

Result<WebhooksApi::KeyAccess> WebhooksApi::Access(const access::Principal& who,
                                                   const std::string& key) {
  KeyAccess out;
  if (key.empty()) {
    out.exists = true;
    out.level = who.is_admin() ? AccessLevel::kAdmin : AccessLevel::kNone;
    return out;
  }
  auto slash = key.find('/');
  if (slash != std::string::npos) {
    access::RepoName name = access::SplitRepoName(key);
    auto record = identity_->GetRepository(name.ns, name.name);
    if (!record.ok()) return record.status();
    out.exists = record->has_value();
    auto level = policy_->EffectiveAccess(who.user(), name);
    if (!level.ok()) return level.status();
    out.level = *level;
    return out;
  }
  auto account = identity_->GetAccount(key);
  if (!account.ok()) return account.status();
  out.exists = account->has_value();
  auto level = policy_->NamespaceAccess(who.user(), key);
  if (!level.ok()) return level.status();
  out.level = *level;
  return out;
}

bool WebhooksApi::RequireKeyAdmin(http::Response& res, const access::Principal& who,
                                  const std::string& key) {
  auto access = Access(who, key);
  if (!access.ok()) return Error(res, 500, "INTERNAL_ERROR", access.status().message()), false;
  bool repo = key.find('/') != std::string::npos;
  // A repository the caller cannot see answers as one that does not exist.
  if (!access->exists || (repo && access->level == AccessLevel::kNone)) {
    if (repo) {
      Error(res, 404, "NO_SUCH_REPOSITORY", "no repository " + key);
    } else {
      Error(res, 404, "NO_SUCH_ACCOUNT", "no namespace " + key);
    }
    return false;
  }
  if (access->level != AccessLevel::kAdmin) {
    Error(res, 403, "NOT_AUTHORIZED",
          key.empty() ? "only system administrators manage webhooks for every repository"
                      : "webhooks for " + key + " need admin access to it");
    return false;
  }
  return true;
}

void WebhooksApi::Create(http::Request& req, http::Response& res, const access::Principal& who) {
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  Webhook w;
  if (!OptString(b, "type", &w.type, res) || !OptString(b, "key", &w.key, res)) return;
  auto scope = WebhookTypeScope(w.type);
  if (!scope) return Invalid(res, "type must be one of: " + TypeList());
  DeliveryTarget t;
  if (!ReadTarget(b, &t, res)) return;
  if (!CheckKeyShape(w.type, *scope, w.key, who, res)) return;
  if (!RequireKeyAdmin(res, who, w.key)) return;
  w.endpoint = t.endpoint;
  w.tls_cert = t.tls_cert;
  w.skip_tls_verification = t.skip_tls_verification;
  w.author_id = who.account ? who.account->id : "";
  if (Status s = dispatcher_->store().Create(&w); !s.ok()) {
    return Error(res, 500, "INTERNAL_ERROR", s.message());
  }
  Json(res, 201, WebhookJson(w));
}

void WebhooksApi::List(http::Request& req, http::Response& res, const access::Principal& who) {
  WebhookFilter f;
  if (!ReadTypeFilter(req, res, &f)) return;
  if (!who.is_admin()) {
    if (!who.account || who.account->id.empty()) return Json(res, 200, json::array());
    f.author_id = who.account->id;
  }
  auto hooks = dispatcher_->store().List(f);
  if (!hooks.ok()) return Error(res, 500, "INTERNAL_ERROR", hooks.status().message());
  Json(res, 200, ListJson(*hooks));
}

void WebhooksApi::ByKey(http::Request& req, http::Response& res, const access::Principal& who,
                        const std::string& key) {
  if (!RequireKeyAdmin(res, who, key)) return;
  WebhookFilter f;
  if (!ReadTypeFilter(req, res, &f)) return;
  f.key = key;
  auto hooks = dispatcher_->store().List(f);
  if (!hooks.ok()) return Error(res, 500, "INTERNAL_ERROR", hooks.status().message());
  Json(res, 200, ListJson(*hooks));
}

void WebhooksApi::One(http::Request& req, http::Response& res, const access::Principal& who,
                      const std::string& id) {
  if (req.method != "GET" && req.method != "DELETE") {
    return reply::MethodNotAllowed(res, "GET, DELETE");
  }
  auto hook = dispatcher_->store().Get(id);
  if (!hook.ok()) return Error(res, 500, "INTERNAL_ERROR", hook.status().message());
  auto access = hook->has_value() ? Access(who, (*hook)->key) : Result<KeyAccess>(KeyAccess{});
  if (!access.ok()) return Error(res, 500, "INTERNAL_ERROR", access.status().message());
  bool admin = who.is_admin() || access->level == AccessLevel::kAdmin;
  bool author = hook->has_value() && who.account && !who.account->id.empty() &&
                (*hook)->author_id == who.account->id;
  if (!hook->has_value() || (!admin && !author)) {
    return Error(res, 404, "NO_SUCH_WEBHOOK", "no webhook " + id);
  }
  if (req.method == "GET") return Json(res, 200, WebhookJson(**hook));
  if (!admin) {
    return Error(res, 403, "NOT_AUTHORIZED",
                 "deleting a webhook needs admin access to " + (*hook)->key);
  }
  auto deleted = dispatcher_->store().Delete(id);
  if (!deleted.ok()) return Error(res, 500, "INTERNAL_ERROR", deleted.status().message());
  res.status = 204;
}

void WebhooksApi::Update(http::Request& req, http::Response& res, const access::Principal& who) {
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  std::string id;
  if (!OptString(b, "id", &id, res)) return;
  if (id.empty()) return Invalid(res, "id is required");
  auto hook = dispatcher_->store().Get(id);
  if (!hook.ok()) return Error(res, 500, "INTERNAL_ERROR", hook.status().message());
  auto access = hook->has_value() ? Access(who, (*hook)->key) : Result<KeyAccess>(KeyAccess{});
  if (!access.ok()) return Error(res, 500, "INTERNAL_ERROR", access.status().message());
  bool admin = who.is_admin() || access->level == AccessLevel::kAdmin;
  bool author = hook->has_value() && who.account && !who.account->id.empty() &&
                (*hook)->author_id == who.account->id;
  if (!hook->has_value() || (!admin && !author)) {
    return Error(res, 404, "NO_SUCH_WEBHOOK", "no webhook " + id);
  }
  if (!admin) {
    return Error(res, 403, "NOT_AUTHORIZED",
                 "changing a webhook needs admin access to " + (*hook)->key);
  }
  Webhook w = **hook;
  if (!OptBool(b, "inactive", &w.inactive, res) || !OptString(b, "tlsCert", &w.tls_cert, res) ||
      !OptBool(b, "skipTLSVerification", &w.skip_tls_verification, res)) {
    return;
  }
  if (!w.tls_cert.empty()) {
    if (Status s = ValidateCertificatePem(w.tls_cert); !s.ok()) return Invalid(res, s.message());
  }
  Status s = dispatcher_->store().Update(w);
  if (s.is(Code::kNotFound)) return Error(res, 404, "NO_SUCH_WEBHOOK", s.message());
  if (!s.ok()) return Error(res, 500, "INTERNAL_ERROR", s.message());
  Json(res, 200, json::array({WebhookJson(w)}));
}

void WebhooksApi::Test(http::Request& req, http::Response& res) {
  json b;
  if (!reply::ReadObject(req, res, &b)) return;
  std::string type;
  if (!OptString(b, "type", &type, res)) return;
  if (!WebhookTypeScope(type)) return Invalid(res, "type must be one of: " + TypeList());
  DeliveryTarget t;
  if (!ReadTarget(b, &t, res)) return;
  json payload =
      WebhookDispatcher::Envelope(type, WebhookDispatcher::SampleContents(type), NowMs());
  int status = 0;
  Status s = PostJson(t, payload.dump(), dispatcher_->options().timeout_ms, &status);
  if (!s.ok()) {
    return Error(res, 502, "WEBHOOK_DELIVERY_FAILED", s.message(), json{{"status", status}});
  }
  Json(res, 202, json{{"status", status}});
}

}  // namespace dtr::jobs
