// A reference instance in a temporary directory, driven in process (no sockets) for tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app/app.h"
#include "core/digest.h"
#include "http/message.h"

namespace dtr::testing {

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;
  std::string Header(const std::string& name) const { return headers.GetOr(name); }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dtr-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Settings for a registry without authentication (the OCI tests); auth tests ask for
// "token" explicitly.
inline app::Settings NoAuth() {
  app::Settings s;
  s.auth = "none";
  return s;
}

class TestRegistry {
 public:
  explicit TestRegistry(app::Settings settings = NoAuth()) {
    settings.data_dir = dir_.path() + "/data";
    settings.access_log = false;
    settings_ = settings;
    Reopen();
  }
  void Reopen() {
    app_.reset();
    auto a = app::App::Open(settings_);
    if (!a.ok()) throw std::runtime_error(a.status().message());
    app_ = std::move(a.value());
  }
  // Drops the App without a clean shutdown, as a crash would: its destructor (which marks
  // the index clean) runs only when this TestRegistry goes, after the test has reopened.
  void Crash() { crashed_.push_back(std::move(app_)); }

  Reply Do(const std::string& method, const std::string& target, const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {}, bool chunked = false);

  app::App& app() { return *app_; }
  const std::string& root() const { return dir_.path(); }
  std::string storage_root() const { return settings_.data_dir + "/storage"; }

  // Helpers for common flows; each asserts nothing and returns the final reply.
  Reply PushBlob(const std::string& repo, const std::string& content);
  Reply PushManifest(const std::string& repo, const std::string& ref, const std::string& type,
                     const std::string& content);
  // Pushes a config + one layer and an image manifest; returns the manifest JSON.
  std::string PushImage(const std::string& repo, const std::string& tag,
                        const std::string& layer_content, const std::string& extra_json = "");

 private:
  TempDir dir_;
  app::Settings settings_;
  std::vector<std::unique_ptr<app::App>> crashed_;  // destroyed after app_, before dir_
  std::unique_ptr<app::App> app_;
};

std::string ImageManifest(
    const std::string& config, const std::vector<std::string>& layers,
    const std::string& extra_json = "",
    const std::string& media_type = "application/vnd.oci.image.manifest.v1+json");

inline std::string DigestOf(const std::string& s) { return ComputeDigest(s).str(); }

}  // namespace dtr::testing
