// Group `registry`, manifests (end-3, end-7): push by tag and digest, the exact bytes, the
// digest header, content negotiation with repeated Accept lines, OCI image/index and
// Docker schema 2 manifest/list, MANIFEST_BLOB_UNKNOWN, invalid manifests and tags.
#include <nlohmann/json.hpp>

#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

Headers accept_all() {
  Headers h;
  for (const auto& t : client_accept_types()) h.push_back({"Accept", t});
  return h;
}

std::string media_type_of(const HttpResponse& r) {
  std::string t = r.header("Content-Type");
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

void expect_manifest(Oci& oci, const HttpResponse& r, const Oci::Pushed& m,
                     const std::string& what) {
  oci.expect_status(r, {200}, what);
  if (r.body != m.body) oci.ctx().fail(what + ": the body is not the manifest as pushed", r);
}

void manifest_put_tag(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  ManifestSpec spec{.config = img.config, .layers = {img.layer}};
  std::string body = build_manifest(spec);
  HttpResponse r = oci.put(Oci::manifest_path(repo, "v1"), body, {{"Content-Type", kOciManifest}});
  ctx.on_cleanup([&ctx, repo, d = sha256_digest(body)] {
    ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, d)});
  });
  oci.expect_status(r, {201}, "PUT manifest by tag");
  oci.location(r, "PUT manifest by tag");
}

void manifest_put_digest_header(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "v1");
  const HttpResponse& r = img.manifest.response;
  if (!r.has_header("Docker-Content-Digest")) {
    ctx.note("no Docker-Content-Digest on the 201 (legacy headers are OPTIONAL)");
    return;
  }
  if (r.header("Docker-Content-Digest") != img.manifest.digest) {
    ctx.fail("Docker-Content-Digest " + r.header("Docker-Content-Digest") +
                 ", the manifest's digest is " + img.manifest.digest,
             r);
  }
}

void manifest_put_location_pullable(CaseContext& ctx) {
  Oci oci(ctx);
  Oci::Image img = oci.push_image(ctx.new_repo(), "v1");
  std::string loc = oci.location(img.manifest.response, "201 to PUT manifest");
  expect_manifest(oci, oci.get(loc, accept_all()), img.manifest, "GET the Location of the 201");
}

void manifest_put_by_digest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  std::string body = build_manifest({.config = img.config, .layers = {img.layer}});
  std::string digest = sha256_digest(body);
  HttpResponse r =
      oci.put(Oci::manifest_path(repo, digest), body, {{"Content-Type", kOciManifest}});
  ctx.on_cleanup([&ctx, repo, digest] {
    ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, digest)});
  });
  oci.expect_status(r, {201}, "PUT manifest by digest");
  oci.location(r, "PUT manifest by digest");
  HttpResponse g = oci.get(Oci::manifest_path(repo, digest), accept_all());
  oci.expect_status(g, {200}, "GET the manifest pushed by digest");
  if (g.body != body) ctx.fail("GET by digest: not the manifest as pushed", g);
}

void manifest_get_by_tag(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  expect_manifest(oci, oci.get(Oci::manifest_path(repo, "latest"), {{"Accept", kOciManifest}}),
                  img.manifest, "GET manifest by tag");
}

void manifest_get_by_digest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  expect_manifest(
      oci, oci.get(Oci::manifest_path(repo, img.manifest.digest), {{"Accept", kOciManifest}}),
      img.manifest, "GET manifest by digest");
}

void manifest_head(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  for (const std::string& ref : {std::string("latest"), img.manifest.digest}) {
    HttpResponse r = oci.head(Oci::manifest_path(repo, ref), accept_all());
    oci.expect_status(r, {200}, "HEAD manifest " + ref);
  }
}

void manifest_head_headers(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  HttpResponse r = oci.head(Oci::manifest_path(repo, "latest"), accept_all());
  oci.expect_status(r, {200}, "HEAD manifest");
  std::string d = oci.expect_header(r, "Docker-Content-Digest", "HEAD manifest");
  if (d != img.manifest.digest)
    ctx.fail("HEAD manifest: Docker-Content-Digest " + d + ", want " + img.manifest.digest, r);
  std::string len = oci.expect_header(r, "Content-Length", "HEAD manifest");
  if (len != std::to_string(img.manifest.body.size())) {
    ctx.fail("HEAD manifest: Content-Length " + len + ", the manifest has " +
                 std::to_string(img.manifest.body.size()) + " bytes",
             r);
  }
}

