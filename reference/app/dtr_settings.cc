#include "app/dtr_settings.h"

#include <nlohmann/json.hpp>

namespace dtr::app {

using nlohmann::json;

namespace {
const char* kKey = "dtr.settings";

template <class T>
Status Field(const json& j, const char* name, T* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::Ok();
  try {
    *out = it->get<T>();
  } catch (const json::exception&) {
    return InvalidArgument(std::string("setting ") + name + " has the wrong type");
  }
  return Status::Ok();
}
}  // namespace

void DtrSettings::ToJson(json* j) const {
  *j = json{{"dtrHost", dtr_host},
            {"createRepositoryOnPush", create_repository_on_push},
            {"readOnlyRegistry", read_only_registry},
            {"jobHistoryCompactionEnabled", job_history_compaction_enabled},
            {"jobHistoryToKeep", job_history_to_keep},
            {"jobHistoryMaxAge", job_history_max_age},
            {"repoEventHistoryCompactionEnabled", repo_event_history_compaction_enabled},
            {"repoEventHistoryToKeep", repo_event_history_to_keep},
            {"repoEventHistoryMaxAge", repo_event_history_max_age},
            {"scanningEnabled", scanning_enabled},
            {"clientCertAuthEnabled", client_cert_auth_enabled}};
}

Status DtrSettings::Apply(const json& j) {
  if (!j.is_object()) return InvalidArgument("settings must be a JSON object");
  Status s;
  if (!(s = Field(j, "dtrHost", &dtr_host)).ok()) return s;
  if (!(s = Field(j, "createRepositoryOnPush", &create_repository_on_push)).ok()) return s;
  if (!(s = Field(j, "readOnlyRegistry", &read_only_registry)).ok()) return s;
  if (!(s = Field(j, "jobHistoryCompactionEnabled", &job_history_compaction_enabled)).ok())
    return s;
  if (!(s = Field(j, "jobHistoryToKeep", &job_history_to_keep)).ok()) return s;
  if (!(s = Field(j, "jobHistoryMaxAge", &job_history_max_age)).ok()) return s;
  if (!(s = Field(j, "repoEventHistoryCompactionEnabled", &repo_event_history_compaction_enabled))
           .ok()) {
    return s;
  }
  if (!(s = Field(j, "repoEventHistoryToKeep", &repo_event_history_to_keep)).ok()) return s;
  if (!(s = Field(j, "repoEventHistoryMaxAge", &repo_event_history_max_age)).ok()) return s;
  if (!(s = Field(j, "scanningEnabled", &scanning_enabled)).ok()) return s;
  if (!(s = Field(j, "clientCertAuthEnabled", &client_cert_auth_enabled)).ok()) return s;
  if (job_history_to_keep < 0 || repo_event_history_to_keep < 0) {
    return InvalidArgument("history sizes must not be negative");
  }
  return Status::Ok();
}

namespace {
const char* kConfigKey = "dtr/settings";
}  // namespace

SettingsStore::~SettingsStore() {
  if (watch_) watch_->Cancel();
}

Status SettingsStore::Publish(const std::string& text) {
  auto s = std::make_shared<DtrSettings>();
  if (!text.empty()) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return Status(Code::kCorruption, "stored settings are not valid JSON");
    if (Status st = s->Apply(j); !st.ok()) return st;
  }
  std::atomic_store(&current_, std::shared_ptr<const DtrSettings>(s));
  return Status::Ok();
}

Status SettingsStore::Load() {
  if (store_ == nullptr) {
    auto stored = meta_->GetState(kKey);
    if (!stored.ok()) return stored.status();
    return Publish(stored->value_or(""));
  }
  auto entry = store_->Get(kConfigKey);
  int64_t version = 0;
  if (entry.ok()) {
    if (Status s = Publish(entry->value); !s.ok()) return s;
    version = entry->version;
  } else if (entry.status().is(Code::kNotFound)) {
    std::string legacy;
    if (meta_ != nullptr) {
      auto stored = meta_->GetState(kKey);
      if (!stored.ok()) return stored.status();
      legacy = stored->value_or("");
    }
    if (Status s = Publish(legacy); !s.ok()) return s;
    if (!legacy.empty()) {
      // Moved into the config store once; a concurrent replica doing the same is fine.
      auto put = store_->CompareAndSwap(kConfigKey, 0, legacy);
      if (!put.ok() && !put.status().is(Code::kFailedPrecondition)) return put.status();
    }
  } else {
    return Status(entry.status().code(),
                  "settings: " + store_->Describe() + ": " + entry.status().message());
  }
  auto watch = store_->Watch(
      kConfigKey, version + 1,
      [this](const config::ConfigChange& c) {
        if (c.key != kConfigKey) return;
        Status s = Publish(c.type == config::ConfigChange::Type::kPut ? c.value : "");
        (void)s;  // a bad value written by hand keeps the last good settings
      },
      nullptr);
  if (!watch.ok()) return watch.status();
  watch_ = std::move(*watch);
  return Status::Ok();
}

Result<std::shared_ptr<const DtrSettings>> SettingsStore::UpdateInStore(const json& patch) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto entry = store_->Get(kConfigKey);
    int64_t version = 0;
    auto next = std::make_shared<DtrSettings>();
    if (entry.ok()) {
      version = entry->version;
      json stored = json::parse(entry->value, nullptr, false);
      if (!stored.is_discarded()) (void)next->Apply(stored);
    } else if (!entry.status().is(Code::kNotFound)) {
      return entry.status();
    }
    if (Status s = next->Apply(patch); !s.ok()) return s;
    json j;
    next->ToJson(&j);
    auto put = store_->CompareAndSwap(kConfigKey, version, j.dump());
    if (put.status().is(Code::kFailedPrecondition)) continue;  // another replica won: again
    if (!put.ok()) return put.status();
    std::shared_ptr<const DtrSettings> out = next;
    std::atomic_store(&current_, out);
    return out;
  }
  return Status(Code::kUnavailable, "settings changed concurrently too often; try again");
}

Result<std::shared_ptr<const DtrSettings>> SettingsStore::Update(const json& patch) {
  std::lock_guard lock(write_mu_);
  if (store_ != nullptr) return UpdateInStore(patch);
  auto next = std::make_shared<DtrSettings>(*Get());
  if (Status s = next->Apply(patch); !s.ok()) return s;
  json j;
  next->ToJson(&j);
  if (Status s = meta_->SetState(kKey, j.dump()); !s.ok()) return s;
  std::shared_ptr<const DtrSettings> out = next;
  std::atomic_store(&current_, out);
  return out;
}

}  // namespace dtr::app
