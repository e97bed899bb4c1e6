#include "app/storage_settings.h"

#include <nlohmann/json.hpp>

#include <random>

namespace dtr::app {

using json = nlohmann::json;

bool IsSecretStorageParam(const std::string& key) {
  static const char* const kSecrets[] = {"secretkey",          "accountkey", "password",
                                         "sessiontoken",       "secret",     "apikey",
                                         "tempurlcontainerkey"};
  for (const char* k : kSecrets) {
    if (key == k) return true;
  }
  return false;
}

namespace {

std::string Hours(std::chrono::seconds s) {
  if (s.count() % 3600 == 0) return std::to_string(s.count() / 3600) + "h";
  return std::to_string(s.count()) + "s";
}

}  // namespace

std::string StorageSettingsJson(const Settings& s, bool redact) {
  json params = json::object();
  for (const auto& [k, v] : s.storage_params) {
    params[k] = redact && IsSecretStorageParam(k) && !v.empty() ? std::string(kRedacted) : v;
  }
  if (s.storage_driver == "filesystem") params["rootdirectory"] = s.FilesystemRoot();
  json storage = {{"delete", {{"enabled", s.delete_enabled}}},
                  {"maintenance",
                   {{"readonly", {{"enabled", s.read_only}}},
                    {"uploadpurging",
                     {{"enabled", s.upload_purging},
                      {"age", Hours(s.upload_purge_age)},
                      {"interval", Hours(s.upload_purge_interval)}}}}},
                  {s.storage_driver, params}};
  return json{{"storage", storage}}.dump();
}

Result<Settings> ApplyStorageJson(const Settings& current, const std::string& json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("storage") ||
      !doc["storage"].is_object()) {
    return InvalidArgument("expected {\"storage\": {\"<driver>\": {...}}}");
  }
  json& storage = doc["storage"];
  for (auto it = storage.begin(); it != storage.end(); ++it) {
    if (!it.value().is_object()) continue;
    for (auto p = it.value().begin(); p != it.value().end(); ++p) {
      if (!p.value().is_string() || p.value().get<std::string>() != kRedacted) continue;
      auto stored = current.storage_params.find(p.key());
      if (it.key() != current.storage_driver || stored == current.storage_params.end()) {
        return InvalidArgument("storage." + it.key() + "." + p.key() + " is \"" + kRedacted +
                               "\" but no value is stored for it: send the secret itself");
      }
      p.value() = stored->second;
    }
  }
  Settings next = current;
  next.storage_driver.clear();
  next.storage_params.clear();
  if (Status s = ApplyYaml(doc.dump(), &next); !s.ok()) return s;
  if (next.storage_driver.empty()) {
    return InvalidArgument(
        "storage names no driver (filesystem, nfs, s3, cleversafe, swift or azure)");
  }
  return next;
}

Status ProbeDriver(storage::BlobDriver* driver) {
  std::random_device rd;
  std::string path = "/dtr-storage-probe/" + std::to_string(rd()) + std::to_string(rd());
  const std::string content = "dtr storage probe";
  if (Status s = driver->PutContent(path, content); !s.ok()) {
    return Status(s.code(), "the new storage refused a write: " + s.message());
  }
  auto got = driver->GetContent(path);
  Status cleanup = driver->Delete("/dtr-storage-probe");
  if (!got.ok())
    return Status(got.status().code(), "the new storage refused a read: " + got.status().message());
  if (*got != content) {
    return Status(Code::kUnavailable, "the new storage returned other bytes than were written");
  }
  if (!cleanup.ok() && !cleanup.is(Code::kNotFound)) {
    return Status(cleanup.code(), "the new storage refused a delete: " + cleanup.message());
  }
  return Status::Ok();
}

SwappableDriver::SwappableDriver(std::unique_ptr<storage::BlobDriver> initial)
    : current_(std::move(initial)) {}

void SwappableDriver::Swap(std::unique_ptr<storage::BlobDriver> next) {
  std::lock_guard lock(mu_);
  retired_.push_back(std::atomic_load(&current_));
  std::atomic_store(&current_, std::shared_ptr<storage::BlobDriver>(std::move(next)));
}

std::shared_ptr<storage::BlobDriver> SwappableDriver::current() const {
  return std::atomic_load(&current_);  // every storage call: no lock
}

}  // namespace dtr::app
