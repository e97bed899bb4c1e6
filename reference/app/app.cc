#include "app/app.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "app/log.h"
#include "auth/password.h"
#include "config/etcd_config_store.h"
#include "config/sqlite_config_store.h"
#include "core/names.h"
#include "jobs/api_docs.h"
#include "jobs/gc.h"
#include "storage/factory.h"
#include "storage/filesystem_driver.h"

namespace dtr::app {

namespace {

const char* kCleanShutdownKey = "registry.clean_shutdown";
const char* kStorageSettingsKey = "registry.storage";

// A component's /_ping, as the front's health check of it.
Status UpstreamHealth(proxy::Forwarder& f, const std::string& name, const std::string& addr) {
  http::Request req;
  req.method = "GET";
  req.target = req.path = "/_ping";
  req.headers.Set("Host", addr);
  req.remote_addr = "127.0.0.1";
  http::Response res;
  f.Forward(req, res);
  if (res.status == 200) return Status::Ok();
  std::string body = res.body;
  if (res.stream) {
    struct Collect : http::BodyWriter {
      std::string* out;
      explicit Collect(std::string* o) : out(o) {}
      bool Write(const char* data, size_t n) override {
        if (out->size() + n > 65536) return false;
        out->append(data, n);
        return true;
      }
    } collect(&body);
    res.stream(collect);
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string why = j.is_object() && j.contains("Error") && j["Error"].is_string()
                        ? j["Error"].get<std::string>()
                        : body.substr(0, 200);
  return Status(Code::kUnavailable, name + " at " + addr + " is unhealthy (" +
                                        std::to_string(res.status) + "): " + why);
}

void RenderProtocolError(int status, const std::string& message, http::Response& res) {
  // UNKNOWN is distribution's code for a 500 (a handler that threw); the server logs why.
  const char* code = status >= 500                    ? "UNKNOWN"
                     : status == 413 || status == 431 ? "SIZE_INVALID"
                                                      : "UNSUPPORTED";
  registry::WriteError(res, status, code, message);
  res.status = status;
}

}  // namespace

Result<std::unique_ptr<App>> App::Open(const Settings& settings) {
  std::unique_ptr<App> app(new App);
  app->settings_ = settings;
  using storage::MakeDirs;
  if (Status s = MakeDirs(settings.data_dir); !s.ok()) return s;
  auto trusted = proxy::TrustedProxies::Parse(settings.trusted_proxies);
  if (!trusted.ok()) return InvalidArgument("--trusted-proxies: " + trusted.status().message());
  app->trusted_proxies_ = std::move(*trusted);
  auto secret = proxy::LoadOrCreateFrontSecret(settings.data_dir);
  if (!secret.ok()) return secret.status();
  app->front_secret_ = std::move(*secret);
  if (Status s = app->OpenFront(); !s.ok()) return s;
  if (settings.role == "front") return app;  // only the CA, health and the forwarders
  auto meta = meta::SqliteMetaStore::Open(settings.data_dir + "/meta.db");
  if (!meta.ok()) return meta.status();
  app->meta_ = std::move(meta.value());
  // Storage set through the API on an earlier run overrides the config file's.
  auto stored_storage = app->meta_->GetState(kStorageSettingsKey);
  if (!stored_storage.ok()) return stored_storage.status();
  if (stored_storage->has_value()) {
    auto applied = ApplyStorageJson(app->settings_, **stored_storage);
    if (!applied.ok()) {
      return Status(applied.status().code(),
                    "the storage settings stored through the API are unusable (" +
                        applied.status().message() + ")");
    }
    app->settings_ = std::move(*applied);
    app->followed_storage_ = **stored_storage;
    log::Info("storage: " + app->settings_.storage_driver +
              ", as set through /api/v0/admin/settings/registry/simple (it overrides --config)");
  }
  auto driver = storage::CreateDriver(app->settings_.storage_driver, app->settings_.storage_params,
                                      settings.data_dir);
  if (!driver.ok()) return driver.status();
  auto swappable = std::make_unique<SwappableDriver>(std::move(*driver));
  app->swappable_ = swappable.get();
  app->driver_ =
      std::make_unique<proxy::InstrumentedDriver>(std::move(swappable), &app->front_->metrics());

  registry::RegistryOptions ro;
  ro.delete_enabled = settings.delete_enabled;
  ro.read_only = settings.read_only;
  ro.upload_expiry = settings.upload_purge_age;
  app->registry_ = std::make_unique<registry::Registry>(app->driver_.get(), app->meta_.get(), ro);
  app->api_ = std::make_unique<registry::RegistryApi>(app->registry_.get());

  // The index belongs to the process that serves writes; the other components read it.
  auto clean = settings.OwnsIndex()
                   ? app->meta_->GetState(kCleanShutdownKey)
                   : Result<std::optional<std::string>>(std::optional<std::string>("1"));
  if (!clean.ok()) return clean.status();
  if (!clean->has_value() || **clean != "1") {
    log::Info(clean->has_value() ? "previous run did not shut down cleanly; rebuilding the index"
                                 : "new metadata index; indexing storage");
    size_t repos, manifests, tags;
    if (Status s = app->registry_->Reindex(&repos, &manifests, &tags); !s.ok()) return s;
    log::Info("indexed " + std::to_string(repos) + " repositories, " + std::to_string(manifests) +
              " manifests, " + std::to_string(tags) + " tags");
  }
  if (settings.OwnsIndex()) {
    if (Status s = app->meta_->SetState(kCleanShutdownKey, "0"); !s.ok()) return s;
  }

  auto identity = meta::SqliteIdentityStore::Open(&app->meta_->db());
  if (!identity.ok()) return identity.status();
  app->identity_ = std::move(identity.value());
  if (Status s = app->OpenConfigStore(); !s.ok()) return s;
  app->dtr_settings_ = std::make_unique<SettingsStore>(app->config_store_.get(), app->meta_.get());
  if (Status s = app->dtr_settings_->Load(); !s.ok()) return s;
  if (Status s = MakeDirs(settings.data_dir + "/auth"); !s.ok()) return s;
  auto key = auth::SigningKey::LoadOrCreate(settings.data_dir + "/auth/token-signing-key.pem");
  if (!key.ok()) return key.status();
  app->signing_key_ = std::make_unique<auth::SigningKey>(std::move(key.value()));
  app->policy_ = std::make_unique<access::Policy>(app->identity_.get());
  app->authn_ = std::make_unique<access::Authenticator>(
      app->identity_.get(), app->signing_key_.get(), access::AuthConfig{});
  SettingsStore* dtr_settings = app->dtr_settings_.get();
  bool config_read_only = settings.read_only;
  app->tokens_ = std::make_unique<access::TokenService>(
      app->authn_.get(), app->policy_.get(),
      [dtr_settings] { return dtr_settings->Get()->create_repository_on_push; });
  app->gate_ = std::make_unique<access::RegistryGate>(
      app->identity_.get(), app->policy_.get(), &app->authn_->config(), app->registry_.get(),
      [dtr_settings, config_read_only] {
        auto s = dtr_settings->Get();
        return access::GateSettings{s->create_repository_on_push,
                                    config_read_only || s->read_only_registry};
      });
  auto job_store = jobs::JobStore::Open(&app->meta_->db());
  if (!job_store.ok()) return job_store.status();
  app->job_store_ = std::move(job_store.value());
  auto replica = app->meta_->GetState("replica_id");
  if (!replica.ok()) return replica.status();
  std::string replica_id = replica->value_or("");
  if (replica_id.empty()) {
    replica_id = auth::RandomToken(9);  // 12 characters, like DTR's replica ids
    for (auto& c : replica_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (Status s = app->meta_->SetState("replica_id", replica_id); !s.ok()) return s;
  }
  jobs::RunnerOptions ro_jobs;
  ro_jobs.worker_id = replica_id;
  if (settings.role == "registry") {
    ro_jobs.claim = {"onlinegc", "gc", "onlinegc_blobs"};  // GC runs beside the writes
    ro_jobs.worker_id = replica_id + "-registry";
  } else if (settings.role == "jobrunner") {
    // Each jobrunner process is its own worker (a dead one is noticed by its heartbeat).
    std::string suffix = auth::RandomToken(3);
    for (auto& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ro_jobs.worker_id = replica_id + "-jobrunner-" + suffix;
    ro_jobs.leave = {"onlinegc", "gc", "onlinegc_blobs"};
  }
  app->runner_ = std::make_unique<jobs::Runner>(app->job_store_.get(), ro_jobs);
  app->RegisterJobActions();
  App* self = app.get();
  app->jobs_api_ =
      std::make_unique<jobs::JobsApi>(app->runner_.get(), [self] { return self->GcLockHolder(); });
  jobs::RepoAutomationDeps automation_deps;
  automation_deps.db = &app->meta_->db();
  automation_deps.registry = app->registry_.get();
  automation_deps.identity = app->identity_.get();
  automation_deps.policy = app->policy_.get();
  automation_deps.runner = app->runner_.get();
  automation_deps.registry_host = [dtr_settings] { return dtr_settings->Get()->dtr_host; };
  auto automation = jobs::RepoAutomation::Open(std::move(automation_deps));
  if (!automation.ok()) return automation.status();
  app->automation_ = std::move(*automation);
  jobs::RepoAutomation* automation_ptr = app->automation_.get();
  app->gate_->SetHooks(
      [automation_ptr](const meta::Event& e) { automation_ptr->OnEvent(e); },
      [automation_ptr](const access::RepoName& r) { automation_ptr->ApplyTagLimit(r); });
  // Accounts are the API's (enzi's): it creates the first admin, once, wherever it runs.
  if (settings.role == "all" || settings.role == "api") {
    if (Status s = app->BootstrapAdmin(); !s.ok()) return s;
  }
  app->none_admin_ = meta::Account{"", "admin", "", false, true, true, "", 0};
  if (auto admin = app->identity_->GetAccount("admin");
      admin.ok() && admin->has_value() && (*admin)->is_admin) {
    app->none_admin_ = **admin;  // --auth none acts as the real admin account
  }
  if (settings.OwnsIndex()) {
    if (Status s = app->AdoptRepositories(); !s.ok()) return s;
  }
  if (Status s = app->OpenTrust(); !s.ok()) return s;
  app->OpenApi();
  // The jobs module answers its /api/v0 endpoints before dtr_api_ (Handle); documented there.
  if (Status s = app->dtr_api_->Describe(jobs::ApiRoutes(), jobs::ApiDefinitions()); !s.ok()) {
    return s;
  }
  return app;
}

// The config store: SQLite in the metadata database, or etcd when replicas share one.
Status App::OpenConfigStore() {
  const std::string& spec = settings_.config_store;
  if (spec.empty() || spec == "sqlite") {
    auto store = config::SqliteConfigStore::Open(&meta_->db());
    if (!store.ok()) return store.status();
    config_store_ = std::move(store.value());
    return Status::Ok();
  }
  if (spec.rfind("etcd://", 0) != 0) {
    return InvalidArgument(
        "--config-store must be sqlite or etcd://HOST:PORT[,HOST:PORT...], not '" + spec + "'");
  }
  config::EtcdOptions o;
  std::string rest = spec.substr(7);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string host =
        rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!host.empty()) o.endpoints.push_back("http://" + host);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto store = config::EtcdConfigStore::Open(o);
  if (!store.ok()) return store.status();
  config_store_ = std::move(store.value());
  log::Info("config store: " + config_store_->Describe());
  return Status::Ok();
}

// /api/v0 and /enzi/v0. Events recorded by the API go to the automation (webhooks) as the
// registry gate's do; tag APIs learn about signatures from the trust store.
void App::OpenApi() {
  api::ApiDeps deps;
  deps.identity = identity_.get();
  deps.meta = meta_.get();
  deps.registry = registry_.get();
  deps.policy = policy_.get();
  deps.settings = dtr_settings_.get();
  jobs::RepoAutomation* automation = automation_.get();
  deps.on_event = [automation](const meta::Event& e) { automation->OnEvent(e); };
  notary::TrustStore* trust = trust_store_.get();
  deps.signed_tags = [trust](
                         const std::string& repo,
                         const std::string& domain) -> Result<std::map<std::string, std::string>> {
    auto guns = trust->GunsForRepository(repo);
    if (!guns.ok()) return guns.status();
    std::map<std::string, std::string> out;
    for (const auto& gun : *guns) {
      if (!domain.empty() && gun != domain + "/" + repo) continue;
      auto targets = trust->SignedTargets(gun);
      if (!targets.ok()) return targets.status();
      for (const auto& [name, target] : *targets) out.emplace(name, target.sha256_hex);
    }
    return out;
  };
  deps.has_trust_data = [trust](const std::string& repo) -> Result<bool> {
    auto guns = trust->GunsForRepository(repo);
    if (!guns.ok()) return guns.status();
    return !guns->empty();
  };
  deps.get_storage = [this]() -> Result<std::string> {
    std::lock_guard lock(storage_mu_);
    return StorageSettingsJson(settings_, /*redact=*/true);
  };
  deps.put_storage = [this](const std::string& text) { return PutStorage(text); };
  dtr_api_ = std::make_unique<api::ApiServer>(std::move(deps));
}

// Switches the storage backend while requests run: the new one is created and probed first;
// only then is it stored (for later starts) and swapped in. Content already on the old
// backend is not copied (`dtr storage copy` does that).
Status App::PutStorage(const std::string& json_text) {
  std::lock_guard lock(storage_mu_);
  auto next = ApplyStorageJson(settings_, json_text);
  if (!next.ok()) return next.status();
  auto fixed = [&](bool a, bool b, const char* what) -> Status {
    if (a == b) return Status::Ok();
    return InvalidArgument(std::string(what) +
                           " cannot change while the registry runs: set it in config.yml "
                           "and restart (the read-only mode is readOnlyRegistry in "
                           "/api/v0/meta/settings)");
  };
  if (Status s = fixed(next->delete_enabled, settings_.delete_enabled, "storage.delete.enabled");
      !s.ok()) {
    return s;
  }
  if (Status s =
          fixed(next->read_only, settings_.read_only, "storage.maintenance.readonly.enabled");
      !s.ok()) {
    return s;
  }
  if (Status s = fixed(next->upload_purging, settings_.upload_purging,
                       "storage.maintenance.uploadpurging.enabled");
      !s.ok()) {
    return s;
  }
  auto driver =
      storage::CreateDriver(next->storage_driver, next->storage_params, settings_.data_dir);
  if (!driver.ok()) return driver.status();
  if (Status s = ProbeDriver(driver->get()); !s.ok()) return s;
  if (Status s = meta_->SetState(kStorageSettingsKey, StorageSettingsJson(*next, false)); !s.ok()) {
    return s;
  }
  followed_storage_ = StorageSettingsJson(*next, false);
  swappable_->Swap(std::move(*driver));
  settings_.storage_driver = next->storage_driver;
  settings_.storage_params = next->storage_params;
  log::Info("storage switched to " + settings_.storage_driver +
            " through /api/v0/admin/settings/registry/simple");
  return Status::Ok();
}

App::~App() { Stop(); }

void App::SetGcHolder(const std::string& job_id) {
  std::lock_guard lock(gc_holder_mu_);
  gc_holder_ = job_id;
}

std::string App::GcLockHolder() {
  std::lock_guard lock(gc_holder_mu_);  // not gc_mu_: a collection holds that while it runs
  return gc_holder_;
}

void App::RegisterJobActions() {
  auto gc = [this](bool untagged) {
    return [this, untagged](jobs::JobContext& ctx) -> Status {
      std::unique_lock lock(gc_mu_, std::try_to_lock);
      if (!lock.owns_lock()) {
        return Status(Code::kFailedPrecondition, "another garbage collection is running");
      }
      jobs::GcOptions opt;
      opt.delete_untagged = untagged;
      auto grace = ctx.StringParam("grace");
      if (!grace.ok()) return grace.status();
      if (!grace->empty()) {
        auto ms = jobs::ParseDurationMs(*grace);
        if (!ms.ok()) return ms.status();
        opt.grace = std::chrono::seconds(*ms / 1000);
      }
      auto dry_run = ctx.BoolParam("dryRun", false);
      if (!dry_run.ok()) return dry_run.status();
      opt.dry_run = *dry_run;
      opt.log = [&ctx](const std::string& line) { ctx.Log(line); };
      opt.cancelled = [&ctx] { return ctx.cancelled(); };
      SetGcHolder(ctx.job().id);
      struct ClearHolder {
        App* app;
        ~ClearHolder() { app->SetGcHolder(""); }
      } clear{this};
      auto report = jobs::RunGarbageCollection(*registry_, opt);
      return report.ok() ? Status::Ok() : report.status();
    };
  };
  runner_->Register("onlinegc", gc(true));
  runner_->Register("gc", gc(true));
  runner_->Register("onlinegc_blobs", gc(false));
  runner_->Register("onlinegc_joblogs", [this](jobs::JobContext& ctx) -> Status {
    auto s = dtr_settings_->Get();
    auto age = jobs::ParseDurationMs(s->job_history_max_age);
    auto keep = ctx.IntParam("keep", s->job_history_to_keep);
    if (!keep.ok()) return keep.status();
    auto removed = job_store_->CompactHistory(*keep, age.ok() ? *age : int64_t{30} * 86400000);
    if (!removed.ok()) return removed.status();
    ctx.Log("removed " + std::to_string(*removed) + " finished jobs and their logs");
    return Status::Ok();
  });
  runner_->Register("sleep", [](jobs::JobContext& ctx) -> Status {
    auto seconds = ctx.IntParam("seconds", 60);
    if (!seconds.ok()) return seconds.status();
    for (int64_t i = 0; i < *seconds * 10 && !ctx.cancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Status::Ok();
  });
  runner_->Register("false", [](jobs::JobContext&) -> Status {
    return Status(Code::kInternal, "the false action always fails");
  });
}

// The first start creates `admin`, with DTR_ADMIN_PASSWORD or a generated password that is
// printed once (to stdout, never to the log).
Status App::BootstrapAdmin() {
  auto existing = identity_->ListAccounts("admins", "", 1);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) return Status::Ok();
  meta::Account admin;
  admin.name = "admin";
  admin.full_name = "Administrator";
  admin.is_admin = true;
  const char* env = std::getenv("DTR_ADMIN_PASSWORD");
  std::string password = env && *env ? env : auth::RandomToken(18);
  admin.password_hash = auth::HashPassword(password);
  if (Status s = identity_->CreateAccount(&admin); !s.ok() && !s.is(Code::kAlreadyExists)) {
    return s;
  }
  if (env && *env) {
    log::Info("created the admin account with the password from DTR_ADMIN_PASSWORD");
  } else {
    std::cout << "dtr: created the admin account; its password (shown once) is: " << password
              << std::endl;
  }
  return Status::Ok();
}

// Repositories that exist in storage (pushed before auth, or by another registry) get a
// DTR record, private, so permissions apply to them.
Status App::AdoptRepositories() {
  auto repos = registry_->Catalog("", 0);
  if (!repos.ok()) return repos.status();
  for (const auto& full : *repos) {
    access::RepoName name = access::SplitRepoName(full);
    if (!name.valid()) continue;
    auto record = identity_->GetRepository(name.ns, name.name);
    if (!record.ok()) return record.status();
    if (record->has_value()) continue;
    meta::Repository r;
    r.namespace_name = name.ns;
    r.name = name.name;
    if (Status s = identity_->CreateRepository(&r); !s.ok() && !s.is(Code::kAlreadyExists)) {
      return s;
    }
  }
  return Status::Ok();
}

// Content trust: notary-server's endpoints over the metadata database. The signer keeps the
// server-managed keys in <data>/notary-signer, sealed with DTR_SIGNER_PASSPHRASE, or is a
// separate `dtr notary-signer` when DTR_NOTARY_SIGNER names one (mutual TLS with
// DTR_NOTARY_SIGNER_CA, _CERT and _KEY).
Status App::OpenTrust() {
  if (const char* url = std::getenv("DTR_NOTARY_SIGNER"); url && *url) {
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return std::string(v ? v : "");
    };
    auto remote =
        notary::RemoteSigner::Create({url, env("DTR_NOTARY_SIGNER_CA"),
                                      env("DTR_NOTARY_SIGNER_CERT"), env("DTR_NOTARY_SIGNER_KEY")});
    if (!remote.ok()) return remote.status();
    signer_ = std::move(remote.value());
    log::Info(std::string("content trust: using the notary-signer at ") + url);
  } else {
    std::string dir = settings_.data_dir + "/notary-signer";
    auto passphrase = notary::LoadSignerPassphrase(dir);
    if (!passphrase.ok()) return passphrase.status();
    auto signer = notary::LocalSigner::Open(dir, *passphrase);
    if (!signer.ok()) return signer.status();
    signer_ = std::move(signer.value());
  }
  auto store = notary::SqliteTrustStore::Open(&meta_->db());
  if (!store.ok()) return store.status();
  trust_store_ = std::move(store.value());
  if (auth_enabled()) {
    SettingsStore* dtr_settings = dtr_settings_.get();
    trust_auth_ = std::make_unique<notary::AccessTrustAuthorizer>(
        authn_.get(), policy_.get(), gate_.get(),
        [dtr_settings] { return dtr_settings->Get()->create_repository_on_push; });
  }
  trust_ =
      std::make_unique<notary::TrustServer>(trust_store_.get(), signer_.get(), trust_auth_.get());
  return Status::Ok();
}

// The front's own parts: the CA (created on first start) and the health checks behind
// /_ping. The checks read members that Open sets up later; they run only once serving.
Status App::OpenFront() {
  auto ca = proxy::CertificateAuthority::LoadOrCreate(settings_.data_dir + "/ca");
  if (!ca.ok()) return ca.status();
  ca_ = std::make_unique<proxy::CertificateAuthority>(std::move(ca.value()));
  if (settings_.role == "front") return OpenUpstreams();
  std::vector<proxy::HealthCheck> checks = {
      {"storage", [this]() -> Status { return driver_->Stat("/").status(); }},
      {"metadata", [this]() -> Status { return meta_->GetState(kCleanShutdownKey).status(); }},
      {"authorization", [this]() -> Status {
         if (!signing_key_) return Status(Code::kUnavailable, "no token signing key loaded");
         std::string path = settings_.data_dir + "/auth/token-signing-key.pem";
         if (::access(path.c_str(), R_OK) != 0) {
           return Status(Code::kNotFound, "token signing key " + path + " is missing");
         }
         return Status::Ok();
       }}};
  front_ = std::make_unique<proxy::Front>(std::move(checks), ca_->cert_pem());
  return Status::Ok();
}

// The front alone (`dtr front`): a forwarder per component, and health that is theirs.
Status App::OpenUpstreams() {
  struct Named {
    const char* name;
    const std::string* addr;
    std::unique_ptr<proxy::Forwarder>* forwarder;
  };
  std::vector<proxy::HealthCheck> checks;
  for (Named n : {Named{"registry", &settings_.upstream_registry, &to_registry_},
                  Named{"api", &settings_.upstream_api, &to_api_},
                  Named{"notary", &settings_.upstream_notary, &to_notary_}}) {
    if (n.addr->empty()) {
      return InvalidArgument(std::string("dtr front needs --") + n.name + " HOST:PORT (where dtr " +
                             n.name + " listens)");
    }
    std::string host;
    int port;
    if (Status s = SplitHostPort(*n.addr, &host, &port); !s.ok()) {
      return InvalidArgument(std::string("--") + n.name + ": " + s.message());
    }
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    *n.forwarder = std::make_unique<proxy::Forwarder>(n.name, host, port);
    proxy::Forwarder* f = n.forwarder->get();
    checks.push_back({n.name, [f, name = std::string(n.name), addr = *n.addr]() -> Status {
                        return UpstreamHealth(*f, name, addr);
                      }});
  }
  front_ = std::make_unique<proxy::Front>(std::move(checks), ca_->cert_pem());
  return Status::Ok();
}

// Issues the server certificate (when none is given) and loads it, before any listener
// answers: whoever sees the plain listener up may use the certificate files at once.
Status App::PrepareTls() {
  std::string host;
  int port;
  if (Status s = SplitHostPort(settings_.tls_listen, &host, &port); !s.ok()) return s;
  http::TlsFiles files{settings_.tls_cert, settings_.tls_key, settings_.client_ca};
  if (files.cert_file.empty() != files.key_file.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (files.cert_file.empty()) {
    files.cert_file = settings_.data_dir + "/ca/server.pem";
    files.key_file = settings_.data_dir + "/ca/server-key.pem";
    std::vector<std::string> hosts = settings_.hosts;
    if (host != "0.0.0.0" && host != "::" && !host.empty()) hosts.push_back(host);
    auto names = proxy::ServerCertNames(hosts);
    auto issued = ca_->EnsureServerCert(names, files.cert_file, files.key_file);
    if (!issued.ok()) return issued.status();
    if (*issued) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      log::Info("issued a TLS server certificate from the reference CA for " + all);
    }
  }
  auto tls = http::TlsContext::Create(files);
  if (!tls.ok()) return tls.status();
  tls_ = tls.value();
  return Status::Ok();
}

Status App::StartTls(const http::ServerOptions& base) {
  std::string host;
  int port;
  if (Status s = SplitHostPort(settings_.tls_listen, &host, &port); !s.ok()) return s;
  http::ServerOptions opt = base;
  opt.tls = tls_;
  tls_server_ = std::make_unique<http::Server>(
      opt, [this](http::Request& req, http::Response& res) { Handle(req, res); });
  if (Status s = tls_server_->Start(host, port); !s.ok()) return s;
  front_->AddListener("https", &tls_server_->stats());
  return Status::Ok();
}

Status App::ReloadTls() {
  if (!tls_) return Status(Code::kFailedPrecondition, "no TLS listener");
  return tls_->Reload();
}

int App::tls_port() const { return tls_server_ ? tls_server_->port() : 0; }

Status App::Start() {
  http::ServerOptions opt;
  opt.workers = settings_.workers;
  opt.error_renderer = RenderProtocolError;
  opt.on_event = [](const std::string& e) { log::Warn(e); };
  bool access_log = settings_.access_log && log::Enabled(log::Level::kInfo);
  proxy::Front* front = front_.get();
  opt.on_complete = [access_log, front](const http::Request& req, const http::Response& res,
                                        uint64_t in, uint64_t out, double secs) {
    front->Observe(req, res, in, out, secs);
    if (!access_log) return;
    // The target can carry query parameters but never credentials; headers are not logged.
    log::Info("access " + req.ClientAddress() + " \"" + req.method + " " + req.path + "\" " +
              std::to_string(res.status) + " in=" + std::to_string(in) +
              " out=" + std::to_string(out) + " ms=" + std::to_string(int(secs * 1000)) +
              (req.tls ? " tls" : ""));
  };
  if (!settings_.tls_listen.empty()) {
    if (Status s = PrepareTls(); !s.ok()) return s;
  }
  if (!settings_.listen.empty()) {  // a jobrunner may have no listener
    std::string host;
    int port;
    if (Status s = SplitHostPort(settings_.listen, &host, &port); !s.ok()) return s;
    server_ = std::make_unique<http::Server>(
        opt, [this](http::Request& req, http::Response& res) { Handle(req, res); });
    if (Status s = server_->Start(host, port); !s.ok()) return s;
    front_->AddListener("http", &server_->stats());
  }
  if (!settings_.tls_listen.empty()) {
    if (Status s = StartTls(opt); !s.ok()) return s;
  }
  if (settings_.role == "front") return Status::Ok();
  background_ = std::thread([this] { BackgroundLoop(); });
  // The API and Notary submit jobs; workers run them.
  const std::string& role = settings_.role;
  if (role == "all" || role == "registry" || role == "jobrunner") runner_->Start();
  return Status::Ok();
}

int App::port() const { return server_ ? server_->port() : 0; }

void App::Stop() {
  {
    std::lock_guard lock(bg_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (server_) server_->Stop();
  if (tls_server_) tls_server_->Stop();
  if (gate_) gate_->StopPulls();  // stores the last pulls while the event hook's target lives
  if (runner_) runner_->Stop();
  if (background_.joinable()) background_.join();
  if (meta_ && settings_.OwnsIndex()) meta_->SetState(kCleanShutdownKey, "1");
}

void App::BackgroundLoop() {
  // A component alone follows the storage backend the registry switches to (the API deletes
  // tags, the jobrunner prunes them: on the backend the registry writes).
  bool follow_storage = settings_.role != "all";
  auto next_purge = std::chrono::steady_clock::now() + settings_.upload_purge_interval;
  std::unique_lock lock(bg_mu_);
  while (!stopping_) {
    auto wake =
        follow_storage
            ? std::min(next_purge, std::chrono::steady_clock::now() + std::chrono::seconds(2))
            : next_purge;
    if (bg_cv_.wait_until(lock, wake, [&] { return stopping_; })) break;
    lock.unlock();
    if (follow_storage) FollowStorage();
    if (std::chrono::steady_clock::now() >= next_purge) {
      next_purge = std::chrono::steady_clock::now() + settings_.upload_purge_interval;
      // Upload sessions live with the registry.
      if (settings_.upload_purging && settings_.OwnsIndex()) {
        size_t n = registry_->PurgeExpiredUploads();
        if (n > 0) log::Info("purged " + std::to_string(n) + " expired upload sessions");
      }
    }
    lock.lock();
  }
}

void App::FollowStorage() {
  auto stored = meta_->GetState(kStorageSettingsKey);
  if (!stored.ok() || !stored->has_value()) return;
  std::lock_guard lock(storage_mu_);
  if (**stored == followed_storage_) return;
  auto next = ApplyStorageJson(settings_, **stored);
  if (!next.ok()) {
    log::Warn("storage settings changed but are unusable here: " + next.status().message());
    followed_storage_ = **stored;
    return;
  }
  auto driver =
      storage::CreateDriver(next->storage_driver, next->storage_params, settings_.data_dir);
  if (!driver.ok()) {
    log::Warn("storage settings changed but the backend cannot be opened here (will retry): " +
              driver.status().message());
    return;
  }
  followed_storage_ = **stored;
  swappable_->Swap(std::move(*driver));
  settings_.storage_driver = next->storage_driver;
  settings_.storage_params = next->storage_params;
  log::Info("storage switched to " + settings_.storage_driver + ", as the registry did");
}

App::Component App::ComponentOf(const http::Request& req) {
  // Notary's endpoints live under /v2/ but are not the registry's.
  if (notary::IsTrustPath(req.path)) return Component::kNotary;
  if (req.path == "/v2" || req.path.rfind("/v2/", 0) == 0) return Component::kRegistry;
  // The storage backend is the registry's: it switches it (and the others follow).
  if (req.path.rfind("/api/v0/admin/settings/registry", 0) == 0) return Component::kRegistry;
  return Component::kApi;
}

bool App::Serves(Component c) const {
  const std::string& role = settings_.role;
  if (role == "all") return true;
  switch (c) {
    case Component::kRegistry:
      return role == "registry";
    case Component::kNotary:
      return role == "notary";
    case Component::kApi:
      return role == "api";
  }
  return false;
}

void App::Handle(http::Request& req, http::Response& res) {
  proxy::NormalizeForwarding(req, trusted_proxies_, front_secret_);
  auto in_flight = front_->Track(req);
  if (front_->Handle(req, res)) return;  // health, /ca, /metrics, /nginx_status
  Component component = ComponentOf(req);
  if (settings_.role == "front") {
    proxy::Forwarder* to = component == Component::kRegistry ? to_registry_.get()
                           : component == Component::kNotary ? to_notary_.get()
                                                             : to_api_.get();
    proxy::AddFrontFields(req, front_secret_);  // the components believe what the front says
    to->Forward(req, res);
    return;
  }
  if (!Serves(component)) {
    const char* name = component == Component::kRegistry ? "registry"
                       : component == Component::kNotary ? "notary"
                                                         : "api";
    registry::WriteError(res, 404, "NOT_FOUND",
                         req.path + " belongs to the " + name + " component; this process runs " +
                             settings_.role + " (dtr front routes each path to its component)");
    return;
  }
  if (trust_ && component == Component::kNotary) {
    trust_->Handle(req, res);
    return;
  }
  bool v2 = component == Component::kRegistry && req.path.rfind("/v2", 0) == 0;
  if (auth_enabled() && tokens_->Handle(req, res)) return;
  access::Principal who;
  if (auth_enabled()) {
    auto authenticated = authn_->Authenticate(req);
    if (!authenticated.ok()) {
      if (v2) res.headers.Set("Docker-Distribution-Api-Version", "registry/2.0");
      if (authenticated.status().is(Code::kResourceExhausted)) {
        registry::WriteError(res, 429, registry::oci::kTooManyRequests,
                             authenticated.status().message());
      } else if (v2) {
        gate_->Challenge(req, res, "", false, authenticated.status().message());
      } else {
        res.headers.Set("WWW-Authenticate", "Basic realm=\"dtr\"");
        registry::WriteError(res, 401, "NOT_AUTHENTICATED", authenticated.status().message());
      }
      return;
    }
    who = std::move(authenticated.value());
  } else {
    // Without authentication every caller acts as a system administrator (local use only):
    // the real `admin` account when there is one, so what records the caller (org
    // membership, API tokens, events) names an account that exists.
    who.account = none_admin_;
    who.method = "none";
  }
  if (v2) {
    res.headers.Set("Docker-Distribution-Api-Version", "registry/2.0");
    registry::RouteInfo route = registry::ClassifyRequest(req);
    if (!gate_->Before(req, res, who, route)) return;
    api_->Handle(req, res, [&](const std::string& repo) { return gate_->CanList(who, repo); });
    gate_->After(req, res, who, route);
    return;
  }
  // The API reads what pulls recorded (events, pull counts): let it see every pull answered
  // before this request.
  gate_->FlushPulls();
  if (jobs_api_->Handle(req, res, who)) return;
  if (automation_->Handle(req, res, who)) return;  // before the general /api/v0 routes
  if (dtr_api_->Handle(req, res, who)) return;
  registry::WriteError(res, 404, "NOT_FOUND", "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace dtr::app
