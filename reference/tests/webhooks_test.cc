// Webhooks in process, delivered to real HTTP(S) receivers on 127.0.0.1 that the tests start:
// subscriptions and their permission rules, TAG_PUSH (and friends) after a push through the
// registry with DTR's payload, retries with backoff, TLS with a custom CA or none, timeouts,
// the test endpoint, and bad input.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <httplib.h>

#include <atomic>
#include <mutex>

#include <nlohmann/json.hpp>

#include "jobs/repo_automation.h"
#include "tests/automation_fixture.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

struct Delivery {
  std::string path;
  std::string content_type;
  std::string user_agent;
  json body;
};

// An HTTP(S) server on 127.0.0.1 that records the JSON POSTed to it. It can answer 500 to
// the first `fail_first` requests and wait `delay_ms` before answering.
class Receiver {
 public:
  explicit Receiver(std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>())
      : server_(std::move(server)) {
    server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      int n = ++requests_;
      if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
      if (n <= fail_first_) {
        res.status = 500;
        res.set_content("not yet", "text/plain");
        return;
      }
      std::lock_guard lock(mu_);
      received_.push_back(Delivery{req.path, req.get_header_value("Content-Type"),
                                   req.get_header_value("User-Agent"),
                                   json::parse(req.body, nullptr, false)});
      res.status = 200;
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    WaitUntil([this] { return server_->is_running(); }, 5000);
  }
  ~Receiver() {
    server_->stop();
    thread_.join();
  }

  std::string Url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + "/hook";
  }
  void FailFirst(int n) { fail_first_ = n; }
  void Delay(int ms) { delay_ms_ = ms; }
  int requests() const { return requests_.load(); }
  std::vector<Delivery> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<Delivery> OfType(const std::string& type) {
    std::vector<Delivery> out;
    for (auto& d : received()) {
      if (d.body.is_object() && d.body.value("type", "") == type) out.push_back(d);
    }
    return out;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0}, fail_first_{0}, delay_ms_{0};
  std::mutex mu_;
  std::vector<Delivery> received_;
};

// A self-signed certificate for IP 127.0.0.1 (its own CA), made for each test run.
class SelfSigned {
 public:
  SelfSigned() {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 4242);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
    const std::pair<int, const char*> exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,digitalSignature,keyCertSign"},
        {NID_subject_alt_name, "IP:127.0.0.1"},
        {NID_subject_key_identifier, "hash"},
    };
    for (const auto& [nid, value] : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      EXPECT_NE(ext, nullptr) << value;
      X509_add_ext(cert_, ext, -1);
      X509_EXTENSION_free(ext);
    }
    EXPECT_GT(X509_sign(cert_, key_, EVP_sha256()), 0);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert_);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    pem_.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  ~SelfSigned() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  const std::string& pem() const { return pem_; }
  std::unique_ptr<httplib::Server> Server() const {
    auto s = std::make_unique<httplib::SSLServer>(cert_, key_);
    EXPECT_TRUE(s->is_valid());
    return s;
  }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  std::string pem_;
};

