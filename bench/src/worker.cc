// The registry operations one worker performs, each as a real client does it.
#include <nlohmann/json.hpp>
#include <thread>

#include "bench.h"

namespace dtrb {

namespace {

using nlohmann::json;

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

// What docker and skopeo accept for a manifest, one header line each as skopeo sends them.
const std::vector<Header>& ManifestAccept() {
  static const std::vector<Header> kAccept = {
      {"Accept", "application/vnd.oci.image.manifest.v1+json"},
      {"Accept", "application/vnd.docker.distribution.manifest.v2+json"},
      {"Accept", "application/vnd.docker.distribution.manifest.list.v2+json"},
      {"Accept", "application/vnd.oci.image.index.v1+json"},
  };
  return kAccept;
}

std::string WithDigest(std::string target, const std::string& digest) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += "digest=";
  target += UrlEncode(digest);
  return target;
}

std::string Snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 300)) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

}  // namespace

void Shared::Stop(const std::string& why) {
  bool expected = false;
  if (stop_reason_set.compare_exchange_strong(expected, true)) stop_reason = why;
  stop = true;
}

std::string Shared::V2(std::string_view repo_path) const {
  std::string t = prefix;
  t += "/v2/";
  t += repo;
  t += repo_path;
  return t;
}

void Counters::Merge(const Counters& o) {
  ops += o.ops;
  ok_ops += o.ok_ops;
  requests += o.requests;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  for (const auto& [k, v] : o.errors) errors[k] += v;
  for (const auto& [k, v] : o.error_samples) error_samples.emplace(k, v);
}

Worker::Worker(Shared& shared, int worker_id, bool close_mode)
    : s(shared),
      id(worker_id),
      client(shared.ep, shared.addr, shared.addr_len,
             ClientOptions{close_mode, shared.opt.timeout_seconds * 1000, shared.tls,
                           "dtr-bench/0.1", shared.opt.tls_resume}),
      rng(SeededRng()) {
  size_t kinds = shared.kind_names.empty() ? 1 : shared.kind_names.size();
  by_kind.resize(kinds);
  kind_ops.resize(kinds, 0);
}

void Worker::Fail(const std::string& kind, const std::string& detail) {
  last_error = kind + (detail.empty() ? "" : " (" + detail + ")");
  ++counters.errors[kind];
  if (!detail.empty()) counters.error_samples.emplace(kind, detail);
}

HttpClient* Worker::ClientFor(const std::string& url, std::string* target, std::string* why) {
  size_t scheme = url.find("://");
  size_t slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  std::string origin = url.substr(0, slash);
  *target = slash == std::string::npos ? "/" : url.substr(slash);
  auto it = others_.find(origin);
  if (it != others_.end()) return it->second.get();
  Endpoint ep;
  std::string prefix;
  if (!ParseUrl(origin, &ep, &prefix, why)) return nullptr;
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!ResolveEndpoint(ep, !s.opt.allow_remote, &addr, &len, why)) return nullptr;
  std::shared_ptr<TlsContext> tls = s.tls;
  if (ep.tls && tls == nullptr) {
    tls = TlsContext::Create(s.opt.ca_file, s.opt.insecure, why);
    if (tls == nullptr) return nullptr;
  }
  auto c =
      std::make_unique<HttpClient>(ep, addr, len,
                                   ClientOptions{client.close_mode(), s.opt.timeout_seconds * 1000,
                                                 tls, "dtr-bench/0.1", s.opt.tls_resume});
  HttpClient* raw = c.get();
  others_.emplace(origin, std::move(c));
  return raw;
}

std::optional<std::string> Worker::FetchToken(const std::string& url,
                                              const std::string& authorization, std::string* why) {
  std::string target;
  HttpClient* c = ClientFor(url, &target, why);
  if (c == nullptr) return std::nullopt;
  Request req;
  req.target = target;
  req.keep_body = true;
  req.max_kept = 1 << 20;
  if (!authorization.empty()) req.headers.push_back({"Authorization", authorization});
  Response resp;
  if (!Send("token GET", req, &resp, {200}, false, c)) {
    *why = last_error;
    return std::nullopt;
  }
  json j = json::parse(resp.body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
        return j[key].get<std::string>();
      }
    }
  }
  *why = "token answer has no token: " + Snippet(resp.body);
  return std::nullopt;
}

