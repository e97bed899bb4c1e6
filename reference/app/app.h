// The assembled reference: storage driver, metadata store, registry and HTTP front, wired
// from Settings. `dtr serve` is App::Open + Start; tests and fuzzers call Handle directly.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "access/authenticator.h"
#include "access/policy.h"
#include "access/registry_gate.h"
#include "access/token_service.h"
#include "api/api_server.h"
#include "app/dtr_settings.h"
#include "app/settings.h"
#include "app/storage_settings.h"
#include "auth/signing_key.h"
#include "http/message.h"
#include "http/server.h"
#include "jobs/job_store.h"
#include "jobs/jobs_api.h"
#include "jobs/repo_automation.h"
#include "jobs/runner.h"
#include "meta/sqlite_identity_store.h"
#include "meta/sqlite_meta_store.h"
#include "notary/server/sqlite_trust_store.h"
#include "notary/server/trust_auth.h"
#include "notary/server/trust_server.h"
#include "notary/signer/local_signer.h"
#include "notary/signer/remote_signer.h"
#include "proxy/ca.h"
#include "proxy/forwarder.h"
#include "proxy/forwarding.h"
#include "proxy/front.h"
#include "registry/api.h"
#include "registry/registry.h"
#include "storage/blob_driver.h"

namespace dtr::app {

class App {
 public:
  // Opens storage and the metadata store; rebuilds the index when the last run did not
  // shut down cleanly (or the index is new).
  static Result<std::unique_ptr<App>> Open(const Settings& settings);
  ~App();

  Status Start();  // listens on settings.listen (and settings.tls_listen for HTTPS)
  void Stop();     // graceful: finishes requests, marks the index clean
  int port() const;
  int tls_port() const;  // 0 without a TLS listener
  // Re-reads the TLS certificate and key (SIGHUP; changed files are also noticed alone).
  Status ReloadTls();

  // The front router: every request of every component goes through here.
  void Handle(http::Request& req, http::Response& res);

  registry::Registry& registry() { return *registry_; }
  meta::IdentityStore& identity() { return *identity_; }
  SettingsStore& dtr_settings() { return *dtr_settings_; }
  access::TokenService& tokens() { return *tokens_; }
  bool auth_enabled() const { return settings_.auth != "none"; }
  jobs::Runner& runner() { return *runner_; }
  jobs::RepoAutomation& automation() { return *automation_; }
  // Content trust data (Notary): DTR's tag APIs ask it for SignedTargets / HasTrustData.
  notary::TrustStore& trust_store() { return *trust_store_; }
  proxy::Front& front() { return *front_; }
  const proxy::CertificateAuthority& ca() const { return *ca_; }

 private:
  App() = default;
  // Which component a request belongs to, and whether this process runs it (Settings::role).
  enum class Component { kRegistry, kNotary, kApi };
  static Component ComponentOf(const http::Request& req);
  bool Serves(Component c) const;
  void BackgroundLoop();
  void FollowStorage();
  Status OpenUpstreams();
  Status BootstrapAdmin();
  Status AdoptRepositories();
  Status OpenFront();
  Status OpenTrust();
  void OpenApi();
  Status OpenConfigStore();
  Status PutStorage(const std::string& json_text);
  Status PrepareTls();
  Status StartTls(const http::ServerOptions& base);
  void RegisterJobActions();
  std::string GcLockHolder();
  void SetGcHolder(const std::string& job_id);

  Settings settings_;
  // The front outlives the driver, which counts storage errors into its metrics.
  std::unique_ptr<proxy::CertificateAuthority> ca_;
  std::unique_ptr<proxy::Front> front_;
  std::unique_ptr<storage::BlobDriver> driver_;
  SwappableDriver* swappable_ = nullptr;  // inside driver_: the backend can change
  std::mutex storage_mu_;                 // settings_'s storage fields, PutStorage
  std::string followed_storage_;          // the stored storage settings last applied
  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<registry::RegistryApi> api_;
  std::unique_ptr<meta::SqliteIdentityStore> identity_;
  std::unique_ptr<config::ConfigStore> config_store_;  // before dtr_settings_: it watches it
  std::unique_ptr<SettingsStore> dtr_settings_;
  std::unique_ptr<auth::SigningKey> signing_key_;
  std::unique_ptr<access::Policy> policy_;
  std::unique_ptr<access::Authenticator> authn_;
  std::unique_ptr<access::TokenService> tokens_;
  std::unique_ptr<access::RegistryGate> gate_;
  std::unique_ptr<jobs::JobStore> job_store_;
  std::unique_ptr<jobs::Runner> runner_;
  std::unique_ptr<jobs::JobsApi> jobs_api_;
  std::unique_ptr<jobs::RepoAutomation> automation_;  // pruning, tag limits, webhooks
  std::unique_ptr<tuf::CryptoService> signer_;        // in process, or a remote notary-signer
  std::unique_ptr<notary::SqliteTrustStore> trust_store_;
  std::unique_ptr<notary::AccessTrustAuthorizer> trust_auth_;
  std::unique_ptr<notary::TrustServer> trust_;
  std::unique_ptr<api::ApiServer> dtr_api_;
  proxy::TrustedProxies trusted_proxies_;  // whose X-Forwarded-* fields are believed
  std::string front_secret_;               // shared by the front and the components of one data dir
  meta::Account none_admin_;  // who every caller is with --auth none  // /api/v0 and /enzi/v0
  std::mutex gc_mu_;          // one garbage collection at a time, held while it runs
  std::mutex gc_holder_mu_;
  std::string gc_holder_;  // the job id of the running collection; under gc_holder_mu_
  // `dtr front`: where each component listens.
  std::unique_ptr<proxy::Forwarder> to_registry_, to_api_, to_notary_;
  std::unique_ptr<http::Server> server_;
  std::shared_ptr<http::TlsContext> tls_;
  std::unique_ptr<http::Server> tls_server_;
  std::thread background_;
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ = false;
};

}  // namespace dtr::app
