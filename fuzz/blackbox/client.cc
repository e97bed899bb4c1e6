#include "client.h"

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace dtr::blackbox {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// key="value" pairs of a challenge after its scheme.
std::map<std::string, std::string> ChallengeParams(const std::string& s) {
  std::map<std::string, std::string> out;
  size_t i = s.find(' ');
  while (i != std::string::npos && i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    size_t eq = s.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = Lower(s.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
      ++i;
    } else {
      while (i < s.size() && s[i] != ',') value += s[i++];
    }
    out[key] = value;
  }
  return out;
}

// The token cache key of a request: its repository, or its path for other endpoints.
std::string CacheKey(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path.rfind("/v2/", 0) != 0) return path;
  for (const char* part : {"/blobs/", "/manifests/", "/tags/", "/_trust/", "/referrers/"}) {
    auto at = path.find(part);
    if (at != std::string::npos) return path.substr(4, at - 4);
  }
  return path;
}

std::string BasicAuth(const Credentials& c) {
  return "Basic " + Base64Encode(c.user + ":" + c.password);
}

}  // namespace

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::optional<Origin> ParseOrigin(const std::string& url, std::string* error) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    *error = "the URL must start with http:// (https is not supported by dtr-fuzz)";
    return std::nullopt;
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && rest.substr(slash) != "/") {
    *error = "the URL must not have a path: give the registry's root";
    return std::nullopt;
  }
  Origin o;
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos || hostport.back() == ']') {
    o.host = hostport;
    o.port = 80;
  } else {
    o.host = hostport.substr(0, colon);
    o.port = std::atoi(hostport.c_str() + colon + 1);
  }
  if (o.host.empty() || o.port <= 0 || o.port > 65535) {
    *error = "cannot read host and port from '" + url + "'";
    return std::nullopt;
  }
  o.text = scheme + o.host + ":" + std::to_string(o.port);
  return o;
}

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Client::Client(Origin origin, int timeout_ms, std::optional<Credentials> creds)
    : origin_(std::move(origin)), timeout_ms_(timeout_ms), creds_(std::move(creds)) {
  std::string host = origin_.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  http_ = std::make_unique<httplib::Client>(host, origin_.port);
  http_->set_url_encode(false);
  http_->set_connection_timeout(timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000);
  http_->set_read_timeout(timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000);
  http_->set_write_timeout(timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000);
}

Client::~Client() = default;

std::string Client::Target(const Step& step, const std::string& location) const {
  std::string path = step.path;
  if (path == "{location}") {
    path = location;
    if (path.rfind(origin_.text, 0) == 0) {
      path = path.substr(origin_.text.size());
    } else if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
      auto slash = path.find('/', path.find("//") + 2);
      path = slash == std::string::npos ? "/" : path.substr(slash);
    }
    if (path.empty()) path = "/";
  }
  if (!step.query.empty()) path += (path.find('?') == std::string::npos ? "?" : "&") + step.query;
  return path;
}

Response Client::Raw(const std::string& method, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& body) {
  httplib::Request req;
  req.method = method;
  req.path = target;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  req.body = body;
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  auto start = std::chrono::steady_clock::now();
  bool ok = http_->send(req, res, err);
  Response out;
  out.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  if (!ok) {
    out.error = httplib::to_string(err);
    out.connect_failed = err == httplib::Error::Connection;
    out.timed_out = (err == httplib::Error::Read || err == httplib::Error::Write ||
                     err == httplib::Error::ConnectionTimeout) &&
                    out.elapsed_ms >= timeout_ms_ - 50;
    return out;
  }
  out.received = true;
  out.status = res.status;
  for (const auto& [k, v] : res.headers) out.headers.emplace(Lower(k), v);
  out.body = std::move(res.body);
  return out;
}

std::optional<std::string> Client::FetchToken(const std::string& challenge) {
  auto params = ChallengeParams(challenge);
  std::string realm = params["realm"];
  if (realm.empty()) return std::nullopt;
  Step step;
  step.method = "GET";
  step.path = "{location}";
  std::string q;
  if (!params["service"].empty()) q = "service=" + UrlEncode(params["service"]);
  if (!params["scope"].empty()) {
    q += std::string(q.empty() ? "" : "&") + "scope=" + UrlEncode(params["scope"]);
  }
  step.query = q;
  // The realm must be this registry's own host: tokens are only fetched on loopback.
  if (realm.rfind("http://", 0) == 0) {
    std::string error;
    auto host_end = realm.find('/', 7);
    auto o = ParseOrigin(realm.substr(0, host_end), &error);
    if (!o || !IsLoopback(o->host) || o->port != origin_.port) return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (creds_) headers.emplace_back("Authorization", BasicAuth(*creds_));
  Response r = Raw("GET", Target(step, realm), headers, "");
  if (!r.received || r.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  for (const char* key : {"token", "access_token"}) {
    if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  }
  return std::nullopt;
}

Response Client::Send(const Step& step, const std::string& location) {
  std::string target = Target(step, location);
  std::string key = step.method + " " + CacheKey(target);
  auto headers = step.headers;
  bool has_auth = false;
  for (const auto& [k, v] : headers) has_auth = has_auth || Lower(k) == "authorization";
  size_t plain = headers.size();
  if (!has_auth) {
    auto cached = tokens_.find(key);
    if (cached != tokens_.end()) headers.emplace_back("Authorization", cached->second);
  }
  Response r = Raw(step.method, target, headers, step.body);
  if (has_auth || !r.received || r.status != 401) return r;
  std::string challenge = r.Header("www-authenticate");
  std::string scheme = Lower(challenge.substr(0, challenge.find(' ')));
  std::string authorization;
  if (scheme == "bearer") {
    auto token = FetchToken(challenge);
    if (!token) return r;
    authorization = "Bearer " + *token;
  } else if (scheme == "basic" && creds_) {
    authorization = BasicAuth(*creds_);
  } else {
    return r;
  }
  headers.resize(plain);
  headers.emplace_back("Authorization", authorization);
  tokens_[key] = authorization;
  return Raw(step.method, target, headers, step.body);
}

}  // namespace dtr::blackbox