void manifest_get_digest_header(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  HttpResponse r = oci.get(Oci::manifest_path(repo, "latest"), accept_all());
  oci.expect_status(r, {200}, "GET manifest by tag");
  std::string d = oci.expect_header(r, "Docker-Content-Digest", "GET manifest by tag");
  if (d != digest_like(d, r.body)) {
    ctx.fail("Docker-Content-Digest " + d + " is not the digest of the body returned", r);
  }
}

void manifest_get_content_type(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  HttpResponse r = oci.get(Oci::manifest_path(repo, "latest"), accept_all());
  oci.expect_status(r, {200}, "GET manifest by tag");
  if (media_type_of(r) != kOciManifest) {
    ctx.fail("Content-Type \"" + r.header("Content-Type") + "\", pushed as " + kOciManifest, r);
  }
}

void manifest_get_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  HttpResponse t = oci.get(Oci::manifest_path(repo, "no-such-tag"), accept_all());
  oci.expect_status(t, {404}, "GET an unknown tag");
  HttpResponse d = oci.get(Oci::manifest_path(repo, sha256_digest(random_bytes(16))), accept_all());
  oci.expect_status(d, {404}, "GET an unknown manifest digest");
}

void manifest_get_unknown_repo(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();  // never pushed to
  HttpResponse r = oci.get(Oci::manifest_path(repo, "latest"), accept_all());
  oci.expect_status(r, {404}, "GET a manifest of a repository that does not exist");
}

void manifest_get_invalid_digest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  for (const char* bad : {"sha256:totallywrong", "sha256:abc"}) {
    HttpResponse r = oci.get(Oci::manifest_path(repo, bad), accept_all());
    oci.expect_status(r, {400, 404}, std::string("GET manifest ") + bad);
  }
}

void manifest_exact_bytes(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  // Unusual but valid JSON: indentation, key order, a trailing newline.
  auto j = nlohmann::json::parse(build_manifest({.config = img.config, .layers = {img.layer}}));
  std::string body = "{\n  \"schemaVersion\" :  2,\n\t\"config\": " + j["config"].dump() +
                     ",\n  \"layers\":" + j["layers"].dump(3) + ",\n  \"mediaType\": \"" +
                     kOciManifest + "\"\n}\n";
  Oci::Pushed m = oci.push_manifest(repo, "pretty", body, kOciManifest);
  expect_manifest(oci, oci.get(Oci::manifest_path(repo, "pretty"), accept_all()), m, "GET by tag");
  expect_manifest(oci, oci.get(Oci::manifest_path(repo, m.digest), accept_all()), m,
                  "GET by digest");
}

// Pushes content of one manifest format by tag and reads it back with the six Accept lines
// a real client sends.
void check_format(CaseContext& ctx, const std::string& type) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Pushed m;
  if (type == kOciIndex || type == kDockerList) {
    const std::string child = type == kOciIndex ? kOciManifest : kDockerManifest;
    Oci::Image a = oci.push_image(repo, "", child), b = oci.push_image(repo, "", child);
    Descriptor da = a.descriptor(), db = b.descriptor();
    da.platform_os = db.platform_os = "linux";
    da.platform_arch = "amd64";
    db.platform_arch = "arm64";
    m = oci.push_manifest(repo, "multi", build_index({.media_type = type, .manifests = {da, db}}),
                          type);
  } else {
    m = oci.push_image(repo, "multi", type).manifest;
  }
  HttpResponse r = oci.get(Oci::manifest_path(repo, "multi"), accept_all());
  expect_manifest(oci, r, m, "GET with six Accept lines");
  if (media_type_of(r) != type) {
    ctx.fail("Content-Type \"" + r.header("Content-Type") + "\", pushed as " + type, r);
  }
}

void manifest_oci_image(CaseContext& ctx) { check_format(ctx, kOciManifest); }
void manifest_oci_index(CaseContext& ctx) { check_format(ctx, kOciIndex); }
void manifest_docker_v2(CaseContext& ctx) { check_format(ctx, kDockerManifest); }
void manifest_docker_list(CaseContext& ctx) { check_format(ctx, kDockerList); }

