#include "storage/swift_client.h"

#include <algorithm>

#include "storage/sigv4.h"
#include "storage/swift_json.h"

namespace dtr::storage {

namespace {

// scheme://host[:port] and the path of a URL ("" when it has none).
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t host = url.find("://");
  size_t slash = url.find('/', host == std::string::npos ? 0 : host + 3);
  if (slash == std::string::npos) return {url, ""};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

std::string SwiftErrorDetail(const std::string& body) {
  std::string out;
  bool in_tag = false;
  for (char c : body) {
    if (c == '<') {
      in_tag = true;
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    if (out.size() > 200) break;
  }
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

SwiftClient::SwiftClient(SwiftConfig config) : config_(std::move(config)) {
  auth_http_ = std::make_shared<ObjectHttp>(
      SplitUrl(config_.auth_url).first, HttpOptionsOf(config_, "insecureskipverify"), Describe());
}

std::string SwiftClient::Describe() const {
  return "swift (container \"" + config_.container + "\" at " + config_.auth_url + ")";
}

std::string SwiftClient::ObjectPath(const std::string& object) const {
  return "/" + sigv4::UriEncode(config_.container, true) + "/" + sigv4::UriEncode(object, false);
}

void SwiftClient::InvalidateToken() {
  std::lock_guard lock(mu_);
  session_.token = "stale-token-dtr";
}

Result<HttpReply> SwiftClient::SendAuth(const HttpCall& call, const std::string& check) {
  auto r = auth_http_->Send(call, nullptr);
  if (!r.ok()) return r.status();
  if (r->status >= 200 && r->status < 300) return r;
  Status s = HttpFailure(Describe() + ": " + call.op, *r, SwiftErrorDetail(r->body));
  if (r->status == 401 || r->status == 403) {
    return Status(Code::kUnauthenticated, s.message() + " (check " + check + ")");
  }
  return s;
}

Result<SwiftClient::Session> SwiftClient::AuthenticateV1() {
  HttpCall call{"authenticate (v1)", "GET", SplitUrl(config_.auth_url).second};
  if (call.target.empty()) call.target = "/";
  call.headers = {{"X-Auth-User", config_.username}, {"X-Auth-Key", config_.password}};
  auto r = SendAuth(call, "storage.swift.username and password");
  if (!r.ok()) return r.status();
  Session s;
  s.token = r->Header("X-Auth-Token");
  if (s.token.empty()) s.token = r->Header("X-Storage-Token");
  s.storage_url = r->Header("X-Storage-Url");
  if (s.token.empty() || s.storage_url.empty()) {
    return Status(Code::kIOError, Describe() +
                                      ": authentication answered without X-Auth-Token or "
                                      "X-Storage-Url (is authurl a v1 auth endpoint?)");
  }
  return s;
}

Result<SwiftClient::Session> SwiftClient::AuthenticateV3() {
  std::string body = swiftjson::KeystoneV3Request(config_);
  HttpCall call{"authenticate (Keystone v3)", "POST",
                SplitUrl(config_.auth_url).second + "/auth/tokens"};
  call.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  call.body = body;
  call.max_body = 8u << 20;
  auto r = SendAuth(call, "storage.swift.username, password and domain");
  if (!r.ok()) return r.status();
  Session s;
  s.token = r->Header("X-Subject-Token");
  if (s.token.empty()) {
    return Status(Code::kIOError, Describe() + ": Keystone answered without X-Subject-Token");
  }
  auto token = swiftjson::ParseKeystoneV3(r->body, config_.region, config_.endpoint_type);
  if (!token.ok()) {
    return Status(token.status().code(), Describe() + ": " + token.status().message());
  }
  s.storage_url = token->storage_url;
  return s;
}

Result<SwiftClient::Session> SwiftClient::Authenticate() {
  auto s = config_.auth_version == 3 ? AuthenticateV3() : AuthenticateV1();
  if (!s.ok()) return s;
  while (!s->storage_url.empty() && s->storage_url.back() == '/') s->storage_url.pop_back();
  auto [origin, path] = SplitUrl(s->storage_url);
  if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) {
    return Status(Code::kIOError,
                  Describe() + ": the storage URL '" + s->storage_url + "' is not an http(s) URL");
  }
  s->storage_path = path;
  if (session_.http && session_.http->origin() == origin) {
    s->http = session_.http;
  } else {
    s->http = std::make_shared<ObjectHttp>(origin, HttpOptionsOf(config_, "insecureskipverify"),
                                           Describe());
  }
  s->generation = session_.generation + 1;
  return s;
}

Status SwiftClient::EnsureContainer(const Session& s) {
  SwiftCall head{"HEAD container", "HEAD", ""};
  head.accept = {404};
  auto r = Send(s, head);
  if (!r.ok()) return r.status();
  if (r->status != 404) return Status::Ok();
  SwiftCall put{"PUT container", "PUT", ""};
  auto p = Send(s, put);
  if (!p.ok()) {
    return Status(p.status().code(),
                  p.status().message() + " (the container does not exist and creating it failed)");
  }
  return Status::Ok();
}

Result<SwiftClient::Session> SwiftClient::CurrentSession() {
  std::lock_guard lock(mu_);
  if (session_.token.empty()) {
    auto s = Authenticate();
    if (!s.ok()) return s.status();
    session_ = *s;
  }
  if (!container_ready_) {
    if (Status st = EnsureContainer(session_); !st.ok()) return st;
    container_ready_ = true;
  }
  return session_;
}

Result<SwiftClient::Session> SwiftClient::Reauthenticate(uint64_t stale) {
  std::lock_guard lock(mu_);
  if (session_.generation == stale || session_.token.empty()) {
    auto s = Authenticate();
    if (!s.ok()) return s.status();
    session_ = *s;
  }
  return session_;
}

Result<HttpReply> SwiftClient::Send(const Session& s, const SwiftCall& call) {
  std::string target = s.storage_path + "/" + sigv4::UriEncode(config_.container, true);
  if (!call.name.empty()) target += "/" + sigv4::UriEncode(call.name, false);
  std::string sep = "?";
  for (const auto& [k, v] : call.query) {
    target += sep + sigv4::UriEncode(k, true) + "=" + sigv4::UriEncode(v, true);
    sep = "&";
  }
  HttpCall hc{call.What(), call.method, target};
  hc.headers = call.headers;
  hc.body = call.body;
  hc.idempotent = call.idempotent;
  hc.max_body = call.max_body;
  std::string token = s.token;
  auto r = s.http->Send(
      hc, [&token](const HttpCall&, HttpHeaders& h) { h.emplace_back("X-Auth-Token", token); });
  if (!r.ok()) return r.status();
  return r;
}

Result<HttpReply> SwiftClient::Do(const SwiftCall& call) {
  auto s = CurrentSession();
  if (!s.ok()) return s.status();
  auto r = Send(*s, call);
  if (r.ok() && r->status == 401) {
    // The token expired or was revoked: one new one, one more try.
    s = Reauthenticate(s->generation);
    if (!s.ok()) return s.status();
    r = Send(*s, call);
  }
  if (!r.ok()) return r.status();
  bool accepted = std::find(call.accept.begin(), call.accept.end(), r->status) != call.accept.end();
  if ((r->status >= 200 && r->status < 300) || accepted) return r;
  std::string what = Describe() + ": " + call.What();
  Status f = HttpFailure(what, *r, SwiftErrorDetail(r->body));
  if (r->status == 404 && call.name.empty()) {
    return Status(Code::kFailedPrecondition, f.message() + " (the container is missing)");
  }
  return f;
}

}  // namespace dtr::storage