bool Worker::Send(std::string_view label, Request& req, Response* resp,
                  std::initializer_list<int> expect, bool authenticate, HttpClient* via) {
  HttpClient& c = via != nullptr ? *via : client;
  last_connect_failed = false;
  for (int attempt = 0;; ++attempt) {
    uint64_t generation = 0;
    bool added_auth = false;
    if (authenticate && s.auth_active.load(std::memory_order_relaxed)) {
      auto value = s.auth.Current(&generation);
      if (!value->empty()) {
        req.headers.push_back({"Authorization", *value});
        added_auth = true;
      }
    }
    Error err;
    bool ok = c.Do(req, resp, &err);
    if (added_auth) req.headers.pop_back();
    ++counters.requests;
    counters.bytes_sent += resp->sent_body_bytes;
    counters.bytes_received += resp->body_bytes;
    if (!ok) {
      last_connect_failed = err.kind == ErrorKind::kConnect;
      Fail(std::string(label) + ": " + ErrorKindName(err.kind), err.detail);
      return false;
    }
    if (resp->status == 401 && authenticate && attempt < 2) {
      std::string challenge(resp->Get("www-authenticate"));
      if (!challenge.empty()) {
        std::string why;
        s.auth_active = true;
        auto fetch = [this](const std::string& url, const std::string& authz, std::string* w) {
          return FetchToken(url, authz, w);
        };
        if (s.auth.Answer(challenge, generation, fetch, &why)) continue;
        Fail(std::string(label) + ": authentication", why);
        return false;
      }
    }
    for (int e : expect) {
      if (resp->status == e) return true;
    }
    Fail(std::string(label) + ": HTTP " + std::to_string(resp->status), Snippet(resp->body));
    return false;
  }
}

bool Worker::UploadLocation(const Response& resp, std::string* target) {
  std::string_view loc = resp.Get("location");
  if (loc.empty()) {
    Fail("upload: no Location header", "");
    return false;
  }
  if (loc.substr(0, 7) == "http://" || loc.substr(0, 8) == "https://") {
    size_t slash = loc.find('/', loc.find("://") + 3);
    *target = slash == std::string_view::npos ? "/" : std::string(loc.substr(slash));
  } else if (loc.front() == '/') {
    *target = std::string(loc);
  } else {
    Fail("upload: relative Location header not understood", std::string(loc.substr(0, 200)));
    return false;
  }
  return true;
}

bool Worker::PushBlob(const Body& blob, const std::string& digest) {
  Response& resp = scratch;
  Request req;
  req.headers = {{"Content-Type", "application/octet-stream"}};
  if (s.opt.upload == UploadMode::kSinglePost) {
    req.method = "POST";
    req.target = WithDigest(s.V2("/blobs/uploads/"), digest);
    req.body = &blob;
    if (!Send("blob POST ?digest= (monolithic)", req, &resp, {201})) return false;
  } else {
    Request post;
    post.method = "POST";
    post.target = s.V2("/blobs/uploads/");
    if (!Send("blob upload POST", post, &resp, {202})) return false;
    std::string location;
    if (!UploadLocation(resp, &location)) return false;
    if (s.opt.upload == UploadMode::kMonolithic) {
      req.method = "PUT";
      req.target = WithDigest(location, digest);
      req.body = &blob;
      if (!Send("blob upload PUT (with body)", req, &resp, {201})) return false;
    } else {
      uint64_t size = blob.size();
      uint64_t chunk = s.opt.chunk_size == 0 ? size : s.opt.chunk_size;
      for (uint64_t off = 0; off < size; off += chunk) {
        uint64_t len = size - off < chunk ? size - off : chunk;
        SliceBody slice(blob, off, len);
        Request patch;
        patch.method = "PATCH";
        patch.target = location;
        patch.body = &slice;
        patch.chunked = s.opt.stream;
        patch.headers = {{"Content-Type", "application/octet-stream"}};
        if (chunk < size) {
          patch.headers.push_back(
              {"Content-Range", std::to_string(off) + "-" + std::to_string(off + len - 1)});
        }
        if (!Send("blob upload PATCH", patch, &resp, {202})) return false;
        if (!UploadLocation(resp, &location)) return false;
      }
      req.method = "PUT";
      req.target = WithDigest(location, digest);
      if (!Send("blob upload PUT (complete)", req, &resp, {201})) return false;
    }
  }
  if (std::string_view d = resp.Get("docker-content-digest"); !d.empty() && d != digest) {
    Fail("blob upload: wrong Docker-Content-Digest", std::string(d) + " != " + digest);
    return false;
  }
  created_blobs.push_back(digest);
  if (s.pushed_bytes.fetch_add(blob.size()) + blob.size() > s.opt.max_push_bytes) {
    s.Stop("pushed --max-push-bytes");
  }
  return true;
}