void manifest_accept_mismatch(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  HttpResponse r = oci.get(Oci::manifest_path(repo, "latest"),
                           {{"Accept", kDockerManifest}, {"Accept", kDockerList}});
  oci.expect_status(r, {200, 406}, "GET an OCI manifest accepting only Docker types");
  if (r.status == 200 && r.body != img.manifest.body) ctx.fail("200 but not the manifest", r);
}

void manifest_blob_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  Descriptor missing = describe(kOciLayer, make_layer(64));  // never pushed
  std::string body = build_manifest({.config = img.config, .layers = {img.layer, missing}});
  HttpResponse r =
      oci.put(Oci::manifest_path(repo, "broken"), body, {{"Content-Type", kOciManifest}});
  if (r.status == 201) {
    ctx.on_cleanup([&ctx, repo, d = sha256_digest(body)] {
      ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, d)});
    });
    ctx.note("the registry accepts manifests naming missing blobs (MAY)");
    return;
  }
  oci.expect_status(r, {400, 404}, "PUT manifest naming a missing layer");
  oci.expect_error_code(r, "MANIFEST_BLOB_UNKNOWN", "PUT manifest naming a missing layer");
}

void manifest_invalid(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  HttpResponse r = oci.put(Oci::manifest_path(repo, "garbage"), "{this is not json",
                           {{"Content-Type", kOciManifest}});
  if (r.status == 201) {
    ctx.on_cleanup([&ctx, repo] {
      ctx.http().send({.method = "DELETE",
                       .target = Oci::manifest_path(repo, sha256_digest("{this is not json"))});
    });
  }
  oci.expect_status(r, {400}, "PUT a manifest that is not JSON");
  oci.expect_error_code(r, "MANIFEST_INVALID", "PUT a manifest that is not JSON");
}

void manifest_content_type_params(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  std::string body = build_manifest({.config = img.config, .layers = {img.layer}});
  HttpResponse r = oci.put(Oci::manifest_path(repo, "params"), body,
                           {{"Content-Type", std::string(kOciManifest) + "; charset=utf-8"}});
  ctx.on_cleanup([&ctx, repo, d = sha256_digest(body)] {
    ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, d)});
  });
  oci.expect_status(r, {201}, "PUT manifest with a Content-Type parameter");
}

void manifest_large(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image_blobs(repo);
  ManifestSpec spec{.config = img.config, .layers = {img.layer}};
  std::string probe = build_manifest(spec);
  spec.padding = 4000000 - probe.size() - 60;  // about 4 MB in all
  std::string body = build_manifest(spec);
  HttpResponse r =
      oci.put(Oci::manifest_path(repo, "large"), body, {{"Content-Type", kOciManifest}});
  ctx.on_cleanup([&ctx, repo, d = sha256_digest(body)] {
    ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, d)});
  });
  oci.expect_status(r, {201}, "PUT a " + std::to_string(body.size()) + "-byte manifest");
  HttpResponse g = oci.get(Oci::manifest_path(repo, "large"), accept_all());
  oci.expect_status(g, {200}, "GET the large manifest");
  if (g.body != body) ctx.fail("GET the large manifest: not the bytes pushed", g);
}

void manifest_tag_invalid(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "");
  for (const std::string& tag :
       {std::string(129, 'a'), std::string(".dot-first"), std::string("-dash-first")}) {
    HttpResponse r =
        oci.put(Oci::manifest_path(repo, tag), img.manifest.body, {{"Content-Type", kOciManifest}});
    if (r.status >= 200 && r.status < 300) {
      ctx.fail("PUT manifest with invalid tag \"" + tag.substr(0, 20) + "...\" was accepted", r);
    }
    oci.expect_status(r, {400, 404}, "PUT manifest with an invalid tag");
  }
}

#define CASE(ID, LEVEL, FN, CLAUSE) \
  DTRC_CASE({.group = "registry",   \
             .id = ID,              \
             .clause = CLAUSE,      \
             .level = Level::LEVEL, \
             .fn = FN,              \
             .order = 30})

