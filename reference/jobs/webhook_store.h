// WebhookStore: webhook subscriptions ({type, key, endpoint, TLS settings}) in the metadata
// database. `key` scopes a subscription: "ns/repo" (one repository), "ns" (a namespace) or ""
// (everything; system administrators only).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "meta/sqlite_db.h"

namespace dtr::jobs {

struct Webhook {
  std::string id;
  std::string type;  // TAG_PUSH, REPO_EVENT, ...
  std::string key;
  std::string endpoint;
  std::string author_id;
  int64_t created_at = 0;          // unix milliseconds
  int64_t last_successful_at = 0;  // unix milliseconds; 0: never
  bool inactive = false;
  std::string tls_cert;  // PEM: CA certificate(s) the endpoint's certificate must chain to
  bool skip_tls_verification = false;
};

struct WebhookFilter {
  std::string type;       // empty or "any": all types
  std::string author_id;  // empty: any author
  std::optional<std::string> key;
};

class WebhookStore {
 public:
  static Result<std::unique_ptr<WebhookStore>> Open(meta::SqliteDb* db);

  Status Create(Webhook* w);  // fills id and created_at
  Result<std::optional<Webhook>> Get(const std::string& id);
  Result<std::vector<Webhook>> List(const WebhookFilter& f);  // oldest first
  Status Update(const Webhook& w);                            // inactive and TLS settings
  Result<bool> Delete(const std::string& id);
  Status MarkDelivered(const std::string& id, int64_t at_ms);
  // Active subscriptions of `type` whose key covers `ns`/`name` ("ns/name", "ns" or "");
  // `name` empty: namespace events (keys "ns" and "").
  Result<std::vector<Webhook>> Matching(const std::string& type, const std::string& ns,
                                        const std::string& name);

 private:
  explicit WebhookStore(meta::SqliteDb* db) : db_(db) {}
  meta::SqliteDb* db_;
};

}  // namespace dtr::jobs