bool Worker::HeadBlob(const std::string& digest, uint64_t expected_size, bool expect_missing,
                      bool* exists) {
  Response& resp = scratch;
  Request req;
  req.method = "HEAD";
  req.target = s.V2("/blobs/" + digest);
  if (expect_missing) {
    if (!Send("blob HEAD", req, &resp, {200, 404})) return false;
    if (exists != nullptr) *exists = resp.status == 200;
    return true;
  }
  if (!Send("blob HEAD", req, &resp, {200})) return false;
  std::string_view cl = resp.Get("content-length");
  if (!cl.empty() && cl != std::to_string(expected_size)) {
    Fail("blob HEAD: wrong Content-Length", std::string(cl));
    return false;
  }
  return true;
}

bool Worker::GetBlob(const std::string& digest, uint64_t size) {
  Response& resp = scratch;
  Request req;
  req.target = s.V2("/blobs/" + digest);
  std::optional<Sha256> hash;
  if (s.opt.verify) req.sink = &hash.emplace();
  if (!Send("blob GET", req, &resp, {200})) return false;
  if (resp.body_bytes != size) {
    Fail("blob GET: wrong size",
         std::to_string(resp.body_bytes) + " bytes, expected " + std::to_string(size));
    return false;
  }
  if (hash && hash->Finish() != digest) {
    Fail("blob GET: content does not match its digest", digest);
    return false;
  }
  return true;
}

bool Worker::PutManifest(const std::string& reference, const Image& img) {
  Response& resp = scratch;
  StringBody body(img.manifest);
  Request req;
  req.method = "PUT";
  req.target = s.V2("/manifests/" + reference);
  req.headers = {{"Content-Type", img.media_type}};
  req.body = &body;
  if (!Send("manifest PUT", req, &resp, {201})) return false;
  if (std::string_view d = resp.Get("docker-content-digest");
      !d.empty() && d != img.manifest_digest) {
    Fail("manifest PUT: wrong Docker-Content-Digest", std::string(d));
    return false;
  }
  created_manifests.push_back(img.manifest_digest);
  return true;
}

bool Worker::GetManifest(const std::string& reference, uint64_t expected_size,
                         const std::string& expected_digest, std::string* body) {
  Response& resp = scratch;
  Request req;
  req.target = s.V2("/manifests/" + reference);
  req.headers = ManifestAccept();
  req.keep_body = body != nullptr;
  req.max_kept = 4u << 20;
  std::optional<Sha256> hash;
  if (s.opt.verify) req.sink = &hash.emplace();
  if (!Send("manifest GET", req, &resp, {200})) return false;
  if (expected_size != 0 && resp.body_bytes != expected_size) {
    Fail("manifest GET: wrong size",
         std::to_string(resp.body_bytes) + " bytes, expected " + std::to_string(expected_size));
    return false;
  }
  if (hash && hash->Finish() != expected_digest) {
    Fail("manifest GET: content does not match its digest", expected_digest);
    return false;
  }
  if (body != nullptr) *body = std::move(resp.body);
  return true;
}

