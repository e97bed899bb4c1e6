#include "app/app.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

#include "app/log.h"
#include "jobs/gc.h"
#include "auth/password.h"
#include "core/names.h"
#include "storage/filesystem_driver.h"

namespace dtr::app {

namespace {

const char* kCleanShutdownKey = "registry.clean_shutdown";

void RenderProtocolError(int status, const std::string& message, http::Response& res) {
  registry::WriteError(res, status, status == 413 || status == 431 ? "SIZE_INVALID" : "UNSUPPORTED",
                       message);
  res.status = status;
}

}  // namespace

Result<std::unique_ptr<App>> App::Open(const Settings& settings) {
  std::unique_ptr<App> app(new App);
  app->settings_ = settings;
  using storage::MakeDirs;
  if (Status s = MakeDirs(settings.data_dir); !s.ok()) return s;
  if (settings.storage_driver == "filesystem") {
    std::string root = settings.FilesystemRoot();
    if (Status s = storage::MakeDirs(root); !s.ok()) return s;
    app->driver_ = std::make_unique<storage::FilesystemDriver>(root);
  } else {
    return Status(Code::kUnsupported, "storage driver '" + settings.storage_driver +
                                          "' is not available in this build");
  }
  auto meta = meta::SqliteMetaStore::Open(settings.data_dir + "/meta.db");
  if (!meta.ok()) return meta.status();
  app->meta_ = std::move(meta.value());

  registry::RegistryOptions ro;
  ro.delete_enabled = settings.delete_enabled;
  ro.read_only = settings.read_only;
  ro.upload_expiry = settings.upload_purge_age;
  app->registry_ = std::make_unique<registry::Registry>(app->driver_.get(), app->meta_.get(), ro);
  app->api_ = std::make_unique<registry::RegistryApi>(app->registry_.get());

  auto clean = app->meta_->GetState(kCleanShutdownKey);
  if (!clean.ok()) return clean.status();
  if (!clean->has_value() || **clean != "1") {
    log::Info(clean->has_value() ? "previous run did not shut down cleanly; rebuilding the index"
                                 : "new metadata index; indexing storage");
    size_t repos, manifests, tags;
    if (Status s = app->registry_->Reindex(&repos, &manifests, &tags); !s.ok()) return s;
    log::Info("indexed " + std::to_string(repos) + " repositories, " + std::to_string(manifests) +
              " manifests, " + std::to_string(tags) + " tags");
  }
  if (Status s = app->meta_->SetState(kCleanShutdownKey, "0"); !s.ok()) return s;

  auto identity = meta::SqliteIdentityStore::Open(&app->meta_->db());
  if (!identity.ok()) return identity.status();
  app->identity_ = std::move(identity.value());
  app->dtr_settings_ = std::make_unique<SettingsStore>(app->meta_.get());
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
  app->runner_ = std::make_unique<jobs::Runner>(app->job_store_.get(), ro_jobs);
  app->RegisterJobActions();
  App* self = app.get();
  app->jobs_api_ = std::make_unique<jobs::JobsApi>(app->runner_.get(),
                                                   [self] { return self->GcLockHolder(); });
  if (Status s = app->BootstrapAdmin(); !s.ok()) return s;
  if (Status s = app->AdoptRepositories(); !s.ok()) return s;
  return app;
}

App::~App() { Stop(); }

std::string App::GcLockHolder() {
  std::lock_guard lock(gc_mu_);
  return gc_holder_;
}

void App::RegisterJobActions() {
  auto gc = [this](bool untagged) {
    return [this, untagged](jobs::JobContext& ctx) -> Status {
      std::unique_lock lock(gc_mu_, std::try_to_lock);
      if (!lock.owns_lock()) {
        return Status(Code::kFailedPrecondition, "another garbage collection is running");
      }
      gc_holder_ = ctx.job().id;
      jobs::GcOptions opt;
      opt.delete_untagged = untagged;
      if (auto g = ctx.params().find("grace"); g != ctx.params().end() && g->is_string()) {
        auto ms = jobs::ParseDurationMs(g->get<std::string>());
        if (!ms.ok()) return ms.status();
        opt.grace = std::chrono::seconds(*ms / 1000);
      }
      opt.dry_run = ctx.params().value("dryRun", false);
      opt.log = [&ctx](const std::string& line) { ctx.Log(line); };
      opt.cancelled = [&ctx] { return ctx.cancelled(); };
      auto report = jobs::RunGarbageCollection(*registry_, opt);
      gc_holder_.clear();
      return report.ok() ? Status::Ok() : report.status();
    };
  };
  runner_->Register("onlinegc", gc(true));
  runner_->Register("gc", gc(true));
  runner_->Register("onlinegc_blobs", gc(false));
  runner_->Register("onlinegc_joblogs", [this](jobs::JobContext& ctx) -> Status {
    auto s = dtr_settings_->Get();
    auto age = jobs::ParseDurationMs(s->job_history_max_age);
    int64_t keep = ctx.params().value("keep", s->job_history_to_keep);
    auto removed = job_store_->CompactHistory(keep, age.ok() ? *age : int64_t{30} * 86400000);
    if (!removed.ok()) return removed.status();
    ctx.Log("removed " + std::to_string(*removed) + " finished jobs and their logs");
    return Status::Ok();
  });
  runner_->Register("sleep", [](jobs::JobContext& ctx) -> Status {
    int64_t seconds = ctx.params().value("seconds", int64_t{60});
    for (int64_t i = 0; i < seconds * 10 && !ctx.cancelled(); ++i) {
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

Status App::Start() {
  std::string host;
  int port;
  if (Status s = SplitHostPort(settings_.listen, &host, &port); !s.ok()) return s;
  http::ServerOptions opt;
  opt.workers = settings_.workers;
  opt.error_renderer = RenderProtocolError;
  if (settings_.access_log && log::Enabled(log::Level::kInfo)) {
    opt.on_complete = [](const http::Request& req, const http::Response& res, uint64_t in,
                         uint64_t out, double secs) {
      // The target can carry query parameters but never credentials; headers are not logged.
      log::Info("access " + req.remote_addr + " \"" + req.method + " " + req.path + "\" " +
                std::to_string(res.status) + " in=" + std::to_string(in) +
                " out=" + std::to_string(out) + " ms=" + std::to_string(int(secs * 1000)));
    };
  }
  server_ = std::make_unique<http::Server>(
      opt, [this](http::Request& req, http::Response& res) { Handle(req, res); });
  if (Status s = server_->Start(host, port); !s.ok()) return s;
  background_ = std::thread([this] { BackgroundLoop(); });
  runner_->Start();
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
  if (runner_) runner_->Stop();
  if (background_.joinable()) background_.join();
  if (meta_) meta_->SetState(kCleanShutdownKey, "1");
}

void App::BackgroundLoop() {
  std::unique_lock lock(bg_mu_);
  while (!stopping_) {
    if (bg_cv_.wait_for(lock, settings_.upload_purge_interval, [&] { return stopping_; })) break;
    if (!settings_.upload_purging) continue;
    lock.unlock();
    size_t n = registry_->PurgeExpiredUploads();
    if (n > 0) log::Info("purged " + std::to_string(n) + " expired upload sessions");
    lock.lock();
  }
}

void App::Handle(http::Request& req, http::Response& res) {
  bool v2 = req.path == "/v2" || req.path.rfind("/v2/", 0) == 0;
  if (v2 && !auth_enabled()) {
    api_->Handle(req, res);
    return;
  }
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
    // Without authentication every caller acts as a system administrator (local use only).
    who.account = meta::Account{"", "admin", "", false, true, true, "", 0};
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
  if (jobs_api_->Handle(req, res, who)) return;
  if (req.path == "/_ping" || req.path == "/health" || req.path == "/load_balancer_status") {
    auto st = driver_->Stat("/");
    bool healthy = st.ok();
    nlohmann::json body = {{"Error", healthy ? "" : "storage: " + st.status().message()},
                           {"Healthy", healthy}};
    res.status = healthy ? 200 : 503;
    res.headers.Set("Content-Type", "application/json");
    res.body = body.dump();
    return;
  }
  registry::WriteError(res, 404, "NOT_FOUND", "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace dtr::app