CASE("manifest-put-tag", kMust, manifest_put_tag,
     "end-7 Pushing Manifests: PUT by tag MUST answer 201 Created with Location");
CASE("manifest-put-digest-header", kMust, manifest_put_digest_header,
     "end-7: Docker-Content-Digest on the 201 MUST be equal to the client-provided digest");
CASE("manifest-put-location-pullable", kMust, manifest_put_location_pullable,
     "end-7: the 201's Location is a pullable manifest URL");
CASE("manifest-put-by-digest", kMust, manifest_put_by_digest,
     "end-7: <reference> MUST be a digest or a tag; PUT by digest, 201, then GET by digest 200");
CASE("manifest-get-by-tag", kMust, manifest_get_by_tag,
     "end-3 Pulling manifests: GET an existing manifest by tag MUST give it with 200 OK");
CASE("manifest-get-by-digest", kMust, manifest_get_by_digest,
     "end-3 Pulling manifests: GET an existing manifest by digest MUST give it with 200 OK");
CASE("manifest-head", kMust, manifest_head,
     "end-3 Checking if content exists: HEAD to an existing manifest (tag, digest) MUST be 200");
CASE("manifest-head-headers", kShould, manifest_head_headers,
     "end-3 Checking if content exists: a successful HEAD SHOULD carry Docker-Content-Digest "
     "and Content-Length");
CASE("manifest-get-digest-header", kShould, manifest_get_digest_header,
     "end-3: a successful response SHOULD carry the manifest's digest in Docker-Content-Digest");
CASE("manifest-get-content-type", kShould, manifest_get_content_type,
     "end-3: Content-Type SHOULD match what the client pushed as the manifest's Content-Type");
CASE("manifest-get-unknown", kMust, manifest_get_unknown,
     "end-3: if the manifest is not found in the repository, the response code MUST be 404");
CASE("manifest-get-unknown-repo", kMust, manifest_get_unknown_repo,
     "end-7: an attempt to pull a nonexistent repository MUST return 404 Not Found");
CASE("manifest-get-invalid-digest", kMust, manifest_get_invalid_digest,
     "end-3 failure codes 404/400: a malformed digest reference is a client error, never a "
     "server error");
CASE("manifest-exact-bytes", kMust, manifest_exact_bytes,
     "end-7: the registry MUST store the manifest in the exact byte representation provided");
CASE("manifest-oci-image", kMust, manifest_oci_image,
     "end-3/end-7 with an OCI image manifest and six separate Accept lines: 200, Content-Type "
     "as pushed");
CASE("manifest-oci-index", kMust, manifest_oci_index,
     "end-3/end-7 with an OCI image index (apdx-6) and six separate Accept lines: 200, "
     "Content-Type as pushed");
CASE("manifest-docker-v2", kShould, manifest_docker_v2,
     "Docker image manifest v2 schema 2 (a legacy manifest beside OCI's): push, pull with six "
     "Accept lines");
CASE("manifest-docker-list", kShould, manifest_docker_list,
     "Docker manifest list (schema 2): push, pull with six Accept lines");
CASE("manifest-accept-mismatch", kShould, manifest_accept_mismatch,
     "end-3 + RFC 7231 5.3.2: an existing manifest whose type is not in Accept is served (200) "
     "or refused with 406, not reported missing (404)");
CASE("manifest-blob-unknown", kMust, manifest_blob_unknown,
     "Push: a registry MAY reject a manifest naming unknown blobs; when it does, it MUST give "
     "one or more MANIFEST_BLOB_UNKNOWN errors");
CASE("manifest-invalid", kShould, manifest_invalid,
     "end-7 / code-6 MANIFEST_INVALID: a manifest that is not JSON is refused with 400 "
     "MANIFEST_INVALID");
CASE("manifest-content-type-params", kShould, manifest_content_type_params,
     "end-7: the registry SHOULD ignore parameters on the Content-Type header");
CASE("manifest-large", kShould, manifest_large,
     "end-7: registries SHOULD expect to support manifest pushes of at least 4 megabytes");
CASE("manifest-tag-invalid", kShould, manifest_tag_invalid,
     "end-3: a tag MUST match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}; a PUT with another tag is "
     "refused (4xx)");

}  // namespace
}  // namespace dtrc
