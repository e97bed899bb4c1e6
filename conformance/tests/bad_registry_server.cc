// A tiny in-memory OCI registry for the suite's own tests: conforming by default, with one
// switch per deviation (--deviate NAME), plus modes that are no registry at all (--mode
// hang|garbage|html|html200), over TLS (--tls CERT KEY) or behind auth (--auth basic|bearer|
// bearer-anonymous: the token flow with JWTs). Beside /v2/ it serves just enough of DTR's
// /api/v0 and /enzi/v0 for the `api` group. It prints "PORT <n>" on stdout once it listens on
// 127.0.0.1 and runs until killed.
//
// It exists to prove dtr-conformance can fail: conformance_fails_test runs the suite
// against each deviation and expects exactly the cases that deviation breaks to fail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth.h"
#include "digest.h"

namespace {

using dtrc::digest_like;
using dtrc::is_valid_digest;
using dtrc::sha256_digest;
using nlohmann::json;

struct Config {
  std::string mode = "registry";
  int die_after = 0;  // --die-after N: the process exits at request N (a registry crash)
  std::set<std::string> deviations;
  std::string auth;  // "", basic, bearer, bearer-anonymous
  std::string cert, key;
  bool deviate(const std::string& d) const { return deviations.count(d) > 0; }
};

const char* kUser = "alice";
const char* kPassword = "s3cret";

struct Manifest {
  std::string body, media_type;
};

struct Upload {
  std::string repo, data;
};

struct Store {
  std::mutex mu;
  std::map<std::string, std::map<std::string, std::string>> blobs;   // repo -> digest -> bytes
  std::map<std::string, std::map<std::string, Manifest>> manifests;  // repo -> digest -> m
  std::map<std::string, std::map<std::string, std::string>> tags;    // repo -> tag -> digest
  std::map<std::string, Upload> uploads;                             // uuid -> upload
  bool repo_exists(const std::string& r) const {
    return blobs.count(r) || manifests.count(r) || tags.count(r);
  }
};

Config g_config;
Store g_store;
int g_port = 0;

bool valid_name(const std::string& n) {
  static const std::regex kName(
      R"(^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$)");
  return n.size() < 256 && std::regex_match(n, kName);
}

bool valid_tag(const std::string& t) {
  static const std::regex kTag(R"(^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$)");
  return std::regex_match(t, kTag);
}

void error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
  res.status = status;
  json j = {
      {"errors", json::array({{{"code", code}, {"message", msg}, {"detail", json::object()}}})}};
  res.set_content(j.dump(), "application/json");
}

// A malformed digest: 400 DIGEST_INVALID, or a server error under --deviate bad-digest-500.
void bad_digest(httplib::Response& res) {
  if (g_config.deviate("bad-digest-500")) {
    res.status = 500;
    res.set_content("internal server error", "text/plain");
    return;
  }
  error(res, 400, "DIGEST_INVALID", "invalid digest");
}

