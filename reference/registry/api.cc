#include "registry/api.h"

#include <nlohmann/json.hpp>

#include "core/names.h"
#include "core/range.h"

namespace dtr::registry {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr size_t kMaxPage = 10000;

int StatusForTag(const std::string& tag, Code code) {
  if (tag == oci::kBlobUnknown || tag == oci::kBlobUploadUnknown || tag == oci::kManifestUnknown ||
      tag == oci::kNameUnknown) {
    return 404;
  }
  if (tag == oci::kRangeInvalid) return 416;
  if (tag == oci::kManifestInvalid && code == Code::kTooLarge) return 413;
  if (tag == oci::kUnauthorized) return 401;
  if (tag == oci::kDenied) return 403;
  if (tag == oci::kUnsupported) return 405;
  if (tag == oci::kTooManyRequests) return 429;
  if (!tag.empty()) return 400;
  switch (code) {
    case Code::kNotFound:
      return 404;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnavailable:
      return 503;
    case Code::kTooLarge:
      return 413;
    default:
      return 500;
  }
}

void SetJson(Response& res, int status, const json& body, const char* type = "application/json") {
  res.status = status;
  res.headers.Set("Content-Type", type);
  // Names and references echoed into errors may hold invalid UTF-8: replace, never throw.
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Reads a page size: nullopt = absent (all), error when not a number.
bool ParsePageSize(const Request& req, std::optional<size_t>* n, Response& res) {
  auto v = req.Query("n");
  if (!v) return true;
  auto parsed = ParseUint(*v);
  if (!parsed) {
    WriteError(res, 400, oci::kPaginationNumberInvalid,
               "query parameter n must be a non-negative integer");
    return false;
  }
  *n = static_cast<size_t>(std::min<uint64_t>(*parsed, kMaxPage));
  return true;
}

// Lists a page and sets the RFC 5988 Link header when more entries follow.
template <class ListFn>
bool ListPage(const Request& req, Response& res, const std::string& path, ListFn&& list,
              std::vector<std::string>* out) {
  std::optional<size_t> n;
  if (!ParsePageSize(req, &n, res)) return false;
  std::string last(req.Query("last").value_or(""));
  if (n && *n == 0) return true;
  auto items = list(last, n ? *n + 1 : 0);
  if (!items.ok()) {
    WriteStatus(res, items.status());
    return false;
  }
  *out = std::move(items.value());
  if (n && out->size() > *n) {
    out->resize(*n);
    res.headers.Set("Link", "<" + path + "?last=" + http::PercentEncode(out->back()) +
                                "&n=" + std::to_string(*n) + ">; rel=\"next\"");
  }
  return true;
}

http::BodyReader* Body(Request& req) {
  static thread_local http::StringBodyReader empty("");
  return req.body ? req.body : &empty;
}

ReadFn ReaderOf(Request& req) {
  http::BodyReader* body = Body(req);
  return [body](char* buf, size_t n, std::string* error) -> ssize_t {
    ssize_t r = body->Read(buf, n);
    if (r < 0) *error = body->error();
    return r;
  };
}

bool HasBody(const Request& req) {
  if (req.headers.Has("Transfer-Encoding")) return true;
  auto cl = req.headers.Get("Content-Length");
  return cl && *cl != "0";
}

void UploadHeaders(Response& res, const Request& req, const std::string& repo,
                   const UploadStatus& up) {
  res.headers.Set("Location",
                  http::ExternalBaseUrl(req) + "/v2/" + repo + "/blobs/uploads/" + up.uuid);
  res.headers.Set("Range", "0-" + std::to_string(up.offset == 0 ? 0 : up.offset - 1));
  res.headers.Set("Docker-Upload-UUID", up.uuid);
}

enum class Route { kNone, kTags, kUploadStart, kUpload, kBlob, kManifest, kReferrers };

// Splits a /v2/<name>/... path into the route, the repository name and the last component.
Route ParseRoute(const std::string& p, std::string* name, std::string* arg) {
  std::string rest = p.substr(4);
  auto ends_with = [&](const std::string& suffix) {
    return rest.size() > suffix.size() &&
           rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // Splits rest at the last "/<marker>/": name before, a final component after.
  auto split = [&](const std::string& marker) {
    auto pos = rest.rfind("/" + marker + "/");
    if (pos == std::string::npos || pos == 0) return false;
    std::string tail = rest.substr(pos + marker.size() + 2);
    if (tail.empty() || tail.find('/') != std::string::npos) return false;
    *name = rest.substr(0, pos);
    *arg = tail;
    return true;
  };
  if (ends_with("/tags/list")) {
    *name = rest.substr(0, rest.size() - 10);
    return Route::kTags;
  }
  if (ends_with("/blobs/uploads/") || ends_with("/blobs/uploads")) {
    *name = rest.substr(0, rest.rfind("/blobs/uploads"));
    return Route::kUploadStart;
  }
  if (split("blobs/uploads")) return Route::kUpload;
  if (split("blobs")) return Route::kBlob;
  if (split("manifests")) return Route::kManifest;
  if (split("referrers")) return Route::kReferrers;
  return Route::kNone;
}

}  // namespace

RouteInfo ClassifyRequest(const Request& req) {
  RouteInfo info;
  const std::string& p = req.path;
  if (p != "/v2" && p.rfind("/v2/", 0) != 0) return info;
  if (p == "/v2" || p == "/v2/") {
    info.kind = RouteInfo::Kind::kBase;
    return info;
  }
  if (p == "/v2/_catalog") {
    info.kind = RouteInfo::Kind::kCatalog;
    return info;
  }
  std::string name, arg;
  Route route = ParseRoute(p, &name, &arg);
  if (route == Route::kNone) return info;
  info.kind = RouteInfo::Kind::kRepository;
  info.repo = name;
  const std::string& m = req.method;
  bool read = m == "GET" || m == "HEAD";
  switch (route) {
    case Route::kTags:
    case Route::kReferrers:
      info.actions = {"pull"};
      break;
    case Route::kUploadStart:
    case Route::kUpload:
      info.actions = {"pull", "push"};
      if (route == Route::kUploadStart && req.Query("mount")) {
        info.mount_from = std::string(req.Query("from").value_or(""));
      }
      break;
    case Route::kBlob:
    case Route::kManifest:
      if (read) {
        info.actions = {"pull"};
      } else if (m == "DELETE") {
        info.actions = {"delete"};
      } else {
        info.actions = {"pull", "push"};
      }
      info.manifest = route == Route::kManifest;
      if (info.manifest) info.reference = arg;
      break;
    case Route::kNone:
      break;
  }
  return info;
}

namespace {}  // namespace

void WriteError(Response& res, int status, const std::string& code, const std::string& message,
                const std::string& detail_json) {
  json err = {{"code", code}, {"message", message}};
  if (!detail_json.empty()) {
    err["detail"] = json::parse(detail_json, nullptr, false);
  } else {
    err["detail"] = json::object();
  }
  res.stream = nullptr;
  SetJson(res, status, json{{"errors", json::array({err})}});
}

void WriteStatus(Response& res, const Status& s) {
  std::string tag = s.tag();
  if (tag == oci::kRangeInvalid) tag = oci::kBlobUploadInvalid;
  if (tag.empty()) tag = s.is(Code::kUnavailable) ? "UNAVAILABLE" : oci::kUnknown;
  WriteError(res, StatusForTag(s.tag(), s.code()), tag, s.message());
}

bool RegistryApi::Handle(Request& req, Response& res, const Visibility& visible) {
  const std::string& p = req.path;
  if (p != "/v2" && p.rfind("/v2/", 0) != 0) return false;
  res.headers.Set("Docker-Distribution-Api-Version", "registry/2.0");
  if (p == "/v2" || p == "/v2/") {
    Base(req, res);
    return true;
  }
  if (p == "/v2/_catalog") {
    Catalog(req, res, visible);
    return true;
  }
  std::string name, arg;
  Route route = ParseRoute(p, &name, &arg);
  if (route == Route::kNone) {
    WriteError(res, 404, oci::kUnsupported, "no such endpoint: " + req.method + " " + p);
    return true;
  }
  if (Status s = ValidateRepositoryName(name); !s.ok()) {
    WriteError(res, 400, oci::kNameInvalid, "invalid repository name: " + s.message());
    return true;
  }
  switch (route) {
    case Route::kTags:
      Tags(name, req, res);
      break;
    case Route::kUploadStart:
      UploadStart(name, req, res);
      break;
    case Route::kUpload:
      Upload(name, arg, req, res);
      break;
    case Route::kBlob:
      Blob(name, arg, req, res);
      break;
    case Route::kManifest:
      Manifest(name, arg, req, res);
      break;
    case Route::kReferrers:
      Referrers(name, arg, req, res);
      break;
    case Route::kNone:
      break;
  }
  return true;
}

namespace {
bool MethodIs(const Request& req, std::initializer_list<const char*> methods, Response& res) {
  for (const char* m : methods) {
    if (req.method == m) return true;
  }
  std::string allow;
  for (const char* m : methods) allow += std::string(allow.empty() ? "" : ", ") + m;
  res.headers.Set("Allow", allow);
  WriteError(res, 405, oci::kUnsupported,
             "method " + req.method + " is not allowed here; allowed: " + allow);
  return false;
}

bool Writable(const Registry& r, Response& res) {
  if (!r.options().read_only) return true;
  WriteError(res, 405, oci::kUnsupported,
             "the registry is in read-only mode; pushes and deletes are refused");
  return false;
}
}  // namespace

void RegistryApi::Base(Request& req, Response& res) {
  if (!MethodIs(req, {"GET", "HEAD"}, res)) return;
  SetJson(res, 200, json::object());
}

void RegistryApi::Catalog(Request& req, Response& res, const Visibility& visible) {
  if (!MethodIs(req, {"GET", "HEAD"}, res)) return;
  // Filtering happens before paging, so a page is full whenever more visible entries exist.
  auto list = [&](const std::string& last, size_t n) -> Result<std::vector<std::string>> {
    if (!visible) return registry_->Catalog(last, n);
    std::vector<std::string> out;
    std::string cursor = last;
    while (n == 0 || out.size() < n) {
      auto batch = registry_->Catalog(cursor, 500);
      if (!batch.ok()) return batch.status();
      for (const auto& r : *batch) {
        if (visible(r)) out.push_back(r);
        if (n != 0 && out.size() == n) break;
      }
      if (batch->size() < 500) break;
      cursor = batch->back();
    }
    return out;
  };
  std::vector<std::string> repos;
  if (!ListPage(req, res, "/v2/_catalog", list, &repos)) return;
  SetJson(res, 200, json{{"repositories", repos}});
}

void RegistryApi::Tags(const std::string& repo, Request& req, Response& res) {
  if (!MethodIs(req, {"GET", "HEAD"}, res)) return;
  std::vector<std::string> tags;
  if (!ListPage(
          req, res, "/v2/" + repo + "/tags/list",
          [&](const std::string& last, size_t n) { return registry_->ListTags(repo, last, n); },
          &tags)) {
    return;
  }
  SetJson(res, 200, json{{"name", repo}, {"tags", tags}});
}

void RegistryApi::Manifest(const std::string& repo, const std::string& ref, Request& req,
                           Response& res) {
  if (!MethodIs(req, {"GET", "HEAD", "PUT", "DELETE"}, res)) return;
  if (req.method == "GET" || req.method == "HEAD") {
    auto m = registry_->GetManifest(repo, ref);
    if (!m.ok()) return WriteStatus(res, m.status());
    res.status = 200;
    res.headers.Set("Content-Type", m->media_type);
    res.headers.Set("Docker-Content-Digest", m->digest.str());
    res.headers.Set("Etag", "\"" + m->digest.str() + "\"");
    auto inm = req.headers.Get("If-None-Match");
    if (inm && (*inm == "\"" + m->digest.str() + "\"" || *inm == m->digest.str())) {
      res.status = 304;
      return;
    }
    if (req.method == "HEAD") {
      res.headers.Set("Content-Length", std::to_string(m->content->size()));
      return;
    }
    res.body = *m->content;
    return;
  }
  if (!Writable(*registry_, res)) return;
  if (req.method == "DELETE") {
    if (!registry_->options().delete_enabled) {
      return WriteError(res, 405, oci::kUnsupported, "deletion is disabled on this registry");
    }
    Status s = registry_->DeleteManifest(repo, ref);
    if (!s.ok()) return WriteStatus(res, s);
    res.status = 202;
    return;
  }
  // PUT
  http::BodyReader* body = Body(req);
  if (auto len = body->declared_length(); len && *len > kMaxManifestSize) {
    res.close_connection = true;
    return WriteError(
        res, 413, oci::kManifestInvalid,
        "manifest is " + std::to_string(*len) + " bytes; the limit is 4 MiB (4194304 bytes)");
  }
  std::string content;
  char buf[65536];
  while (true) {
    ssize_t n = body->Read(buf, sizeof buf);
    if (n < 0) {
      return WriteError(res, 400, oci::kManifestInvalid,
                        "manifest body incomplete: " + body->error());
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxManifestSize) {
      res.close_connection = true;
      return WriteError(res, 413, oci::kManifestInvalid,
                        "manifest is larger than the 4 MiB (4194304 bytes) limit");
    }
  }
  std::string type = req.headers.GetOr("Content-Type");
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  auto put = registry_->PutManifest(repo, ref, type, content);
  if (!put.ok()) return WriteStatus(res, put.status());
  res.status = 201;
  res.headers.Set("Location",
                  http::ExternalBaseUrl(req) + "/v2/" + repo + "/manifests/" + put->digest.str());
  res.headers.Set("Docker-Content-Digest", put->digest.str());
  if (put->subject) res.headers.Set("OCI-Subject", put->subject->str());
}

void RegistryApi::Blob(const std::string& repo, const std::string& digest_text, Request& req,
                       Response& res) {
  if (!MethodIs(req, {"GET", "HEAD", "DELETE"}, res)) return;
  auto digest = Digest::Parse(digest_text);
  if (!digest.ok()) {
    return WriteError(
        res, 400, oci::kDigestInvalid,
        "invalid digest '" + digest_text.substr(0, 200) + "': " + digest.status().message());
  }
  if (req.method == "DELETE") {
    if (!Writable(*registry_, res)) return;
    if (!registry_->options().delete_enabled) {
      return WriteError(res, 405, oci::kUnsupported, "deletion is disabled on this registry");
    }
    Status s = registry_->DeleteBlob(repo, *digest);
    if (!s.ok()) return WriteStatus(res, s);
    res.status = 202;
    return;
  }
  auto info = registry_->StatBlob(repo, *digest);
  if (!info.ok()) return WriteStatus(res, info.status());
  uint64_t size = info->size;
  res.headers.Set("Content-Type", "application/octet-stream");
  res.headers.Set("Docker-Content-Digest", digest->str());
  res.headers.Set("Etag", "\"" + digest->str() + "\"");
  res.headers.Set("Accept-Ranges", "bytes");
  res.headers.Set("Cache-Control", "max-age=31536000");
  uint64_t offset = 0, length = size;
  res.status = 200;
  if (auto range = req.headers.Get("Range")) {
    auto r = ResolveRangeHeader(*range, size);
    if (!r.ok() && r.status().is(Code::kOutOfRange)) {
      res.headers.Set("Content-Range", "bytes */" + std::to_string(size));
      return WriteError(res, 416, oci::kBlobUnknown, r.status().message());
    }
    if (r.ok() && r->has_value()) {
      offset = (*r)->first;
      length = (*r)->length();
      res.status = 206;
      res.headers.Set("Content-Range", "bytes " + std::to_string((*r)->first) + "-" +
                                           std::to_string((*r)->last) + "/" + std::to_string(size));
    }
  }
  if (req.method == "HEAD") {
    res.SetStream(length, nullptr);
    res.headers.Set("Content-Length", std::to_string(length));
    return;
  }
  auto reader = registry_->OpenBlob(*digest, offset);
  if (!reader.ok()) return WriteStatus(res, reader.status());
  std::shared_ptr<storage::FileReader> rd(std::move(reader.value()));
  res.SetStream(length, [rd, offset, length](http::BodyWriter& w) {
    if (rd->native_fd() >= 0) return w.SendFile(rd->native_fd(), offset, length);
    std::vector<char> buf(1 << 20);
    uint64_t left = length;
    while (left > 0) {
      auto n = rd->Read(buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
      if (!n.ok() || *n == 0) return false;
      if (!w.Write(buf.data(), *n)) return false;
      left -= *n;
    }
    return true;
  });
}

void RegistryApi::UploadStart(const std::string& repo, Request& req, Response& res) {
  if (!MethodIs(req, {"POST"}, res)) return;
  if (!Writable(*registry_, res)) return;
  if (auto mount = req.Query("mount")) {
    auto digest = Digest::Parse(*mount);
    if (!digest.ok()) {
      return WriteError(res, 400, oci::kDigestInvalid,
                        "invalid mount digest: " + digest.status().message());
    }
    if (auto from = req.Query("from")) {
      auto mounted = registry_->MountBlob(repo, std::string(*from), *digest);
      if (!mounted.ok()) return WriteStatus(res, mounted.status());
      if (*mounted) {
        res.status = 201;
        res.headers.Set("Location",
                        http::ExternalBaseUrl(req) + "/v2/" + repo + "/blobs/" + digest->str());
        res.headers.Set("Docker-Content-Digest", digest->str());
        return;
      }
    }
    // Not mountable: fall through to an ordinary upload session (202), as the spec says.
  }
  std::optional<Digest> digest;
  if (auto d = req.Query("digest")) {
    auto parsed = Digest::Parse(*d);
    if (!parsed.ok()) {
      return WriteError(res, 400, oci::kDigestInvalid,
                        "invalid digest: " + parsed.status().message());
    }
    digest = parsed.value();
  }
  auto up = registry_->StartUpload(repo);
  if (!up.ok()) return WriteStatus(res, up.status());
  if (HasBody(req) || digest) {
    auto appended =
        registry_->AppendUpload(repo, up->uuid, std::nullopt, std::nullopt, ReaderOf(req));
    if (!appended.ok()) {
      registry_->CancelUpload(repo, up->uuid);
      return WriteStatus(res, appended.status());
    }
    *up = appended.value();
  }
  if (digest) {
    auto done = registry_->CompleteUpload(repo, up->uuid, *digest);
    if (!done.ok()) {
      registry_->CancelUpload(repo, up->uuid);
      return WriteStatus(res, done.status());
    }
    res.status = 201;
    res.headers.Set("Location",
                    http::ExternalBaseUrl(req) + "/v2/" + repo + "/blobs/" + digest->str());
    res.headers.Set("Docker-Content-Digest", digest->str());
    return;
  }
  res.status = 202;
  UploadHeaders(res, req, repo, *up);
}

void RegistryApi::Upload(const std::string& repo, const std::string& uuid, Request& req,
                         Response& res) {
  if (!MethodIs(req, {"GET", "HEAD", "PATCH", "PUT", "DELETE"}, res)) return;
  if (req.method == "GET" || req.method == "HEAD") {
    auto up = registry_->GetUpload(repo, uuid);
    if (!up.ok()) return WriteStatus(res, up.status());
    res.status = 204;
    UploadHeaders(res, req, repo, *up);
    return;
  }
  if (!Writable(*registry_, res)) return;
  if (req.method == "DELETE") {
    Status s = registry_->CancelUpload(repo, uuid);
    if (!s.ok()) return WriteStatus(res, s);
    res.status = 204;
    return;
  }
  std::optional<uint64_t> expected_offset, expected_length;
  if (auto cr = req.headers.Get("Content-Range")) {
    auto range = ParseContentRange(*cr);
    if (!range.ok()) {
      return WriteError(res, 416, oci::kBlobUploadInvalid,
                        "malformed Content-Range: " + range.status().message());
    }
    expected_offset = range->first;
    expected_length = range->length();
    auto declared = Body(req)->declared_length();
    if (declared && *declared != *expected_length) {
      res.close_connection = true;
      return WriteError(res, 400, oci::kBlobUploadInvalid,
                        "Content-Range covers " + std::to_string(*expected_length) +
                            " bytes but Content-Length is " + std::to_string(*declared));
    }
  }
  std::optional<Digest> digest;
  if (req.method == "PUT") {
    auto d = req.Query("digest");
    if (!d) {
      return WriteError(res, 400, oci::kDigestInvalid,
                        "the digest query parameter is required to complete an upload");
    }
    auto parsed = Digest::Parse(*d);
    if (!parsed.ok()) {
      return WriteError(res, 400, oci::kDigestInvalid,
                        "invalid digest: " + parsed.status().message());
    }
    digest = parsed.value();
  }
  if (req.method == "PATCH" || HasBody(req)) {
    auto up = registry_->AppendUpload(repo, uuid, expected_offset, expected_length, ReaderOf(req));
    if (!up.ok()) {
      WriteStatus(res, up.status());
      if (auto cur = registry_->GetUpload(repo, uuid); cur.ok()) {
        UploadHeaders(res, req, repo, *cur);
      }
      if (!Body(req)->finished()) res.close_connection = true;
      return;
    }
    if (req.method == "PATCH") {
      res.status = 202;
      UploadHeaders(res, req, repo, *up);
      return;
    }
  }
  auto done = registry_->CompleteUpload(repo, uuid, *digest);
  if (!done.ok()) return WriteStatus(res, done.status());
  res.status = 201;
  res.headers.Set("Location",
                  http::ExternalBaseUrl(req) + "/v2/" + repo + "/blobs/" + digest->str());
  res.headers.Set("Docker-Content-Digest", digest->str());
}

void RegistryApi::Referrers(const std::string& repo, const std::string& digest_text, Request& req,
                            Response& res) {
  if (!MethodIs(req, {"GET", "HEAD"}, res)) return;
  auto digest = Digest::Parse(digest_text);
  if (!digest.ok()) {
    return WriteError(res, 400, oci::kDigestInvalid,
                      "invalid digest: " + digest.status().message());
  }
  auto refs = registry_->Referrers(repo, *digest);
  if (!refs.ok()) return WriteStatus(res, refs.status());
  auto filter = req.Query("artifactType");
  json manifests = json::array();
  for (const auto& r : *refs) {
    if (filter && r.artifact_type != *filter) continue;
    json d = {{"mediaType", r.media_type}, {"digest", r.digest}, {"size", r.size}};
    if (!r.artifact_type.empty()) d["artifactType"] = r.artifact_type;
    if (!r.annotations_json.empty()) {
      d["annotations"] = json::parse(r.annotations_json, nullptr, false);
    }
    manifests.push_back(std::move(d));
  }
  if (filter) res.headers.Set("OCI-Filters-Applied", "artifactType");
  SetJson(res, 200,
          json{{"schemaVersion", 2},
               {"mediaType", std::string(media::kOciIndex)},
               {"manifests", manifests}},
          "application/vnd.oci.image.index.v1+json");
}

}  // namespace dtr::registry
