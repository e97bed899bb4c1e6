// A token-auth reference instance with users, repositories and helpers to push images and
// call /api/v0 as them, for the tag pruning and webhook tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/base64.h"
#include "auth/password.h"
#include "jobs/job_store.h"
#include "tests/test_registry.h"

namespace dtr::testing {

inline bool WaitUntil(const std::function<bool()>& cond, int ms = 15000) {
  for (int i = 0; i < ms / 20; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

class AutomationTest : public ::testing::Test {
 protected:
  static app::Settings TokenAuth() {
    app::Settings s;
    s.auth = "token";
    return s;
  }

  AutomationTest() : reg(TokenAuth()) {
    alice_id = AddUser("alice", false);
    bob_id = AddUser("bob", false);
    AddUser("root", true);
    meta::Account org;
    org.name = "eng";
    org.is_org = true;
    EXPECT_TRUE(reg.app().identity().CreateAccount(&org).ok());
  }

  std::string AddUser(const std::string& name, bool admin) {
    meta::Account a;
    a.name = name;
    a.is_admin = admin;
    a.password_hash = auth::HashPassword("pw-" + name, 1000);
    EXPECT_TRUE(reg.app().identity().CreateAccount(&a).ok());
    return a.id;
  }

  void AddRepo(const std::string& ns, const std::string& name,
               const std::string& visibility = "private", int64_t tag_limit = 0) {
    meta::Repository r;
    r.namespace_name = ns;
    r.name = name;
    r.visibility = visibility;
    r.tag_limit = tag_limit;
    ASSERT_TRUE(reg.app().identity().CreateRepository(&r).ok());
    ASSERT_TRUE(reg.app().registry().meta()->EnsureRepository(ns + "/" + name).ok());
  }

  static std::pair<std::string, std::string> Basic(const std::string& user) {
    return {"Authorization", "Basic " + auth::Base64Encode(user + ":pw-" + user)};
  }

  // A call as `user` ("" for anonymous).
  Reply Call(const std::string& user, const std::string& method, const std::string& target,
             const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!user.empty()) h.push_back(Basic(user));
    if (!body.empty()) h.push_back({"Content-Type", "application/json"});
    return reg.Do(method, target, body, h);
  }
  Reply Call(const std::string& user, const std::string& method, const std::string& target,
             const nlohmann::json& body) {
    return Call(user, method, target, body.dump());
  }
  Reply Call(const std::string& user, const std::string& method, const std::string& target,
             const char* body) {
    return Call(user, method, target, std::string(body));
  }

  // Pushes a one-layer linux/amd64 image as `user`; returns the manifest's digest.
  std::string PushImage(const std::string& user, const std::string& repo, const std::string& tag,
                        const std::string& layer) {
    std::string config =
        R"({"architecture":"amd64","os":"linux","layer":")" + DigestOf(layer) + "\"}";
    for (const std::string& blob : {config, layer}) {
      auto r = reg.Do("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + DigestOf(blob), blob,
                      {Basic(user)});
      EXPECT_EQ(r.status, 201) << r.body;
    }
    std::string m = ImageManifest(config, {layer});
    auto r = reg.Do("PUT", "/v2/" + repo + "/manifests/" + tag, m,
                    {Basic(user), {"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return DigestOf(m);
  }

  std::vector<std::string> Tags(const std::string& repo) {
    auto t = reg.app().registry().ListTags(repo, "", 0);
    return t.ok() ? *t : std::vector<std::string>{};
  }

  std::vector<jobs::Job> JobsOf(const std::string& action) {
    jobs::JobFilter f;
    f.action = action;
    f.limit = 0;
    auto j = reg.app().runner().store()->List(f);
    return j.ok() ? *j : std::vector<jobs::Job>{};
  }

  // True once every job of `action` has finished and at least `n` exist.
  bool JobsFinished(const std::string& action, size_t n) {
    auto jobs = JobsOf(action);
    if (jobs.size() < n) return false;
    for (const auto& j : jobs) {
      if (j.status == jobs::status::kWaiting || j.status == jobs::status::kRunning) return false;
    }
    return true;
  }

  static std::string ErrorCode(const Reply& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || j["errors"].empty()) return "<none>";
    return j["errors"][0].value("code", "<none>");
  }
  static std::string ErrorMessage(const Reply& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || j["errors"].empty()) return "";
    return j["errors"][0].value("message", "");
  }

  TestRegistry reg;
  std::string alice_id, bob_id;
};

}  // namespace dtr::testing