bool Worker::PushImage(int layers, uint64_t size, const std::string& tag, Image* out) {
  Image img;
  img.tag = tag;
  img.media_type = std::string(kOciManifest);
  json diff_ids = json::array();
  json layer_descs = json::array();
  for (int i = 0; i < layers; ++i) {
    BlobBody layer(size, rng);
    bool exists = false;
    if (!HeadBlob(layer.digest(), size, true, &exists)) return false;
    if (!exists && !PushBlob(layer, layer.digest())) return false;
    img.layers.emplace_back(layer.digest(), size);
    diff_ids.push_back(layer.digest());
    layer_descs.push_back({{"mediaType", kOciLayer}, {"digest", layer.digest()}, {"size", size}});
  }
  json config = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"created", "2024-01-01T00:00:00Z"},
      {"config", {{"Labels", {{"dtr-bench.nonce", RandomHex(rng, 16)}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
  };
  StringBody config_body(config.dump());
  img.config_digest = Sha256Digest(config_body.data());
  img.config_size = config_body.size();
  bool exists = false;
  if (!HeadBlob(img.config_digest, img.config_size, true, &exists)) return false;
  if (!exists && !PushBlob(config_body, img.config_digest)) return false;
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifest},
      {"config",
       {{"mediaType", kOciConfig}, {"digest", img.config_digest}, {"size", img.config_size}}},
      {"layers", layer_descs},
  };
  img.manifest = manifest.dump();
  img.manifest_digest = Sha256Digest(img.manifest);
  if (!PutManifest(tag.empty() ? img.manifest_digest : tag, img)) return false;
  if (out != nullptr) *out = std::move(img);
  return true;
}

bool Worker::PullImage(const std::string& reference, const Image& expected) {
  std::string body;
  if (!GetManifest(reference, expected.manifest.size(), expected.manifest_digest, &body)) {
    return false;
  }
  json m = json::parse(body, nullptr, false);
  if (!m.is_object() || !m.contains("config") || !m.contains("layers") || !m["layers"].is_array()) {
    Fail("pull: manifest is not an image manifest", Snippet(body));
    return false;
  }
  auto descriptor = [&](const json& d, std::string* digest, uint64_t* size) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string() ||
        !d.contains("size") || !d["size"].is_number_unsigned()) {
      Fail("pull: bad descriptor in manifest", Snippet(d.dump()));
      return false;
    }
    *digest = d["digest"].get<std::string>();
    *size = d["size"].get<uint64_t>();
    return true;
  };
  std::string digest;
  uint64_t size = 0;
  if (!descriptor(m["config"], &digest, &size) || !GetBlob(digest, size)) return false;
  for (const json& layer : m["layers"]) {
    if (!descriptor(layer, &digest, &size) || !GetBlob(digest, size)) return false;
  }
  return true;
}

bool Worker::CreateDtrRepository(std::string* note) {
  size_t slash = s.repo.find('/');
  if (!s.auth.has_credentials() || slash == std::string::npos ||
      s.repo.find('/', slash + 1) != std::string::npos) {
    return false;  // DTR names are exactly <namespace>/<name>
  }
  StringBody body(json{{"name", s.repo.substr(slash + 1)}, {"visibility", "private"}}.dump());
  Request req;
  req.method = "POST";
  req.target = s.prefix + "/api/v0/repositories/" + s.repo.substr(0, slash);
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json"},
                 {"Authorization", s.auth.BasicHeader()}};
  req.body = &body;
  Response resp;
  Error err;
  if (!client.Do(req, &resp, &err)) return false;
  if (resp.status == 201) return true;
  // 404/405: no DTR API here (any other registry). Anything else: DTR said no.
  if (resp.status != 404 && resp.status != 405) {
    *note = "POST /api/v0/repositories/" + s.repo.substr(0, slash) + ": HTTP " +
            std::to_string(resp.status) + " " + Snippet(resp.body);
  }
  return false;
}

bool Worker::DeleteDtrRepository() {
  Request req;
  req.method = "DELETE";
  req.target = s.prefix + "/api/v0/repositories/" + s.repo;
  req.headers = {{"Accept", "application/json"}, {"Authorization", s.auth.BasicHeader()}};
  Response resp;
  Error err;
  return client.Do(req, &resp, &err) && resp.status >= 200 && resp.status < 300;
}

bool Worker::DeleteManifest(const std::string& digest) {
  Request req;
  req.method = "DELETE";
  req.target = s.V2("/manifests/" + digest);
  return Send("manifest DELETE", req, &scratch, {200, 202, 204, 404});
}

bool Worker::DeleteBlob(const std::string& digest) {
  Request req;
  req.method = "DELETE";
  req.target = s.V2("/blobs/" + digest);
  return Send("blob DELETE", req, &scratch, {200, 202, 204, 404});
}

}  // namespace dtrb
