// ApiFixture: an ApiServer on real stores (SQLite in a temporary directory, a filesystem
// registry), driven in process with Principals the test builds. Every reply is checked for
// secrets: no password, password hash or (after its creation reply) API token may appear.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/policy.h"
#include "api/api_server.h"
#include "app/dtr_settings.h"
#include "meta/sqlite_identity_store.h"
#include "meta/sqlite_meta_store.h"
#include "registry/registry.h"
#include "storage/filesystem_driver.h"

namespace dtr::api::testing {

using nlohmann::json;

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;
  json Json() const;
  std::string Code() const;  // errors[0].code, or "" when there is none
  std::string Header(const std::string& name) const { return headers.GetOr(name); }
};

std::ostream& operator<<(std::ostream& os, const Reply& r);

class ApiFixture : public ::testing::Test {
 protected:
  ApiFixture();
  ~ApiFixture() override;

  // Principals.
  access::Principal Anonymous() const { return {}; }
  access::Principal As(const std::string& name);  // reloads the account

  // Setup straight through the stores (not under test here).
  meta::Account CreateUser(const std::string& name, bool admin = false);
  meta::Account CreateOrg(const std::string& name);
  meta::Team CreateTeam(const std::string& org, const std::string& team);
  void AddToOrg(const std::string& org, const std::string& user, bool admin = false);
  void AddToTeam(const std::string& org, const std::string& team, const std::string& user);
  meta::Repository CreateRepo(const std::string& ns, const std::string& name,
                              const std::string& visibility = "private");
  void GrantRepo(const std::string& org, const std::string& team, const std::string& repo,
                 meta::AccessLevel level);
  void GrantNamespace(const std::string& org, const std::string& team, const std::string& ns,
                      meta::AccessLevel level);
  // Pushes a config, one layer and an OCI image manifest under `tag`; returns its digest.
  std::string PushImage(const std::string& repo, const std::string& tag, const std::string& layer);
  std::string PushIndex(const std::string& repo, const std::string& tag,
                        const std::vector<std::string>& digests_os_arch);
  static std::string Password(const std::string& user) { return "secret-pw-" + user; }

  Reply Do(const access::Principal& who, const std::string& method, const std::string& target,
           const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {});
  Reply Get(const access::Principal& who, const std::string& target) {
    return Do(who, "GET", target);
  }
  // Marks a string that must not appear in any later reply.
  void Secret(const std::string& s) { secrets_.push_back(s); }

  std::string dir_;
  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::unique_ptr<meta::SqliteIdentityStore> identity_;
  std::unique_ptr<storage::FilesystemDriver> driver_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<access::Policy> policy_;
  std::unique_ptr<app::SettingsStore> settings_;
  std::unique_ptr<ApiServer> api_;
  std::vector<meta::Event> seen_events_;  // from ApiDeps::on_event
  size_t replies_checked_ = 0;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace dtr::api::testing
