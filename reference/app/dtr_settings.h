// DTR's runtime settings (GET/POST /api/v0/meta/settings): the subset the reference acts
// on, persisted as JSON and shared by every component. Reads are lock-free snapshots;
// updates replace the snapshot. Kept in the ConfigStore (dtr-etcd's role: SQLite beside the
// metadata, or a real etcd shared by replicas) and watched there, so a change made through
// any replica reaches every other one without a restart.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "config/config_store.h"
#include "core/status.h"
#include "meta/meta_store.h"

namespace dtr::app {

struct DtrSettings {
  std::string dtr_host;  // host[:port] clients use; GUN prefix and token realm default
  bool create_repository_on_push = false;
  bool read_only_registry = false;
  bool job_history_compaction_enabled = false;
  int64_t job_history_to_keep = 100;
  std::string job_history_max_age = "720h";
  bool repo_event_history_compaction_enabled = false;
  int64_t repo_event_history_to_keep = 1000;
  std::string repo_event_history_max_age = "720h";
  bool scanning_enabled = false;
  bool client_cert_auth_enabled = false;

  void ToJson(nlohmann::json* j) const;
  // Applies the fields present in `j` (a partial update); errors name the bad field.
  Status Apply(const nlohmann::json& j);
};

class SettingsStore {
 public:
  // Settings in the metadata store's state table (one process; tests).
  explicit SettingsStore(meta::MetaStore* meta) : meta_(meta) {}
  // Settings under the key "dtr/settings" of a ConfigStore, which must outlive this. Load
  // starts a watch. `legacy` (may be null) is where settings were kept before: read once
  // when the config store has none yet.
  SettingsStore(config::ConfigStore* store, meta::MetaStore* legacy)
      : meta_(legacy), store_(store) {}
  ~SettingsStore();
  SettingsStore(const SettingsStore&) = delete;
  SettingsStore& operator=(const SettingsStore&) = delete;
  Status Load();
  std::shared_ptr<const DtrSettings> Get() const { return std::atomic_load(&current_); }
  // Validates and persists a partial update; returns the new settings.
  Result<std::shared_ptr<const DtrSettings>> Update(const nlohmann::json& patch);

 private:
  Result<std::shared_ptr<const DtrSettings>> UpdateInStore(const nlohmann::json& patch);
  // Parses stored JSON into a snapshot and publishes it.
  Status Publish(const std::string& text);

  meta::MetaStore* meta_;
  config::ConfigStore* store_ = nullptr;
  std::unique_ptr<config::ConfigWatch> watch_;
  std::mutex write_mu_;
  std::shared_ptr<const DtrSettings> current_ = std::make_shared<DtrSettings>();
};

}  // namespace dtr::app
