#include "api/api_test_util.h"

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <ostream>

#include "auth/password.h"
#include "core/digest.h"

namespace dtr::api::testing {

namespace {

template <class T>
T Must(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(r.value());
}

void Must(const Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message());
}

}  // namespace

json Reply::Json() const { return json::parse(body, nullptr, false); }

std::string Reply::Code() const {
  json j = Json();
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty()) {
    return "";
  }
  return j["errors"][0].value("code", "");
}

std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << r.status << " " << r.body;
}

ApiFixture::ApiFixture() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "dtr-api-test-XXXXXX").string();
  dir_ = mkdtemp(tmpl.data());
  meta_ = Must(meta::SqliteMetaStore::Open(dir_ + "/meta.db"));
  identity_ = Must(meta::SqliteIdentityStore::Open(&meta_->db()));
  driver_ = std::make_unique<storage::FilesystemDriver>(dir_ + "/storage");
  registry_ =
      std::make_unique<registry::Registry>(driver_.get(), meta_.get(), registry::RegistryOptions{});
  policy_ = std::make_unique<access::Policy>(identity_.get());
  settings_ = std::make_unique<app::SettingsStore>(meta_.get());
  Must(settings_->Load());
  ApiDeps deps;
  deps.identity = identity_.get();
  deps.meta = meta_.get();
  deps.registry = registry_.get();
  deps.policy = policy_.get();
  deps.settings = settings_.get();
  deps.on_event = [this](const meta::Event& e) { seen_events_.push_back(e); };
  deps.password_iterations = 1000;
  api_ = std::make_unique<ApiServer>(std::move(deps));
  CreateUser("admin", true);
}

ApiFixture::~ApiFixture() {
  api_.reset();
  registry_.reset();
  identity_.reset();
  meta_.reset();
  std::filesystem::remove_all(dir_);
}

access::Principal ApiFixture::As(const std::string& name) {
  access::Principal p;
  p.account = Must(identity_->GetAccount(name));
  if (!p.account) throw std::runtime_error("no account " + name);
  p.method = "password";
  return p;
}

meta::Account ApiFixture::CreateUser(const std::string& name, bool admin) {
  meta::Account a;
  a.name = name;
  a.full_name = "User " + name;
  a.is_admin = admin;
  a.password_hash = auth::HashPassword(Password(name), 1000);
  Must(identity_->CreateAccount(&a));
  Secret(a.password_hash);
  Secret(Password(name));
  return a;
}

meta::Account ApiFixture::CreateOrg(const std::string& name) {
  meta::Account a;
  a.name = name;
  a.is_org = true;
  Must(identity_->CreateAccount(&a));
  return a;
}

meta::Team ApiFixture::CreateTeam(const std::string& org, const std::string& team) {
  auto o = Must(identity_->GetAccount(org));
  meta::Team t;
  t.org_id = o->id;
  t.name = team;
  Must(identity_->CreateTeam(&t));
  return t;
}

void ApiFixture::AddToOrg(const std::string& org, const std::string& user, bool admin) {
  auto o = Must(identity_->GetAccount(org));
  auto u = Must(identity_->GetAccount(user));
  Must(identity_->SetOrgMember({o->id, u->id, admin, false}));
}

void ApiFixture::AddToTeam(const std::string& org, const std::string& team,
                           const std::string& user) {
  auto o = Must(identity_->GetAccount(org));
  auto u = Must(identity_->GetAccount(user));
  auto t = Must(identity_->GetTeam(o->id, team));
  if (!Must(identity_->GetOrgMember(o->id, u->id))) AddToOrg(org, user);
  Must(identity_->SetTeamMember(t->id, {o->id, u->id, false, false}));
}

meta::Repository ApiFixture::CreateRepo(const std::string& ns, const std::string& name,
                                        const std::string& visibility) {
  meta::Repository r;
  r.namespace_name = ns;
  r.name = name;
  r.visibility = visibility;
  Must(identity_->CreateRepository(&r));
  return r;
}

void ApiFixture::GrantRepo(const std::string& org, const std::string& team, const std::string& repo,
                           meta::AccessLevel level) {
  auto o = Must(identity_->GetAccount(org));
  auto t = Must(identity_->GetTeam(o->id, team));
  Must(identity_->SetRepoGrant({t->id, repo, level}));
}