class WebhooksTest : public AutomationTest {
 protected:
  std::string Subscribe(const std::string& user, const json& body) {
    auto r = Call(user, "POST", "/api/v0/webhooks", body);
    EXPECT_EQ(r.status, 201) << body << " -> " << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : "";
  }
  json Hook(const std::string& id) {
    return json::parse(Call("root", "GET", "/api/v0/webhooks/" + id).body);
  }
  static std::vector<std::string> Ids(const Reply& r) {
    std::vector<std::string> ids;
    for (const auto& h : json::parse(r.body)) ids.push_back(h["id"]);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
};

TEST_F(WebhooksTest, SubscriptionsAndWhoMayManageThem) {
  AddRepo("alice", "app");
  AddRepo("alice", "pub", "public");
  const std::string url = "http://127.0.0.1:9/hook";  // never called here
  EXPECT_EQ(Call("", "GET", "/api/v0/webhooks").status, 401);

  auto created = Call("alice", "POST", "/api/v0/webhooks",
                      json{{"type", "TAG_PUSH"}, {"key", "alice/app"}, {"endpoint", url}});
  ASSERT_EQ(created.status, 201) << created.body;
  json h = json::parse(created.body);
  std::string app_hook = h["id"];
  EXPECT_EQ(h["type"], "TAG_PUSH");
  EXPECT_EQ(h["key"], "alice/app");
  EXPECT_EQ(h["endpoint"], url);
  EXPECT_EQ(h["authorID"], alice_id);
  EXPECT_EQ(h["inactive"], false);
  EXPECT_EQ(h["tlsCert"], "");
  EXPECT_EQ(h["skipTLSVerification"], false);
  EXPECT_EQ(h["lastSuccessfulAt"], "0001-01-01T00:00:00Z");
  EXPECT_NE(h["createdAt"], "0001-01-01T00:00:00Z");

  // A repository type may also be scoped to a whole namespace; REPO_EVENT only to one.
  std::string ns_hook =
      Subscribe("alice", {{"type", "TAG_DELETE"}, {"key", "alice"}, {"endpoint", url}});
  std::string repo_event =
      Subscribe("alice", {{"type", "REPO_EVENT"}, {"key", "alice"}, {"endpoint", url}});
  auto repo_key = Call("alice", "POST", "/api/v0/webhooks",
                       json{{"type", "REPO_EVENT"}, {"key", "alice/app"}, {"endpoint", url}});
  EXPECT_EQ(repo_key.status, 400);
  EXPECT_NE(ErrorMessage(repo_key).find("namespace event"), std::string::npos);

  // bob: alice/app is invisible to him (404), alice/pub readable but not his to administer
  // (403), alice's namespace neither (403), and he must name a key.
  auto hidden = Call("bob", "POST", "/api/v0/webhooks",
                     json{{"type", "TAG_PUSH"}, {"key", "alice/app"}, {"endpoint", url}});
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(ErrorCode(hidden), "NO_SUCH_REPOSITORY");
  auto readonly = Call("bob", "POST", "/api/v0/webhooks",
                       json{{"type", "TAG_PUSH"}, {"key", "alice/pub"}, {"endpoint", url}});
  EXPECT_EQ(readonly.status, 403);
  EXPECT_EQ(ErrorCode(readonly), "NOT_AUTHORIZED");
  EXPECT_EQ(Call("bob", "POST", "/api/v0/webhooks",
                 json{{"type", "REPO_EVENT"}, {"key", "eng"}, {"endpoint", url}})
                .status,
            403);
  auto keyless =
      Call("bob", "POST", "/api/v0/webhooks", json{{"type", "TAG_PUSH"}, {"endpoint", url}});
  EXPECT_EQ(keyless.status, 400);
  EXPECT_NE(ErrorMessage(keyless).find("key is required"), std::string::npos);
  std::string bob_hook =
      Subscribe("bob", {{"type", "TAG_PULL"}, {"key", "bob"}, {"endpoint", url}});

  // System administrators: anything, with or without a key; only they get the global type.
  std::string all_hook = Subscribe("root", {{"type", "TAG_PUSH"}, {"endpoint", url}});
  EXPECT_EQ(Call("alice", "POST", "/api/v0/webhooks",
                 json{{"type", "SCANNER_UPDATE_COMPLETED"}, {"endpoint", url}})
                .status,
            403);
  EXPECT_EQ(Call("root", "POST", "/api/v0/webhooks",
                 json{{"type", "SCANNER_UPDATE_COMPLETED"}, {"key", "alice"}, {"endpoint", url}})
                .status,
            400);
  std::string scanner =
      Subscribe("root", {{"type", "SCANNER_UPDATE_COMPLETED"}, {"endpoint", url}});
  auto missing = Call("root", "POST", "/api/v0/webhooks",
                      json{{"type", "TAG_PUSH"}, {"key", "alice/nothing"}, {"endpoint", url}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "NO_SUCH_REPOSITORY");
  auto no_ns = Call("root", "POST", "/api/v0/webhooks",
                    json{{"type", "REPO_EVENT"}, {"key", "nobody"}, {"endpoint", url}});
  EXPECT_EQ(no_ns.status, 404);
  EXPECT_EQ(ErrorCode(no_ns), "NO_SUCH_ACCOUNT");

  // Listings: a user sees their own, an administrator everything; per resource for its admins.
  EXPECT_EQ(Ids(Call("alice", "GET", "/api/v0/webhooks")), Sorted({app_hook, ns_hook, repo_event}));
  EXPECT_EQ(Ids(Call("alice", "GET", "/api/v0/webhooks?webhookType=TAG_PUSH")),
            std::vector<std::string>{app_hook});
  EXPECT_EQ(Ids(Call("bob", "GET", "/api/v0/webhooks")), std::vector<std::string>{bob_hook});
  EXPECT_EQ(Ids(Call("root", "GET", "/api/v0/webhooks?webhookType=any")),
            Sorted({app_hook, ns_hook, repo_event, bob_hook, all_hook, scanner}));
  EXPECT_EQ(Call("alice", "GET", "/api/v0/webhooks?webhookType=PUSH").status, 400);
  EXPECT_EQ(Ids(Call("alice", "GET", "/api/v0/repositories/alice/app/webhooks")),
            std::vector<std::string>{app_hook});
  EXPECT_EQ(Call("bob", "GET", "/api/v0/repositories/alice/app/webhooks").status, 404);
  EXPECT_EQ(Call("alice", "GET", "/api/v0/repositories/alice/app/webhooks?webhookType=PUSH").status,
            400);
  EXPECT_EQ(Call("alice", "GET", "/api/v0/accounts/alice/webhooks?webhookType=PUSH").status, 400);
  EXPECT_EQ(Ids(Call("alice", "GET", "/api/v0/accounts/alice/webhooks")),
            Sorted({ns_hook, repo_event}));
  EXPECT_EQ(Call("bob", "GET", "/api/v0/accounts/alice/webhooks").status, 403);

  // Update: {id, inactive, tlsCert, skipTLSVerification} -> [Webhook].
  auto upd = Call("alice", "POST", "/api/v0/webhooks/update",
                  json{{"id", app_hook}, {"inactive", true}, {"skipTLSVerification", true}});
  ASSERT_EQ(upd.status, 200) << upd.body;
  json updated = json::parse(upd.body);
  ASSERT_TRUE(updated.is_array());
  EXPECT_EQ(updated[0]["inactive"], true);
  EXPECT_EQ(updated[0]["skipTLSVerification"], true);
  EXPECT_EQ(Hook(app_hook)["inactive"], true);
  EXPECT_EQ(
      Call("bob", "POST", "/api/v0/webhooks/update", json{{"id", app_hook}, {"inactive", false}})
          .status,
      404);
  EXPECT_EQ(Call("alice", "POST", "/api/v0/webhooks/update", json{{"inactive", false}}).status,
            400);
  auto unknown = Call("alice", "POST", "/api/v0/webhooks/update", json{{"id", "nope"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorCode(unknown), "NO_SUCH_WEBHOOK");

  // Delete: bob cannot see alice's; alice can; then it is gone.
  EXPECT_EQ(Call("bob", "DELETE", "/api/v0/webhooks/" + app_hook).status, 404);
  EXPECT_EQ(Call("alice", "DELETE", "/api/v0/webhooks/" + app_hook).status, 204);
  EXPECT_EQ(Call("alice", "DELETE", "/api/v0/webhooks/" + app_hook).status, 404);
  EXPECT_EQ(Call("root", "DELETE", "/api/v0/webhooks/" + bob_hook).status, 204);
  EXPECT_EQ(Call("alice", "PUT", "/api/v0/webhooks").status, 405);
}

TEST_F(WebhooksTest, BadInputGetsClear400s) {
  AddRepo("alice", "app");
  auto expect400 = [&](const std::string& target, const std::string& body,
                       const std::string& words) {
    auto r = Call("alice", "POST", target, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_NE(ErrorMessage(r).find(words), std::string::npos) << body << " -> " << r.body;
  };
  const std::string hooks = "/api/v0/webhooks";
  expect400(hooks, "{", "JSON object");
  expect400(hooks, R"({"type":"TAG_PUSHED","key":"alice/app","endpoint":"http://127.0.0.1/"})",
            "type must be one of");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"alice/app"})", "endpoint is required");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"ftp://127.0.0.1/"})",
            "http:// or https://");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"http:///x"})", "host");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"http://h:99999/"})", "port");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"http://h/a b"})", "spaces");
  expect400(hooks,
            R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"https://h/","tlsCert":"junk"})",
            "PEM certificates");
  expect400(
      hooks,
      R"({"type":"TAG_PUSH","key":"alice/app","endpoint":"https://h/","skipTLSVerification":"yes"})",
      "skipTLSVerification must be true or false");
  expect400(hooks, R"({"type":"TAG_PUSH","key":"a/b/c","endpoint":"http://h/"})",
            "namespace or namespace/repository");
  expect400(hooks, R"({"type":7,"endpoint":"http://h/"})", "type must be a string");
  expect400(hooks + "/test", R"({"type":"NOPE","endpoint":"http://127.0.0.1/"})",
            "type must be one of");
  expect400(hooks + "/test", R"({"type":"TAG_PUSH","endpoint":"gopher://x"})", "http://");
}

TEST_F(WebhooksTest, PushPullAndDeleteThroughTheRegistryDeliverPayloads) {
  AddRepo("alice", "app");
  AddRepo("alice", "other");
  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"dtrHost", "dtr.example.com"}}).ok());
  Receiver rx;
  std::string push_hook =
      Subscribe("alice", {{"type", "TAG_PUSH"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  Subscribe("alice", {{"type", "MANIFEST_PUSH"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  Subscribe("alice", {{"type", "TAG_PULL"}, {"key", "alice"}, {"endpoint", rx.Url()}});
  Subscribe("alice", {{"type", "TAG_DELETE"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  Subscribe("alice", {{"type", "MANIFEST_DELETE"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  // Not delivered: another repository's, and an inactive one.
  Subscribe("alice", {{"type", "TAG_PUSH"}, {"key", "alice/other"}, {"endpoint", rx.Url()}});
  std::string off =
      Subscribe("alice", {{"type", "TAG_PUSH"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  ASSERT_EQ(Call("alice", "POST", "/api/v0/webhooks/update", json{{"id", off}, {"inactive", true}})
                .status,
            200);
  reg.app().runner().Start();

  int64_t before = jobs::NowMs();
  std::string digest = PushImage("alice", "alice/app", "v1", "layer");
  ASSERT_TRUE(WaitUntil(
      [&] { return rx.OfType("TAG_PUSH").size() >= 1 && rx.OfType("MANIFEST_PUSH").size() >= 1; }));
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("webhook", 2); }));
  auto pushes = rx.OfType("TAG_PUSH");
  ASSERT_EQ(pushes.size(), 1u);  // not the inactive one
  const Delivery& d = pushes[0];
  EXPECT_EQ(d.path, "/hook");
  EXPECT_EQ(d.content_type, "application/json");
  EXPECT_EQ(d.user_agent, "dtr-reference-webhook/1");
  ASSERT_TRUE(d.body.is_object());
  auto created = jobs::ParseRfc3339Ms(d.body["createdAt"].get<std::string>());
  ASSERT_TRUE(created.ok());
  EXPECT_GE(*created, before - 1000);
  EXPECT_EQ(d.body["location"], "/repositories/alice/app/tags/v1");
  const json& c = d.body["contents"];
  EXPECT_EQ(c["namespace"], "alice");
  EXPECT_EQ(c["repository"], "app");
  EXPECT_EQ(c["tag"], "v1");
  EXPECT_EQ(c["digest"], digest);
  EXPECT_EQ(c["imageName"], "dtr.example.com/alice/app:v1");
  EXPECT_EQ(c["os"], "linux");
  EXPECT_EQ(c["architecture"], "amd64");
  EXPECT_EQ(c["author"], "alice");
  EXPECT_EQ(c["pushedAt"], d.body["createdAt"]);
  json m = rx.OfType("MANIFEST_PUSH")[0].body["contents"];
  EXPECT_EQ(m["imageName"], "dtr.example.com/alice/app@" + digest);
  EXPECT_EQ(m["digest"], digest);
  EXPECT_FALSE(m.contains("tag"));
  EXPECT_NE(Hook(push_hook)["lastSuccessfulAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(Hook(off)["lastSuccessfulAt"], "0001-01-01T00:00:00Z");

  // A pull: the namespace-wide TAG_PULL subscription hears it.
  ASSERT_EQ(reg.Do("GET", "/v2/alice/app/manifests/v1", "", {Basic("alice")}).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return rx.OfType("TAG_PULL").size() == 1; }));
  json pull = rx.OfType("TAG_PULL")[0].body["contents"];
  EXPECT_EQ(pull["tag"], "v1");
  EXPECT_EQ(pull["author"], "alice");
  EXPECT_TRUE(pull.contains("pulledAt"));

  ASSERT_EQ(reg.Do("DELETE", "/v2/alice/app/manifests/v1", "", {Basic("alice")}).status, 202);
  ASSERT_TRUE(WaitUntil([&] { return rx.OfType("TAG_DELETE").size() == 1; }));
  json del = rx.OfType("TAG_DELETE")[0].body["contents"];
  EXPECT_EQ(del["tag"], "v1");
  EXPECT_TRUE(del.contains("deletedAt"));
  ASSERT_EQ(reg.Do("DELETE", "/v2/alice/app/manifests/" + digest, "", {Basic("alice")}).status,
            202);
  ASSERT_TRUE(WaitUntil([&] { return rx.OfType("MANIFEST_DELETE").size() == 1; }));
  EXPECT_EQ(rx.OfType("MANIFEST_DELETE")[0].body["contents"]["digest"], digest);
  EXPECT_EQ(rx.OfType("TAG_PUSH").size(), 1u);
}

TEST_F(WebhooksTest, FailedDeliveriesAreRetriedWithBackoff) {
  AddRepo("alice", "app");
  Receiver rx;
  rx.FailFirst(2);
  std::string id =
      Subscribe("alice", {{"type", "TAG_PUSH"}, {"key", "alice/app"}, {"endpoint", rx.Url()}});
  reg.app().runner().Start();
  PushImage("alice", "alice/app", "v1", "layer");
  ASSERT_TRUE(WaitUntil([&] { return rx.received().size() == 1; }, 20000));
  EXPECT_EQ(rx.requests(), 3);
  ASSERT_TRUE(WaitUntil([&] { return JobsFinished("webhook", 3); }));
  auto jobs = JobsOf("webhook");
  ASSERT_EQ(jobs.size(), 3u);
  // Newest first: the second retry succeeded, the first attempt and first retry failed.
  EXPECT_EQ(jobs[0].status, "done");
  EXPECT_EQ(jobs[1].status, "errored");
  EXPECT_EQ(jobs[2].status, "errored");
  EXPECT_EQ(jobs[0].retry_from_id, jobs[1].id);
  EXPECT_EQ(jobs[1].retry_from_id, jobs[2].id);
  EXPECT_GE(jobs[0].scheduled_at - jobs[2].scheduled_at, 3000);  // 1 s, then 2 s
  auto logs = reg.app().runner().store()->Logs(jobs[2].id, 0, 0);
  ASSERT_TRUE(logs.ok() && !logs->empty());
  EXPECT_NE(logs->back().second.find("answered 500"), std::string::npos) << logs->back().second;
  EXPECT_NE(Hook(id)["lastSuccessfulAt"], "0001-01-01T00:00:00Z");
}

TEST_F(WebhooksTest, TlsWithACustomCaOrSkipVerification) {
  AddRepo("alice", "app");
  SelfSigned cert;
  Receiver rx(cert.Server());
  auto test = [&](const json& extra) {
    json body = {{"type", "TAG_PUSH"}, {"endpoint", rx.Url("https")}};
    body.update(extra);
    return Call("alice", "POST", "/api/v0/webhooks/test", body);
  };
  auto trusted = test({{"tlsCert", cert.pem()}});
  EXPECT_EQ(trusted.status, 202) << trusted.body;
  ASSERT_EQ(rx.received().size(), 1u);
  EXPECT_EQ(rx.received()[0].body["type"], "TAG_PUSH");
  EXPECT_EQ(rx.received()[0].body["contents"]["imageName"], "example.com/foo/bar:latest");

  auto untrusted = test(json::object());
  EXPECT_EQ(untrusted.status, 502) << untrusted.body;
  EXPECT_EQ(ErrorCode(untrusted), "WEBHOOK_DELIVERY_FAILED");
  EXPECT_NE(ErrorMessage(untrusted).find("certificate"), std::string::npos) << untrusted.body;
  EXPECT_EQ(test({{"skipTLSVerification", true}}).status, 202);
  EXPECT_EQ(rx.received().size(), 2u);

  // A real delivery job over TLS, trusting the custom CA.
  std::string id = Subscribe("alice", {{"type", "TAG_PUSH"},
                                       {"key", "alice/app"},
                                       {"endpoint", rx.Url("https")},
                                       {"tlsCert", cert.pem()}});
  EXPECT_EQ(Hook(id)["tlsCert"], cert.pem());
  reg.app().runner().Start();
  PushImage("alice", "alice/app", "v1", "layer");
  ASSERT_TRUE(WaitUntil([&] { return rx.received().size() == 3; }));
  EXPECT_EQ(rx.received()[2].body["contents"]["tag"], "v1");
}

TEST_F(WebhooksTest, ADeliveryThatTakesTooLongTimesOut) {
  Receiver rx;
  rx.Delay(3000);
  reg.app().automation().webhooks().set_options(jobs::WebhookOptions{0, 300});
  auto start = std::chrono::steady_clock::now();
  auto r = Call("alice", "POST", "/api/v0/webhooks/test",
                json{{"type", "TAG_PUSH"}, {"endpoint", rx.Url()}});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_EQ(rx.received().size(), 0u);
}

TEST_F(WebhooksTest, TagLimitEvictionsAndNewRepositoriesAreEventsToo) {
  AddRepo("alice", "limited", "private", /*tag_limit=*/1);
  ASSERT_TRUE(reg.app().dtr_settings().Update(json{{"createRepositoryOnPush", true}}).ok());
  Receiver rx;
  Subscribe("alice", {{"type", "TAG_DELETE"}, {"key", "alice/limited"}, {"endpoint", rx.Url()}});
  Subscribe("alice", {{"type", "REPO_EVENT"}, {"key", "alice"}, {"endpoint", rx.Url()}});
  reg.app().runner().Start();
  PushImage("alice", "alice/limited", "a", "1");
  PushImage("alice", "alice/limited", "b", "2");  // evicts a (same second: by name)
  ASSERT_TRUE(WaitUntil([&] { return rx.OfType("TAG_DELETE").size() == 1; }));
  json evicted = rx.OfType("TAG_DELETE")[0].body["contents"];
  EXPECT_EQ(evicted["tag"], "a");
  EXPECT_EQ(evicted["author"], "tag limit");
  EXPECT_FALSE(evicted["digest"].get<std::string>().empty());

  PushImage("alice", "alice/fresh", "v1", "3");  // created on push
  ASSERT_TRUE(WaitUntil([&] { return rx.OfType("REPO_EVENT").size() == 1; }));
  json repo = rx.OfType("REPO_EVENT")[0].body["contents"];
  EXPECT_EQ(repo["event"], "REPO_CREATED");
  EXPECT_EQ(repo["namespace"], "alice");
  EXPECT_EQ(repo["repository"], "fresh");
  EXPECT_EQ(repo["author"], "alice");
}

}  // namespace
}  // namespace dtr::testing
