// A tiny in-memory OCI registry for the suite's own tests: conforming by default, with one
// switch per deviation (--deviate NAME), plus modes that are no registry at all (--mode
// hang|garbage|html|html200), over TLS (--tls CERT KEY) or behind auth (--auth basic|bearer).
// It prints "PORT <n>" on stdout once it listens on 127.0.0.1 and runs until killed.
//
// It exists to prove dtr-conformance can fail: conformance_fails_test runs the suite
// against each deviation and expects exactly the cases that deviation breaks to fail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
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

// ---- auth -------------------------------------------------------------------------------

std::string required_scope(const std::string& path, const httplib::Request& req) {
  std::string repo = dtrc::repository_of(path);
  if (repo.empty()) return "";
  std::string scope = "repository:" + repo + ":pull,push";
  if (req.has_param("from")) scope += " repository:" + req.get_param_value("from") + ":pull";
  return scope;
}

// True when the request may go on; otherwise res holds the 401.
bool authorized(const httplib::Request& req, httplib::Response& res) {
  if (g_config.auth.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  const std::string basic = "Basic " + dtrc::base64_encode(std::string(kUser) + ":" + kPassword);
  if (g_config.auth == "basic") {
    if (auth == basic) return true;
    res.set_header("WWW-Authenticate", "Basic realm=\"fixture\"");
    error(res, 401, "UNAUTHORIZED", "authentication required");
    return false;
  }
  // Bearer: tokens are "tok." + the scopes they grant, issued by /token.
  const std::string scope = required_scope(req.path, req);
  if (auth.rfind("Bearer tok.", 0) == 0) {
    std::string granted = auth.substr(11);
    bool ok = true;
    std::istringstream in(scope);
    std::string s;
    while (in >> s) ok = ok && granted.find(s) != std::string::npos;
    if (ok) return true;
  }
  std::string challenge =
      "Bearer realm=\"http://127.0.0.1:" + std::to_string(g_port) + "/token\",service=\"fixture\"";
  if (!scope.empty()) challenge += ",scope=\"" + scope + "\"";
  res.set_header("WWW-Authenticate", challenge);
  error(res, 401, "UNAUTHORIZED", "authentication required");
  return false;
}

void token_endpoint(const httplib::Request& req, httplib::Response& res) {
  const std::string basic = "Basic " + dtrc::base64_encode(std::string(kUser) + ":" + kPassword);
  const std::string given = req.get_header_value("Authorization");
  if (given.empty() && g_config.auth == "bearer-anonymous") {
    // Anonymous tokens open /v2/ but grant no repository scope, like Docker Hub's.
    res.set_content(json({{"token", "tok."}}).dump(), "application/json");
    return;
  }
  if (given != basic) {
    error(res, 401, "UNAUTHORIZED", "bad credentials");
    return;
  }
  std::string granted;
  for (std::size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
    granted += req.get_param_value("scope", i) + " ";
  }
  res.set_content(json({{"token", "tok." + granted}, {"expires_in", 300}}).dump(),
                  "application/json");
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
  g_store.manifests[repo][digest] = Manifest{req.body, type};
  if (!by_digest) g_store.tags[repo][ref] = digest;
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
    // HEAD is routed to the GET handlers.
    server->Get("/v2.*", dispatch);
    server->Post("/v2.*", dispatch);
    server->Put("/v2.*", dispatch);
    server->Patch("/v2.*", dispatch);
    server->Delete("/v2.*", dispatch);
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