void ApiFixture::GrantNamespace(const std::string& org, const std::string& team,
                                const std::string& ns, meta::AccessLevel level) {
  auto o = Must(identity_->GetAccount(org));
  auto t = Must(identity_->GetTeam(o->id, team));
  Must(identity_->SetNamespaceGrant({t->id, ns, level}));
}

namespace {

void PushBlob(registry::Registry& reg, const std::string& repo, const std::string& content) {
  auto upload = Must(reg.StartUpload(repo));
  size_t pos = 0;
  registry::ReadFn read = [&](char* buf, size_t n, std::string*) -> ssize_t {
    size_t k = std::min(n, content.size() - pos);
    std::memcpy(buf, content.data() + pos, k);
    pos += k;
    return static_cast<ssize_t>(k);
  };
  Must(reg.AppendUpload(repo, upload.uuid, std::nullopt, std::nullopt, read));
  Must(reg.CompleteUpload(repo, upload.uuid, ComputeDigest(content)));
}

}  // namespace

std::string ApiFixture::PushImage(const std::string& repo, const std::string& tag,
                                  const std::string& layer) {
  std::string config =
      R"({"architecture":"amd64","os":"linux","author":"Alice <alice@example.com>",)"
      R"("created":"2024-01-02T03:04:05Z","layer":")" +
      ComputeDigest(layer).str() +
      R"(","history":[{"created_by":"ADD layer /"},{"created_by":"CMD [\"sh\"]",)"
      R"("empty_layer":true}]})";
  PushBlob(*registry_, repo, config);
  PushBlob(*registry_, repo, layer);
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      ComputeDigest(config).str() + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
      ComputeDigest(layer).str() + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  auto put = Must(
      registry_->PutManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest));
  return put.digest.str();
}

std::string ApiFixture::PushIndex(const std::string& repo, const std::string& tag,
                                  const std::vector<std::string>& digests_os_arch) {
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests", json::array()}};
  for (size_t i = 0; i + 2 < digests_os_arch.size(); i += 3) {
    auto m = Must(registry_->GetManifest(repo, digests_os_arch[i]));
    index["manifests"].push_back(
        {{"mediaType", m.media_type},
         {"digest", digests_os_arch[i]},
         {"size", m.content->size()},
         {"platform", {{"os", digests_os_arch[i + 1]}, {"architecture", digests_os_arch[i + 2]}}}});
  }
  auto put = Must(
      registry_->PutManifest(repo, tag, "application/vnd.oci.image.index.v1+json", index.dump()));
  return put.digest.str();
}

Reply ApiFixture::Do(const access::Principal& who, const std::string& method,
                     const std::string& target, const std::string& body,
                     std::vector<std::pair<std::string, std::string>> headers) {
  http::Request req;
  req.method = method;
  req.target = target;
  size_t q = target.find('?');
  req.path = http::PercentDecode(target.substr(0, q), false);
  if (q != std::string::npos) {
    req.raw_query = target.substr(q + 1);
    size_t start = 0;
    while (start <= req.raw_query.size()) {
      size_t amp = req.raw_query.find('&', start);
      if (amp == std::string::npos) amp = req.raw_query.size();
      std::string kv = req.raw_query.substr(start, amp - start);
      if (!kv.empty()) {
        size_t eq = kv.find('=');
        req.query.emplace_back(
            http::PercentDecode(kv.substr(0, eq), true),
            eq == std::string::npos ? "" : http::PercentDecode(kv.substr(eq + 1), true));
      }
      start = amp + 1;
    }
  }
  for (auto& [k, v] : headers) req.headers.Add(k, v);
  http::StringBodyReader reader(body);
  req.body = &reader;
  http::Response res;
  bool handled = api_->Handle(req, res, who);
  EXPECT_TRUE(handled) << method << " " << target;
  Reply r{res.status, res.headers, res.body};
  ++replies_checked_;
  for (const auto& s : secrets_) {
    EXPECT_EQ(r.body.find(s), std::string::npos)
        << "secret leaked by " << method << " " << target << ": " << r.body;
  }
  EXPECT_EQ(r.body.find("pbkdf2"), std::string::npos) << method << " " << target;
  if (r.status != 204) {
    EXPECT_FALSE(r.Json().is_discarded()) << method << " " << target << ": " << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/json") << method << " " << target;
  } else {
    EXPECT_TRUE(r.body.empty());
  }
  if (r.status >= 400) {
    EXPECT_FALSE(r.Code().empty()) << method << " " << target << ": " << r.body;
  }
  return r;
}

}  // namespace dtr::api::testing
