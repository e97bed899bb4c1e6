#include "registry_ops.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <regex>

#include "digest.h"

namespace dtrc {

HttpResponse Oci::send(const HttpRequest& req) {
  HttpResponse r = ctx_.http().send(req);
  if (!r.ok()) ctx_.fail(req.method + " " + req.target + ": " + r.error, r);
  if (r.status == 401 && !ctx_.http().auth_problem().empty()) {
    // The suite cannot act in its namespace: that is the operator's problem, not a
    // verdict on the registry.
    CaseFailed f;
    f.reason = "authentication failed for " + req.method + " " + req.target + ": " +
               ctx_.http().auth_problem();
    f.evidence = r.request_text + "\n" + r.text();
    f.fatal = true;
    throw f;
  }
  return r;
}

HttpResponse Oci::get(const std::string& target, Headers headers) {
  return send({.method = "GET", .target = target, .headers = std::move(headers)});
}

HttpResponse Oci::head(const std::string& target, Headers headers) {
  return send({.method = "HEAD", .target = target, .headers = std::move(headers)});
}

HttpResponse Oci::del(const std::string& target) {
  return send({.method = "DELETE", .target = target});
}

HttpResponse Oci::post(const std::string& target, std::string body, Headers headers) {
  return send(
      {.method = "POST", .target = target, .headers = std::move(headers), .body = std::move(body)});
}

HttpResponse Oci::put(const std::string& target, std::string body, Headers headers) {
  return send(
      {.method = "PUT", .target = target, .headers = std::move(headers), .body = std::move(body)});
}

HttpResponse Oci::patch(const std::string& target, std::string body, Headers headers) {
  return send({.method = "PATCH",
               .target = target,
               .headers = std::move(headers),
               .body = std::move(body)});
}

void Oci::expect_status(const HttpResponse& r, std::initializer_list<int> ok,
                        const std::string& what) {
  for (int s : ok) {
    if (r.status == s) return;
  }
  std::string want;
  for (int s : ok) want += (want.empty() ? "" : " or ") + std::to_string(s);
  ctx_.fail(what + ": expected " + want + ", got " + std::to_string(r.status), r);
}

std::string Oci::expect_header(const HttpResponse& r, std::string_view name,
                               const std::string& what) {
  if (!r.has_header(name)) ctx_.fail(what + ": no " + std::string(name) + " header", r);
  return r.header(name);
}

std::string Oci::location(const HttpResponse& r, const std::string& what) {
  std::string loc = expect_header(r, "Location", what);
  if (loc.empty()) ctx_.fail(what + ": empty Location header", r);
  return HttpClient::resolve(r.url, loc);
}

std::string Oci::blob_path(const std::string& repo, const std::string& digest) {
  return "/v2/" + repo + "/blobs/" + digest;
}
std::string Oci::manifest_path(const std::string& repo, const std::string& reference) {
  return "/v2/" + repo + "/manifests/" + reference;
}
std::string Oci::uploads_path(const std::string& repo) { return "/v2/" + repo + "/blobs/uploads/"; }

std::string Oci::add_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string Oci::start_upload(const std::string& repo) {
  HttpResponse r = post(uploads_path(repo));
  if (r.status != 202 || !r.has_header("Location")) {
    ctx_.blocked("POST " + uploads_path(repo), r);
  }
  std::string loc = HttpClient::resolve(r.url, r.header("Location"));
  CaseContext* ctx = &ctx_;
  ctx_.on_cleanup([ctx, loc] { ctx->http().send({.method = "DELETE", .target = loc}); });
  return loc;
}

void Oci::push_blob_as(const std::string& repo, const std::string& bytes,
                       const std::string& digest) {
  HttpResponse r = post(uploads_path(repo));
  if (r.status != 202 || !r.has_header("Location")) {
    ctx_.blocked("POST " + uploads_path(repo), r);
  }
  std::string loc = HttpClient::resolve(r.url, r.header("Location"));
  HttpResponse p = put(add_query(loc, "digest=" + digest), bytes,
                       {{"Content-Type", "application/octet-stream"}});
  if (p.status != 201) ctx_.blocked("PUT <upload>?digest= (blob push)", p);
  CaseContext* ctx = &ctx_;
  ctx_.on_cleanup([ctx, repo, digest] {
    ctx->http().send({.method = "DELETE", .target = blob_path(repo, digest)});
  });
}

std::string Oci::push_blob(const std::string& repo, const std::string& bytes) {
  std::string digest = sha256_digest(bytes);
  push_blob_as(repo, bytes, digest);
  return digest;
}

Oci::Pushed Oci::push_manifest(const std::string& repo, const std::string& reference,
                               const std::string& body, const std::string& media_type) {
  HttpResponse r = put(manifest_path(repo, reference), body, {{"Content-Type", media_type}});
  if (r.status != 201) ctx_.blocked("PUT " + manifest_path(repo, reference), r);
  Pushed p{sha256_digest(body), body, media_type, r};
  CaseContext* ctx = &ctx_;
  std::string digest = p.digest;
  ctx_.on_cleanup([ctx, repo, digest] {
    ctx->http().send({.method = "DELETE", .target = manifest_path(repo, digest)});
  });
  return p;
}

Descriptor Oci::Image::descriptor() const {
  Descriptor d;
  d.media_type = manifest.media_type;
  d.digest = manifest.digest;
  d.size = manifest.body.size();
  return d;
}

Oci::Image Oci::push_image_blobs(const std::string& repo, const std::string& media_type) {
  const bool docker = media_type == kDockerManifest;
  Image img;
  img.config_bytes = make_config();
  img.layer_bytes = make_layer();
  img.config = describe(docker ? kDockerConfig : kOciConfig, img.config_bytes);
  img.layer = describe(docker ? kDockerLayer : kOciLayer, img.layer_bytes);
  push_blob(repo, img.config_bytes);
  push_blob(repo, img.layer_bytes);
  return img;
}

Oci::Image Oci::push_image(const std::string& repo, const std::string& reference,
                           const std::string& media_type) {
  Image img = push_image_blobs(repo, media_type);
  ManifestSpec spec;
  spec.media_type = media_type;
  spec.config = img.config;
  spec.layers = {img.layer};
  std::string body = build_manifest(spec);
  img.manifest =
      push_manifest(repo, reference.empty() ? sha256_digest(body) : reference, body, media_type);
  return img;
}

std::vector<std::string> Oci::error_codes(const HttpResponse& r) {
  std::vector<std::string> codes;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return codes;
  for (const auto& e : j["errors"]) {
    if (e.is_object() && e.contains("code") && e["code"].is_string()) {
      codes.push_back(e["code"].get<std::string>());
    }
  }
  return codes;
}

void Oci::expect_error_code(const HttpResponse& r, const std::string& code,
                            const std::string& what) {
  auto codes = error_codes(r);
  for (const auto& c : codes) {
    if (c == code) return;
  }
  if (codes.empty()) {
    ctx_.fail(what + ": expected a JSON error body with code " + code + ", got none", r);
  }
  std::string got;
  for (const auto& c : codes) got += (got.empty() ? "" : ",") + c;
  ctx_.fail(what + ": expected error code " + code + ", got " + got, r);
}

std::string next_link(const std::string& link_header) {
  // <url>; rel="next" (possibly among several comma-separated links)
  static const std::regex kLink(R"re(<([^>]*)>\s*((;\s*[^,;]+)*))re");
  for (std::sregex_iterator it(link_header.begin(), link_header.end(), kLink), end; it != end;
       ++it) {
    std::string params = (*it)[2].str();
    static const std::regex kNext(R"re(;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?)re",
                                  std::regex::icase);
    if (std::regex_search(params, kNext)) return (*it)[1].str();
  }
  return "";
}

bool parse_range(std::string_view value, long long& first, long long& last) {
  if (value.substr(0, 6) == "bytes ") value.remove_prefix(6);
  if (auto slash = value.find('/'); slash != std::string_view::npos) value = value.substr(0, slash);
  auto dash = value.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  auto a = value.substr(0, dash), b = value.substr(dash + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), first);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), last);
  return r1.ec == std::errc() && r1.ptr == a.data() + a.size() && r2.ec == std::errc() &&
         r2.ptr == b.data() + b.size() && first <= last;
}

}  // namespace dtrc
