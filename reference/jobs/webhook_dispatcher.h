// WebhookDispatcher: turns what happened in the registry into webhook deliveries. Each
// recorded event (tags and manifests pushed, pulled or deleted; repositories created,
// updated or deleted) becomes the payload of its webhook type, in DTR's envelope
// {"type", "createdAt", "location", "contents"}, and every active subscription of that type
// whose key covers the repository gets one `webhook` job that POSTs it. A failed delivery is
// retried with the jobrunner's backoff (1 s, 2 s, 4 s, ...).
//
// Which events fire what: a manifest PUT by tag fires TAG_PUSH and MANIFEST_PUSH, one by
// digest MANIFEST_PUSH; the same for pulls (TAG_PULL, MANIFEST_PULL); DELETE by tag (API,
// /v2/, tag limit, pruning) fires TAG_DELETE, by digest MANIFEST_DELETE; repository create,
// update and delete fire REPO_EVENT (a namespace-level type).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/runner.h"
#include "jobs/webhook_store.h"
#include "meta/identity_store.h"
#include "registry/registry.h"

namespace dtr::jobs {

namespace webhook_type {
inline constexpr const char* kTagPush = "TAG_PUSH";
inline constexpr const char* kTagPull = "TAG_PULL";
inline constexpr const char* kTagDelete = "TAG_DELETE";
inline constexpr const char* kManifestPush = "MANIFEST_PUSH";
inline constexpr const char* kManifestPull = "MANIFEST_PULL";
inline constexpr const char* kManifestDelete = "MANIFEST_DELETE";
inline constexpr const char* kRepoEvent = "REPO_EVENT";
inline constexpr const char* kScannerUpdateCompleted = "SCANNER_UPDATE_COMPLETED";
}  // namespace webhook_type

// Repository types take a key "ns/repo" (or "ns": every repository of the namespace),
// namespace types a key "ns", the global type no key. An empty key (system administrators
// only) subscribes to every repository or namespace.
enum class WebhookScope { kRepository, kNamespace, kGlobal };
std::optional<WebhookScope> WebhookTypeScope(const std::string& type);
const std::vector<std::string>& WebhookTypes();

struct WebhookOptions {
  int64_t retries = 5;         // failed deliveries are retried this many times
  int64_t timeout_ms = 10000;  // for connecting, sending and reading, each
};

class WebhookDispatcher {
 public:
  // `registry_host` gives DTR's host[:port] for imageName ("" leaves it out).
  WebhookDispatcher(WebhookStore* store, Runner* runner, registry::Registry* registry,
                    std::function<std::string()> registry_host, WebhookOptions options = {})
      : store_(store),
        runner_(runner),
        registry_(registry),
        registry_host_(std::move(registry_host)),
        options_(options) {}

  WebhookStore& store() { return *store_; }
  WebhookOptions options() const;
  void set_options(WebhookOptions o);

  // Called with each recorded event (by the /v2/ gate, the API and the tag pruner).
  void OnEvent(const meta::Event& e);

  // Queues one delivery per active subscription of `type` covering `ns`/`name` (`name`
  // empty: a namespace event); `contents` is built only when there is one. Returns how many.
  size_t Notify(const std::string& type, const std::string& ns, const std::string& name,
                const std::function<nlohmann::json()>& contents, int64_t at_ms,
                const std::string& location = "");

  // The `webhook` job action: parameters {webhookID, payload, timeoutMs}.
  Status Deliver(JobContext& ctx);

  static nlohmann::json Envelope(const std::string& type, const nlohmann::json& contents,
                                 int64_t at_ms, const std::string& location = "");
  // The fixed example contents POST /api/v0/webhooks/test sends for `type`.
  static nlohmann::json SampleContents(const std::string& type);

 private:
  struct ImageFacts {
    std::string os, architecture;
  };
  ImageFacts FactsOf(const std::string& digest);
  std::string ImageName(const std::string& repo, const std::string& ref, bool digest) const;

  WebhookStore* store_;
  Runner* runner_;
  registry::Registry* registry_;
  std::function<std::string()> registry_host_;
  mutable std::mutex mu_;
  WebhookOptions options_;
};

}  // namespace dtr::jobs
