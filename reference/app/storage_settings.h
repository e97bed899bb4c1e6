// The storage backend as a setting that can change while the registry runs: DTR's
// `PUT /api/v0/admin/settings/registry/simple` takes the storage section of distribution's
// config.yml as JSON, checks the new backend with a probe, and switches to it without a
// restart. The accepted section is kept in the metadata store and used on later starts
// (it overrides the config file's storage section, as DTR's stored settings do).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/settings.h"
#include "storage/blob_driver.h"

namespace dtr::app {

// Parameter names whose values are secrets: never shown, never logged.
bool IsSecretStorageParam(const std::string& key);
inline constexpr const char* kRedacted = "<redacted>";

// {"storage": {"delete": {...}, "maintenance": {...}, "<driver>": {params}}}; secrets are
// replaced by kRedacted when `redact`.
std::string StorageSettingsJson(const Settings& s, bool redact);

// Applies a {"storage": ...} JSON document on top of `current`: the driver and its
// parameters are replaced (a secret sent back as kRedacted keeps its current value when
// the driver is the same); delete and maintenance follow when present.
Result<Settings> ApplyStorageJson(const Settings& current, const std::string& json_text);

// Writes, reads back and deletes a small probe object: a backend that cannot do that is
// refused before anything switches to it.
Status ProbeDriver(storage::BlobDriver* driver);

// A BlobDriver whose backend can be replaced while requests run. Readers and writers opened
// before a switch keep working against the old backend, which is kept alive for them.
class SwappableDriver : public storage::BlobDriver {
 public:
  explicit SwappableDriver(std::unique_ptr<storage::BlobDriver> initial);
  void Swap(std::unique_ptr<storage::BlobDriver> next);

  std::string name() const override { return current()->name(); }
  Result<std::string> GetContent(const std::string& path) override {
    return current()->GetContent(path);
  }
  Status PutContent(const std::string& path, std::string_view content) override {
    return current()->PutContent(path, content);
  }
  Result<std::unique_ptr<storage::FileReader>> Reader(const std::string& path,
                                                      uint64_t offset) override {
    return current()->Reader(path, offset);
  }
  Result<std::unique_ptr<storage::FileWriter>> Writer(const std::string& path,
                                                      bool append) override {
    return current()->Writer(path, append);
  }
  Result<storage::FileInfo> Stat(const std::string& path) override { return current()->Stat(path); }
  Result<std::vector<std::string>> List(const std::string& path) override {
    return current()->List(path);
  }
  Status Move(const std::string& from, const std::string& to) override {
    return current()->Move(from, to);
  }
  Status Delete(const std::string& path) override { return current()->Delete(path); }
  Status Walk(const std::string& path,
              const std::function<Status(const storage::FileInfo&)>& visit) override {
    return current()->Walk(path, visit);
  }
  Result<std::string> URLFor(const std::string& path, std::string_view method,
                             std::chrono::seconds expires) override {
    return current()->URLFor(path, method, expires);
  }

 private:
  std::shared_ptr<storage::BlobDriver> current() const;

  std::mutex mu_;                                 // Swap against Swap
  std::shared_ptr<storage::BlobDriver> current_;  // read and replaced atomically
  // Earlier backends: readers, writers and calls in flight may still use them.
  std::vector<std::shared_ptr<storage::BlobDriver>> retired_;
};

}  // namespace dtr::app