std::string new_uuid() {
  std::string h = dtrc::random_hex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

std::string strip_params(const std::string& type) {
  std::string t = type.substr(0, type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

// ---- auth ------------------------------------------------------------------------------
// Bearer tokens are HS256 JWTs in distribution's shape ({sub, access:[{type, name,
// actions}], exp}), signed with a key made at startup. Alice may do anything; an anonymous
// caller (--auth bearer-anonymous) gets a token that opens /v2/ and grants nothing, like
// Docker Hub's. The auth deviations break one rule each: realm-grants-all,
// realm-ignores-password, token-any-repo, unsigned-tokens, any-bearer, no-oauth-post.

const std::string& signing_key() {
  static const std::string key = dtrc::random_bytes(32);
  return key;
}

std::string hs256(const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), signing_key().data(), static_cast<int>(signing_key().size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

long long now_seconds() { return static_cast<long long>(std::time(nullptr)); }

// Scopes as requested ("repository:name:a,b") into an access claim.
json access_claim(const std::vector<std::string>& scopes) {
  json access = json::array();
  for (const auto& s : scopes) {
    auto first = s.find(':'), last = s.rfind(':');
    if (first == std::string::npos || first == last) continue;
    json actions = json::array();
    std::istringstream in(s.substr(last + 1));
    std::string a;
    while (std::getline(in, a, ',')) actions.push_back(a);
    access.push_back({{"type", s.substr(0, first)},
                      {"name", s.substr(first + 1, last - first - 1)},
                      {"actions", actions}});
  }
  return access;
}

std::string sign(const json& claims) {
  const std::string head = dtrc::base64url_encode(json({{"alg", "HS256"}, {"typ", "JWT"}}).dump()) +
                           "." + dtrc::base64url_encode(claims.dump());
  return head + "." + dtrc::base64url_encode(hs256(head));
}

std::string issue(const std::string& sub, const std::vector<std::string>& scopes) {
  return sign({{"iss", "fixture"},
               {"sub", sub},
               {"aud", "fixture"},
               {"exp", now_seconds() + 300},
               {"iat", now_seconds()},
               {"access", access_claim(scopes)}});
}

// The claims of a token this server issued; nullopt for anything else.
std::optional<json> verify(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos) return std::nullopt;
  auto header = dtrc::base64url_decode(token.substr(0, d1));
  auto claims = dtrc::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = dtrc::base64url_decode(token.substr(d2 + 1));
  if (!header || !claims || !sig) return std::nullopt;
  json h = json::parse(*header, nullptr, false), c = json::parse(*claims, nullptr, false);
  if (!h.is_object() || !c.is_object()) return std::nullopt;
  if (!g_config.deviate("unsigned-tokens") &&
      (h.value("alg", "") != "HS256" || *sig != hs256(token.substr(0, d2)))) {
    return std::nullopt;
  }
  if (c.value("exp", 0LL) < now_seconds() || c.value("typ", "") == "refresh") return std::nullopt;
  return c;
}

bool grants(const json& claims, const std::string& scope) {
  json want = access_claim({scope});
  if (want.empty()) return false;
  const std::string name = want[0]["name"];
  for (const auto& action : want[0]["actions"]) {
    bool ok = false;
    for (const auto& a : claims.value("access", json::array())) {
      if (!a.is_object() || (a.value("name", "") != name && !g_config.deviate("token-any-repo"))) {
        continue;
      }
      for (const auto& have : a.value("actions", json::array())) ok = ok || have == action;
    }
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> required_scopes(const std::string& path, const httplib::Request& req) {
  std::string repo = dtrc::repository_of(path);
  if (repo.empty()) return {};
  const bool read = req.method == "GET" || req.method == "HEAD";
  std::vector<std::string> scopes = {"repository:" + repo + (read ? ":pull" : ":pull,push")};
  if (req.has_param("from"))
    scopes.push_back("repository:" + req.get_param_value("from") + ":pull");
  return scopes;
}

const std::string& alice_basic() {
  static const std::string b = "Basic " + dtrc::base64_encode(std::string(kUser) + ":" + kPassword);
  return b;
}

// DTR's API state (see "the DTR API" below): access tokens work as alice's password.
struct ApiState {
  std::map<std::string, json> repos;          // "ns/name" -> responses.Repository
  std::map<std::string, std::string> tokens;  // hashedToken -> token
  std::vector<json> events;
  int serial = 0;
};
ApiState g_api;
std::mutex g_api_mu;

bool alice_secret(const std::string& user, const std::string& secret) {
  if (user != kUser) return false;
  if (secret == kPassword) return true;
  std::lock_guard<std::mutex> lock(g_api_mu);
  for (const auto& [hashed, token] : g_api.tokens) {
    if (token == secret) return true;
  }
  return false;
}

// user and password of a Basic header; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  if (header.rfind("Basic ", 0) != 0) return std::nullopt;
  std::string pair = dtrc::base64url_decode(header.substr(6)).value_or("");
  auto colon = pair.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(pair.substr(0, colon), pair.substr(colon + 1));
}

// True when the request may go on; otherwise res holds the 401.
bool authorized(const httplib::Request& req, httplib::Response& res) {
  if (g_config.auth.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  if (g_config.auth == "basic") {
    if (auth == alice_basic()) return true;
    res.set_header("WWW-Authenticate", "Basic realm=\"fixture\"");
    error(res, 401, "UNAUTHORIZED", "authentication required");
    return false;
  }
  // DTR also takes Basic credentials (a password or an access token) on /v2/.
  if (auto creds = basic_credentials(auth); creds && alice_secret(creds->first, creds->second)) {
    return true;
  }
  const std::vector<std::string> scopes = required_scopes(req.path, req);
  bool invalid = false;
  if (auth.rfind("Bearer ", 0) == 0) {
    if (scopes.empty() && g_config.deviate("any-bearer")) return true;
    if (auto claims = verify(auth.substr(7))) {
      bool ok = true;
      for (const auto& s : scopes) ok = ok && grants(*claims, s);
      if (ok) return true;
    } else {
      invalid = true;
    }
  }
  std::string challenge =
      "Bearer realm=\"http://127.0.0.1:" + std::to_string(g_port) + "/token\",service=\"fixture\"";
  std::string joined;
  for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
  if (!joined.empty()) challenge += ",scope=\"" + joined + "\"";
  if (invalid) challenge += ",error=\"invalid_token\"";
  res.set_header("WWW-Authenticate", challenge);
  error(res, 401, "UNAUTHORIZED", "authentication required");
  return false;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Who is asking: "alice", "" (anonymous, when allowed), or nullopt (refused).
std::optional<std::string> caller(const std::string& user, const std::string& password,
                                  bool anonymous) {
  if (anonymous) {
    if (g_config.auth == "bearer-anonymous") return std::string();
    return std::nullopt;
  }
  if (user == kUser &&
      (alice_secret(user, password) || g_config.deviate("realm-ignores-password"))) {
    return std::string(kUser);
  }
  return std::nullopt;
}

std::vector<std::string> granted(const std::string& who, std::vector<std::string> scopes) {
  if (who.empty() && !g_config.deviate("realm-grants-all")) return {};
  return scopes;
}

void token_endpoint(const httplib::Request& req, httplib::Response& res) {
  const std::string given = req.get_header_value("Authorization");
  std::string user = "?", password;
  if (auto creds = basic_credentials(given)) std::tie(user, password) = *creds;
  auto who = caller(user, password, given.empty());
  if (!who) {
    res.set_header("WWW-Authenticate", "Basic realm=\"fixture\"");
    return error(res, 401, "UNAUTHORIZED", "bad credentials");
  }
  std::vector<std::string> scopes;
  for (std::size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
    scopes.push_back(req.get_param_value("scope", i));
  }
  const std::string token = issue(*who, granted(*who, scopes));
  res.set_content(json({{"token", token},
                        {"access_token", token},
                        {"expires_in", 300},
                        {"issued_at", rfc3339_now()}})
                      .dump(),
                  "application/json");
}

// The OAuth2 form: grant_type=password (access_type=offline adds a refresh_token) and
// grant_type=refresh_token.
void token_post(const httplib::Request& req, httplib::Response& res) {
  if (g_config.deviate("no-oauth-post")) return error(res, 405, "UNSUPPORTED", "use GET");
  httplib::Params form;
  httplib::detail::parse_query_text(req.body, form);
  auto field = [&](const std::string& k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  std::optional<std::string> who;
  if (field("grant_type") == "password") {
    who = caller(field("username"), field("password"), false);
  } else if (field("grant_type") == "refresh_token") {
    // Refresh tokens are signed like access tokens, with typ "refresh".
    const std::string t = field("refresh_token");
    auto d2 = t.rfind('.');
    auto claims = dtrc::base64url_decode(t.substr(t.find('.') + 1, d2 - t.find('.') - 1));
    auto sig = dtrc::base64url_decode(t.substr(d2 == std::string::npos ? t.size() : d2 + 1));
    if (d2 != std::string::npos && claims && sig && *sig == hs256(t.substr(0, d2))) {
      json c = json::parse(*claims, nullptr, false);
      if (c.is_object() && c.value("typ", "") == "refresh") who = c.value("sub", "");
    }
  } else {
    return error(res, 400, "UNSUPPORTED", "unsupported_grant_type");
  }
  if (!who || who->empty()) return error(res, 401, "UNAUTHORIZED", "invalid_grant");
  std::vector<std::string> scopes;
  std::istringstream in(field("scope"));
  std::string s;
  while (in >> s) scopes.push_back(s);
  json body = {{"access_token", issue(*who, granted(*who, scopes))},
               {"scope", field("scope")},
               {"expires_in", 300},
               {"issued_at", rfc3339_now()}};
  if (field("access_type") == "offline") {
    body["refresh_token"] =
        sign({{"sub", *who}, {"typ", "refresh"}, {"exp", now_seconds() + 3600}});
  }
  res.set_content(body.dump(), "application/json");
}

// ---- blobs and uploads ------------------------------------------------------------------

void send_blob(const std::string& repo, const std::string& digest, const httplib::Request& req,
               httplib::Response& res) {
  if (!is_valid_digest(digest)) return bad_digest(res);
  auto r = g_store.blobs.find(repo);
  if (r == g_store.blobs.end() || !r->second.count(digest)) {
    return error(res, 404, "BLOB_UNKNOWN", "blob unknown to registry");
  }
  if (req.method == "DELETE") {
    if (g_config.deviate("no-delete")) return error(res, 405, "UNSUPPORTED", "deletion disabled");
    r->second.erase(digest);
    res.status = 202;
    return;
  }
  res.set_header("Docker-Content-Digest",
                 g_config.deviate("wrong-digest-header") ? sha256_digest("not " + digest) : digest);
  res.set_header("Accept-Ranges", "bytes");
  const std::string& blob = r->second[digest];
  // httplib 0.11.4 would answer a Range itself, but copies an end past the blob into
  // Content-Range unclamped ("bytes 3900-99999/4000"); the range is served here instead.
  const_cast<httplib::Request&>(req).ranges.clear();
  static const std::regex kRange(R"(^bytes=([0-9]*)-([0-9]*)$)");
  std::smatch m;
  const std::string range = req.get_header_value("Range");
  if (!range.empty() && std::regex_match(range, m, kRange) && (m[1].length() || m[2].length())) {
    const long long size = static_cast<long long>(blob.size());
    long long first = 0, last = size - 1;
    if (m[1].length() == 0) {
      first = std::max(0LL, size - std::stoll(m[2]));
    } else {
      first = std::stoll(m[1]);
      if (m[2].length()) last = std::min(last, std::stoll(m[2]));
    }
    if (first >= size || first > last) {
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return error(res, 416, "BLOB_UNKNOWN", "range not satisfiable");
    }
    res.status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                        "/" + std::to_string(size));
    res.set_content(
        blob.substr(static_cast<std::size_t>(first), static_cast<std::size_t>(last - first + 1)),
        "application/octet-stream");
    return;
  }
  res.status = 200;
  res.set_content(blob, "application/octet-stream");
}

void upload_headers(httplib::Response& res, const std::string& repo, const std::string& uuid,
                    std::size_t size) {
  res.set_header("Location", "/v2/" + repo + "/blobs/uploads/" + uuid);
  res.set_header("Docker-Upload-UUID", uuid);
  res.set_header("Range", "0-" + std::to_string(size == 0 ? 0 : size - 1));
}

// Stores `data` as `digest` in `repo` when they match; answers 201 or the error.
void commit_blob(const std::string& repo, const std::string& digest, const std::string& data,
                 httplib::Response& res) {
  if (!is_valid_digest(digest)) return bad_digest(res);
  if (digest_like(digest, data) != digest) {
    return error(res, 400, "DIGEST_INVALID", "digest did not match content");
  }
  g_store.blobs[repo][digest] = data;
  res.status = 201;
  res.set_header("Location", "/v2/" + repo + "/blobs/" + digest);
  res.set_header("Docker-Content-Digest", digest);
}

void start_upload(const std::string& repo, const httplib::Request& req, httplib::Response& res) {
  if (req.has_param("mount") && !g_config.deviate("mount-unsupported")) {
    const std::string digest = req.get_param_value("mount");
    const std::string from = req.get_param_value("from");
    auto f = g_store.blobs.find(from);
    if (is_valid_digest(digest) && f != g_store.blobs.end() && f->second.count(digest)) {
      g_store.blobs[repo][digest] = f->second[digest];
      res.status = 201;
      res.set_header("Location", "/v2/" + repo + "/blobs/" + digest);
      res.set_header("Docker-Content-Digest", digest);
      return;
    }
  }
  if (req.has_param("digest"))
    return commit_blob(repo, req.get_param_value("digest"), req.body, res);
  std::string uuid = new_uuid();
  g_store.uploads[uuid] = Upload{repo, ""};
  res.status = 202;
  upload_headers(res, repo, uuid, 0);
}

bool parse_content_range(const std::string& v, std::size_t& first, std::size_t& last) {
  static const std::regex kRange(R"(^([0-9]+)-([0-9]+)$)");
  std::smatch m;
  if (!std::regex_match(v, m, kRange)) return false;
  first = std::stoull(m[1]);
  last = std::stoull(m[2]);
  return first <= last;
}

// Appends a chunk; false (with res set) when the chunk is refused.
bool append_chunk(Upload& up, const httplib::Request& req, httplib::Response& res) {
  if (!req.has_header("Content-Range")) {
    up.data += req.body;  // streamed
    return true;
  }
  std::size_t first = 0, last = 0;
  if (!parse_content_range(req.get_header_value("Content-Range"), first, last)) {
    error(res, 400, "BLOB_UPLOAD_INVALID", "malformed Content-Range");
    return false;
  }
  if (last - first + 1 != req.body.size()) {
    error(res, 400, "SIZE_INVALID", "Content-Range does not match the body length");
    return false;
  }
  if (first != up.data.size() && !g_config.deviate("chunk-order-ignored")) {
    res.status = 416;
    res.set_header("Range", "0-" + std::to_string(up.data.empty() ? 0 : up.data.size() - 1));
    error(res, 416, "BLOB_UPLOAD_INVALID", "chunk out of order");
    return false;
  }
  up.data += req.body;
  return true;
}

void upload(const std::string& repo, const std::string& uuid, const httplib::Request& req,
            httplib::Response& res) {
  auto it = g_store.uploads.find(uuid);
  if (it == g_store.uploads.end() || it->second.repo != repo) {
    return error(res, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
  }
  Upload& up = it->second;
  if (req.method == "GET") {
    res.status = 204;
    upload_headers(res, repo, uuid, up.data.size());
  } else if (req.method == "DELETE") {
    g_store.uploads.erase(it);
    res.status = 204;
  } else if (req.method == "PATCH") {
    if (!append_chunk(up, req, res)) return;
    res.status = 202;
    upload_headers(res, repo, uuid, up.data.size());
  } else if (req.method == "PUT") {
    if (!req.has_param("digest")) return error(res, 400, "DIGEST_INVALID", "digest missing");
    if (!req.body.empty() && !append_chunk(up, req, res)) return;
    std::string data = std::move(up.data);
    g_store.uploads.erase(it);
    commit_blob(repo, req.get_param_value("digest"), data, res);
  } else {
    error(res, 405, "UNSUPPORTED", "method not allowed");
  }
}

// ---- manifests and referrers ------------------------------------------------------------

// "" when every blob or manifest the manifest names is in the repository.
std::string missing_reference(const std::string& repo, const json& m) {
  auto has_blob = [&](const json& d) {
    return d.is_object() && d.contains("digest") && d["digest"].is_string() &&
           g_store.blobs[repo].count(d["digest"].get<std::string>());
  };
  if (m.contains("config") && !has_blob(m["config"])) return "config";
  if (m.contains("layers") && m["layers"].is_array()) {
    for (const auto& l : m["layers"]) {
      if (!has_blob(l)) return "layer";
    }
  }
  if (m.contains("manifests") && m["manifests"].is_array()) {
    for (const auto& d : m["manifests"]) {
      if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string() ||
          !g_store.manifests[repo].count(d["digest"].get<std::string>())) {
        return "manifest";
      }
    }
  }
  return "";
}

// True when `tag` exists in `repo` and the repository's immutableTags is on (DTR's rule;
// --deviate api-mutable-tags ignores it).
bool tag_is_immutable(const std::string& repo, const std::string& tag) {
  if (g_config.deviate("api-mutable-tags") || !g_store.tags[repo].count(tag)) return false;
  std::lock_guard<std::mutex> lock(g_api_mu);
  auto it = g_api.repos.find(repo);
  return it != g_api.repos.end() && it->second.value("immutableTags", false);
}

void record_event(const std::string& type, const std::string& object_type,
                  const std::string& object_name, const std::string& repo,
                  const std::string& digest) {
  if (g_config.deviate("api-no-events")) return;
  std::lock_guard<std::mutex> lock(g_api_mu);
  g_api.events.push_back(
      {{"id", std::to_string(++g_api.serial)},
       {"publishedAt", "2024-01-01T00:00:00Z"},
       {"actor", kUser},
       {"type", type},
       {"object", {{"type", object_type}, {"name", object_name}, {"id", digest}}},
       {"repository", repo}});
}

std::string resolve_ref(const std::string& repo, const std::string& ref) {
  if (ref.find(':') != std::string::npos) return ref;
  auto t = g_store.tags.find(repo);
  if (t == g_store.tags.end() || !t->second.count(ref)) return "";
  return t->second[ref];
}

void put_manifest(const std::string& repo, const std::string& ref, const httplib::Request& req,
                  httplib::Response& res) {
  const bool by_digest = ref.find(':') != std::string::npos;
  if (by_digest && !is_valid_digest(ref)) return bad_digest(res);
  if (!by_digest && !valid_tag(ref)) return error(res, 400, "MANIFEST_INVALID", "invalid tag");
  json m = json::parse(req.body, nullptr, false);
  if (!m.is_object()) return error(res, 400, "MANIFEST_INVALID", "manifest is not JSON");
  const std::string digest = sha256_digest(req.body);
  if (by_digest && digest_like(ref, req.body) != ref) {
    return error(res, 400, "DIGEST_INVALID", "digest does not match the manifest");
  }
  if (std::string what = missing_reference(repo, m); !what.empty()) {
    return error(res, 400, "MANIFEST_BLOB_UNKNOWN", "manifest references an unknown " + what);
  }
  std::string type = strip_params(req.get_header_value("Content-Type"));
  if (type.empty() && m.contains("mediaType") && m["mediaType"].is_string()) type = m["mediaType"];
  if (!by_digest && tag_is_immutable(repo, ref)) {
    return error(res, 403, "DENIED",
                 "tag=" + ref + " cannot be overwritten because 127.0.0.1:" +
                     std::to_string(g_port) + "/" + repo + " is an immutable repository");
  }
  g_store.manifests[repo][digest] = Manifest{req.body, type};
  if (!by_digest) g_store.tags[repo][ref] = digest;
  record_event("CREATE", "TAG", repo + ":" + (by_digest ? digest : ref), repo, digest);
  res.status = 201;
  res.set_header("Location", "/v2/" + repo + "/manifests/" + digest);
  res.set_header("Docker-Content-Digest", digest);
  if (m.contains("subject") && m["subject"].is_object() && !g_config.deviate("no-referrers")) {
    res.set_header("OCI-Subject", m["subject"].value("digest", ""));
  }
}

bool accepts(const httplib::Request& req, const std::string& type) {
  if (!req.has_header("Accept")) return true;
  for (std::size_t i = 0; i < req.get_header_value_count("Accept"); ++i) {
    std::string v = req.get_header_value("Accept", i);
    if (v.find(type) != std::string::npos || v.find("*/*") != std::string::npos) return true;
  }
  return false;
}

void manifest(const std::string& repo, const std::string& ref, const httplib::Request& req,
              httplib::Response& res) {
  if (req.method == "PUT") return put_manifest(repo, ref, req, res);
  if (ref.find(':') != std::string::npos && !is_valid_digest(ref)) return bad_digest(res);
  if (!g_store.repo_exists(repo)) return error(res, 404, "NAME_UNKNOWN", "repository unknown");
  std::string digest = resolve_ref(repo, ref);
  auto& ms = g_store.manifests[repo];
  if (digest.empty() || !ms.count(digest)) {
    return error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
  }
  if (req.method == "DELETE") {
    if (g_config.deviate("no-delete")) return error(res, 405, "UNSUPPORTED", "deletion disabled");
    if (ref.find(':') == std::string::npos) {
      g_store.tags[repo].erase(ref);
    } else {
      ms.erase(digest);
      auto& ts = g_store.tags[repo];
      for (auto it = ts.begin(); it != ts.end();)
        it = it->second == digest ? ts.erase(it) : std::next(it);
    }
    res.status = 202;
    return;
  }
  const Manifest& m = ms[digest];
  if (g_config.deviate("accept-strict") && !accepts(req, m.media_type)) {
    return error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
  }
  res.status = 200;
  res.set_header("Docker-Content-Digest", digest);
  res.set_content(m.body, m.media_type);
}

void referrers(const std::string& repo, const std::string& digest, const httplib::Request& req,
               httplib::Response& res) {
  if (g_config.deviate("no-referrers")) return error(res, 404, "UNSUPPORTED", "no referrers API");
  if (!is_valid_digest(digest)) return bad_digest(res);
  const std::string filter =
      req.has_param("artifactType") ? req.get_param_value("artifactType") : "";
  json list = json::array();
  for (const auto& [d, m] : g_store.manifests[repo]) {
    json j = json::parse(m.body, nullptr, false);
    if (!j.is_object() || !j.contains("subject") || !j["subject"].is_object() ||
        j["subject"].value("digest", "") != digest) {
      continue;
    }
    json desc = {{"mediaType", m.media_type}, {"digest", d}, {"size", m.body.size()}};
    std::string at = j.value("artifactType", "");
    if (at.empty() && j.contains("config") && j["config"].is_object())
      at = j["config"].value("mediaType", "");
    if (!at.empty()) desc["artifactType"] = at;
    if (j.contains("annotations")) desc["annotations"] = j["annotations"];
    if (!filter.empty() && at != filter) continue;
    list.push_back(desc);
  }
  if (!filter.empty()) res.set_header("OCI-Filters-Applied", "artifactType");
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests", list}};
  res.status = 200;
  res.set_content(index.dump(), "application/vnd.oci.image.index.v1+json");
}

// ---- listings ---------------------------------------------------------------------------

// Applies n/last to a sorted list; sets Link when more remain.
json paginate(const std::vector<std::string>& all, const httplib::Request& req,
              httplib::Response& res, const std::string& path, bool ignore) {
  std::vector<std::string> out;
  std::string last = ignore || !req.has_param("last") ? "" : req.get_param_value("last");
  long n = -1;
  if (!ignore && req.has_param("n")) n = std::atol(req.get_param_value("n").c_str());
  for (const auto& s : all) {
    if (!last.empty() && s <= last) continue;
    if (n >= 0 && static_cast<long>(out.size()) >= n) {
      if (n > 0) {
        res.set_header("Link", "<" + path + "?n=" + std::to_string(n) + "&last=" + out.back() +
                                   ">; rel=\"next\"");
      }
      break;
    }
    out.push_back(s);
  }
  return out;
}

void tags_list(const std::string& repo, const httplib::Request& req, httplib::Response& res) {
  if (!g_store.repo_exists(repo)) return error(res, 404, "NAME_UNKNOWN", "repository unknown");
  std::vector<std::string> all;
  for (const auto& [t, _] : g_store.tags[repo]) all.push_back(t);
  json tags = paginate(all, req, res, "/v2/" + repo + "/tags/list",
                       g_config.deviate("tags-pagination-ignored"));
  res.status = 200;
  res.set_content(json({{"name", repo}, {"tags", tags}}).dump(), "application/json");
}

void catalog(const httplib::Request& req, httplib::Response& res) {
  std::set<std::string> names;
  for (const auto& [r, _] : g_store.blobs) names.insert(r);
  for (const auto& [r, _] : g_store.manifests) names.insert(r);
  std::vector<std::string> all(names.begin(), names.end());
  json repos = paginate(all, req, res, "/v2/_catalog", false);
  res.status = 200;
  res.set_content(json({{"repositories", repos}}).dump(), "application/json");
}

// ---- the DTR API: just enough of /api/v0 and /enzi/v0 for the `api` group ---------------
// Deviations: api-plain-errors (no {"errors":[...]} envelope), api-mutable-tags,
// api-tokens-not-revoked, api-no-events.

void api_error(httplib::Response& res, int status, const std::string& code,
               const std::string& msg) {
  res.status = status;
  json j = g_config.deviate("api-plain-errors")
               ? json({{"message", msg}})
               : json({{"errors", json::array({{{"code", code}, {"message", msg}}})}});
  res.set_content(j.dump(), "application/json");
}

void api_reply(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

void api_repository(const std::string& ns, const std::string& name, const httplib::Request& req,
                    httplib::Response& res) {
  const std::string full = ns + "/" + name;
  auto it = g_api.repos.find(full);
  if (req.method == "DELETE") {
    if (it != g_api.repos.end()) g_api.repos.erase(it);
    res.status = 204;
    return;
  }
  if (it == g_api.repos.end())
    return api_error(res, 404, "NO_SUCH_REPOSITORY", "no such repository");
  if (req.method == "PATCH") {
    json patch = json::parse(req.body, nullptr, false);
    if (!patch.is_object()) return api_error(res, 400, "INVALID_JSON", "invalid JSON");
    for (const char* f : {"visibility", "shortDescription", "immutableTags", "tagLimit"}) {
      if (patch.contains(f)) it->second[f] = patch[f];
    }
  }
  api_reply(res, 200, it->second);
}

void api_tags(const std::string& full, const std::string& tag, const httplib::Request& req,
              httplib::Response& res) {
  if (!g_api.repos.count(full))
    return api_error(res, 404, "NO_SUCH_REPOSITORY", "no such repository");
  auto& tags = g_store.tags[full];
  if (tag.empty()) {
    json out = json::array();
    for (const auto& [t, d] : tags) out.push_back({{"name", t}, {"digest", d}});
    return api_reply(res, 200, out);
  }
  if (req.method != "DELETE") return api_error(res, 405, "NOT_ALLOWED", "method not allowed");
  if (!tags.count(tag)) return api_error(res, 404, "NO_SUCH_TAG", "no such tag");
  tags.erase(tag);
  res.status = 204;
}

void api_dispatch(const httplib::Request& req, httplib::Response& res) {
  const std::string& p = req.path;
  if (p == "/api/v0/docs.json") {
    return api_reply(res, 200,
                     {{"swagger", "2.0"},
                      {"info", {{"title", "fixture"}, {"version", "2.7.0-fixture"}}},
                      {"paths", {{"/repositories/{namespace}", json::object()}}}});
  }
  auto creds = basic_credentials(req.get_header_value("Authorization"));
  if (!creds || !alice_secret(creds->first, creds->second)) {
    return api_error(res, 401, "NOT_AUTHENTICATED", "authentication required");
  }
  std::lock_guard<std::mutex> store_lock(g_store.mu);
  std::lock_guard<std::mutex> lock(g_api_mu);
  static const std::regex kRepos(R"(^/api/v0/repositories(/([^/]+))?$)");
  static const std::regex kRepo(R"(^/api/v0/repositories/([^/]+)/([^/]+)$)");
  static const std::regex kTags(R"(^/api/v0/repositories/([^/]+/[^/]+)/tags(/([^/]+))?$)");
  static const std::regex kEvents(R"(^/api/v0/repositories/([^/]+/[^/]+)/events$)");
  static const std::regex kAccount(R"(^/enzi/v0/accounts/([^/]+)$)");
  static const std::regex kToken(R"(^/api/v0/api_tokens/([^/]+)$)");
  std::smatch m;
  if (p == "/api/v0/meta/settings" && req.method == "GET") {
    return api_reply(res, 200, {{"createRepositoryOnPush", false}, {"readOnlyRegistry", false}});
  }
  if (std::regex_match(p, m, kAccount) && req.method == "GET") {
    if (m[1] != kUser && m[1] != "alice-id")
      return api_error(res, 404, "NO_SUCH_ACCOUNT", "no such account");
    return api_reply(res, 200,
                     {{"id", "alice-id"},
                      {"name", kUser},
                      {"fullName", "Alice"},
                      {"isOrg", false},
                      {"isAdmin", true},
                      {"isActive", true}});
  }
  if (std::regex_match(p, m, kRepos)) {
    const std::string ns = m[2];
    if (req.method == "POST" && !ns.empty()) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
        return api_error(res, 400, "INVALID_JSON", "invalid JSON");
      }
      const std::string full = ns + "/" + body["name"].get<std::string>();
      if (g_api.repos.count(full))
        return api_error(res, 400, "REPOSITORY_EXISTS", "repository exists");
      json repo = {{"id", "r" + std::to_string(++g_api.serial)},
                   {"namespace", ns},
                   {"namespaceType", "user"},
                   {"name", body["name"]},
                   {"shortDescription", body.value("shortDescription", "")},
                   {"visibility", body.value("visibility", "private")},
                   {"immutableTags", body.value("immutableTags", false)},
                   {"tagLimit", body.value("tagLimit", 0)}};
      g_api.repos[full] = repo;
      return api_reply(res, 201, repo);
    }
    json list = json::array();
    for (const auto& [full, r] : g_api.repos) {
      if (ns.empty() || r["namespace"] == ns) list.push_back(r);
    }
    return api_reply(res, 200, {{"repositories", list}});
  }
  if (std::regex_match(p, m, kRepo)) return api_repository(m[1], m[2], req, res);
  if (std::regex_match(p, m, kTags)) return api_tags(m[1], m[3], req, res);
  if (std::regex_match(p, m, kEvents)) {
    json list = json::array();
    for (const auto& e : g_api.events) {
      if (e["repository"] == m[1].str()) list.push_back(e);
    }
    return api_reply(res, 200, {{"events", list}});
  }
  if (p == "/api/v0/api_tokens" && req.method == "POST") {
    const std::string token = dtrc::random_hex(32), hashed = sha256_digest(token).substr(7);
    g_api.tokens[hashed] = token;
    return api_reply(res, 201, {{"token", token}, {"hashedToken", hashed}, {"isActive", true}});
  }
  if (std::regex_match(p, m, kToken) && req.method == "DELETE") {
    if (!g_config.deviate("api-tokens-not-revoked")) g_api.tokens.erase(m[1]);
    res.status = 204;
    return;
  }
  api_error(res, 404, "NOT_FOUND", "no such endpoint");
}

// ---- routing ----------------------------------------------------------------------------

void dispatch(const httplib::Request& req, httplib::Response& res) {
  static std::atomic<int> requests{0};
  if (g_config.die_after > 0 && ++requests >= g_config.die_after) std::_Exit(0);
  res.set_header("Docker-Distribution-API-Version", "registry/2.0");
  if (!authorized(req, res)) return;
  std::lock_guard<std::mutex> lock(g_store.mu);
  const std::string& p = req.path;
  static const std::regex kUploads(R"(^/v2/(.+)/blobs/uploads/([^/]*)$)");
  static const std::regex kBlob(R"(^/v2/(.+)/blobs/([^/]+)$)");
  static const std::regex kManifest(R"(^/v2/(.+)/manifests/([^/]+)$)");
  static const std::regex kTags(R"(^/v2/(.+)/tags/list$)");
  static const std::regex kReferrers(R"(^/v2/(.+)/referrers/([^/]+)$)");
  std::smatch m;
  if (p == "/v2/" || p == "/v2") {
    res.status = 200;
    res.set_content("{}", "application/json");
    return;
  }
  if (p == "/v2/_catalog" && req.method == "GET") return catalog(req, res);
  std::string name;
  auto named = [&](const std::regex& re) {
    if (!std::regex_match(p, m, re)) return false;
    name = m[1];
    return true;
  };
  if (named(kUploads) || named(kBlob) || named(kManifest) || named(kTags) || named(kReferrers)) {
    if (!valid_name(name)) return error(res, 400, "NAME_INVALID", "invalid repository name");
  }
  if (std::regex_match(p, m, kUploads)) {
    if (m[2].str().empty()) {
      if (req.method == "POST") return start_upload(name, req, res);
      return error(res, 405, "UNSUPPORTED", "method not allowed");
    }
    return upload(name, m[2], req, res);
  }
  if (std::regex_match(p, m, kBlob)) {
    if (req.method == "GET" || req.method == "HEAD" || req.method == "DELETE") {
      return send_blob(name, m[2], req, res);
    }
  } else if (std::regex_match(p, m, kManifest)) {
    return manifest(name, m[2], req, res);
  } else if (std::regex_match(p, m, kTags) && req.method == "GET") {
    return tags_list(name, req, res);
  } else if (std::regex_match(p, m, kReferrers) && req.method == "GET") {
    return referrers(name, m[2], req, res);
  }
  error(res, 404, "UNSUPPORTED", "no such endpoint");
}

// ---- the non-registries -----------------------------------------------------------------

int listen_raw() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 64) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::cout << "PORT " << ntohs(addr.sin_port) << std::endl;
  return fd;
}

// hang: accepts and never answers. garbage: answers bytes that are not HTTP, then closes.
[[noreturn]] void run_raw(const std::string& mode) {
  int fd = listen_raw();
  std::vector<int> held;
  for (;;) {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    if (mode == "hang") {
      held.push_back(c);
      if (held.size() > 256) {
        ::close(held.front());
        held.erase(held.begin());
      }
      continue;
    }
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    const char junk[] = "\x16\x03\x01garbage \x00\xff not http at all\r\n\r\n";
    (void)::send(c, junk, sizeof junk - 1, MSG_NOSIGNAL);
    ::close(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--mode") {
      g_config.mode = next();
    } else if (a == "--deviate") {
      g_config.deviations.insert(next());
    } else if (a == "--die-after") {
      g_config.die_after = std::atoi(next().c_str());
    } else if (a == "--auth") {
      g_config.auth = next();
    } else if (a == "--tls") {
      g_config.cert = next();
      g_config.key = next();
    } else {
      std::cerr << "usage: bad_registry_server [--mode registry|hang|garbage|html|html200] "
                   "[--deviate NAME]... [--auth basic|bearer|bearer-anonymous] [--tls CERT KEY] "
                   "[--die-after N]\n";
      return 2;
    }
  }
  if (g_config.mode == "hang" || g_config.mode == "garbage") run_raw(g_config.mode);

  std::unique_ptr<httplib::Server> server;
  if (!g_config.cert.empty()) {
    server = std::make_unique<httplib::SSLServer>(g_config.cert.c_str(), g_config.key.c_str());
  } else {
    server = std::make_unique<httplib::Server>();
  }
  if (!server->is_valid()) {
    std::cerr << "cannot set up the server (TLS files?)\n";
    return 1;
  }
  server->set_tcp_nodelay(true);
  server->new_task_queue = [] { return new httplib::ThreadPool(8); };
  server->set_payload_max_length(64u << 20);
  if (g_config.mode == "html" || g_config.mode == "html200") {
    const int status = g_config.mode == "html" ? 404 : 200;
    auto page = [status](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content("<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>", "text/html");
    };
    server->Get(".*", page);
    server->Post(".*", page);
  } else {
    server->Get("/token", token_endpoint);
    server->Post("/token", token_post);
    // HEAD is routed to the GET handlers.
    server->Get("/v2.*", dispatch);
    server->Post("/v2.*", dispatch);
    server->Put("/v2.*", dispatch);
    server->Patch("/v2.*", dispatch);
    server->Delete("/v2.*", dispatch);
    for (const char* api : {"/api/v0/.*", "/enzi/v0/.*"}) {
      server->Get(api, api_dispatch);
      server->Post(api, api_dispatch);
      server->Patch(api, api_dispatch);
      server->Delete(api, api_dispatch);
    }
  }
  g_port = server->bind_to_any_port("127.0.0.1");
  if (g_port <= 0) {
    std::cerr << "cannot bind\n";
    return 1;
  }
  std::cout << "PORT " << g_port << std::endl;
  server->listen_after_bind();
  return 0;
}
