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

Status SettingsStore::Load() {
  auto stored = meta_->GetState(kKey);
  if (!stored.ok()) return stored.status();
  auto s = std::make_shared<DtrSettings>();
  if (stored->has_value()) {
    json j = json::parse(**stored, nullptr, false);
    if (j.is_discarded()) return Status(Code::kCorruption, "stored settings are not valid JSON");
    if (Status st = s->Apply(j); !st.ok()) return st;
  }
  std::atomic_store(&current_, std::shared_ptr<const DtrSettings>(s));
  return Status::Ok();
}

Result<std::shared_ptr<const DtrSettings>> SettingsStore::Update(const json& patch) {
  std::lock_guard lock(write_mu_);
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
