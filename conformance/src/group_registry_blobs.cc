// Group `registry`, pulling blobs (end-2): GET/HEAD, the digest header, ranges, sha512,
// unknown and malformed digests.
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

struct PushedBlob {
  std::string repo, bytes, digest;
};

PushedBlob setup_blob(Oci& oci, std::size_t size = 3000) {
  PushedBlob b{oci.ctx().new_repo(), make_layer(size), ""};
  b.digest = oci.push_blob(b.repo, b.bytes);
  return b;
}

void blob_get(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci);
  HttpResponse r = oci.get(Oci::blob_path(b.repo, b.digest));
  oci.expect_status(r, {200}, "GET existing blob");
  if (r.body != b.bytes) ctx.fail("GET blob: the body is not the pushed blob", r);
}

void blob_get_digest_header(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci);
  HttpResponse r = oci.get(Oci::blob_path(b.repo, b.digest));
  oci.expect_status(r, {200}, "GET existing blob");
  if (!r.has_header("Docker-Content-Digest")) {
    ctx.note("no Docker-Content-Digest header (a SHOULD, see blob-digest-header-present)");
    return;
  }
  std::string h = r.header("Docker-Content-Digest");
  if (h != digest_like(h, r.body)) {
    ctx.fail(
        "Docker-Content-Digest " + h + " does not match the body (" + digest_like(h, r.body) + ")",
        r);
  }
}

void blob_digest_header_present(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci);
  for (const char* method : {"GET", "HEAD"}) {
    HttpResponse r = oci.send({.method = method, .target = Oci::blob_path(b.repo, b.digest)});
    oci.expect_status(r, {200}, std::string(method) + " existing blob");
    std::string h = oci.expect_header(r, "Docker-Content-Digest", std::string(method) + " blob");
    if (h != b.digest)
      ctx.fail(std::string(method) + " blob: Docker-Content-Digest " + h + ", want " + b.digest, r);
  }
}

void blob_head(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci);
  HttpResponse r = oci.head(Oci::blob_path(b.repo, b.digest));
  oci.expect_status(r, {200}, "HEAD existing blob");
}

void blob_head_content_length(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci);
  HttpResponse r = oci.head(Oci::blob_path(b.repo, b.digest));
  oci.expect_status(r, {200}, "HEAD existing blob");
  std::string len = oci.expect_header(r, "Content-Length", "HEAD blob");
  if (len != std::to_string(b.bytes.size())) {
    ctx.fail("HEAD blob: Content-Length " + len + ", the blob has " +
                 std::to_string(b.bytes.size()) + " bytes",
             r);
  }
}

void blob_get_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci, 100);  // the repository exists; the blob does not
  std::string unknown = sha256_digest(random_bytes(32));
  for (const char* method : {"GET", "HEAD"}) {
    HttpResponse r = oci.send({.method = method, .target = Oci::blob_path(b.repo, unknown)});
    oci.expect_status(r, {404}, std::string(method) + " unknown blob");
  }
}

void blob_get_invalid_digest(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci, 100);
  for (const char* bad : {"sha256:totallywrong", "sha256:abc", "nodigest"}) {
    HttpResponse r = oci.get(Oci::blob_path(b.repo, bad));
    oci.expect_status(r, {400, 404}, std::string("GET blob with malformed digest ") + bad);
  }
}

void blob_get_range(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci, 4000);
  HttpResponse r = oci.get(Oci::blob_path(b.repo, b.digest), {{"Range", "bytes=100-1099"}});
  oci.expect_status(r, {206}, "GET blob with Range: bytes=100-1099");
}

void blob_get_range_valid(CaseContext& ctx) {
  Oci oci(ctx);
  auto b = setup_blob(oci, 4000);
  const long long size = static_cast<long long>(b.bytes.size());
  struct Try {
    const char* range;
    long long first, last;
  };
  const Try tries[] = {{"bytes=100-1099", 100, 1099},
                       {"bytes=3500-", 3500, size - 1},
                       {"bytes=-300", size - 300, size - 1},
                       {"bytes=3900-99999", 3900, size - 1}};
  int partial = 0;
  for (const auto& t : tries) {
    HttpResponse r = oci.get(Oci::blob_path(b.repo, b.digest), {{"Range", t.range}});
    oci.expect_status(r, {200, 206}, std::string("GET blob with Range: ") + t.range);
    if (r.status == 200) {
      if (r.body != b.bytes) ctx.fail("200 to a Range request must carry the whole blob", r);
      continue;
    }
    ++partial;
    std::string cr = oci.expect_header(r, "Content-Range", std::string("206 to ") + t.range);
    const std::string want = "bytes " + std::to_string(t.first) + "-" + std::to_string(t.last) +
                             "/" + std::to_string(size);
    if (cr != want)
      ctx.fail("206 to " + std::string(t.range) + ": Content-Range \"" + cr + "\", want \"" + want +
                   "\"",
               r);
    if (r.body != b.bytes.substr(static_cast<std::size_t>(t.first),
                                 static_cast<std::size_t>(t.last - t.first + 1))) {
      ctx.fail("206 to " + std::string(t.range) + ": the body is not those bytes of the blob", r);
    }
  }
  if (partial == 0) ctx.skip("the registry ignores Range (see blob-get-range)");
}

void blob_sha512(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  std::string bytes = make_layer(2048);
  std::string digest = sha512_digest(bytes);
  std::string loc = oci.start_upload(repo);
  HttpResponse p = oci.put(Oci::add_query(loc, "digest=" + digest), bytes,
                           {{"Content-Type", "application/octet-stream"}});
  oci.expect_status(p, {201}, "PUT upload with a sha512 digest");
  // A registry may keep the blob under its canonical sha256 digest: delete both names.
  ctx.on_cleanup([&ctx, repo, digest, canonical = sha256_digest(bytes)] {
    ctx.http().send({.method = "DELETE", .target = Oci::blob_path(repo, digest)});
    ctx.http().send({.method = "DELETE", .target = Oci::blob_path(repo, canonical)});
  });
  HttpResponse g = oci.get(Oci::blob_path(repo, digest));
  oci.expect_status(g, {200}, "GET blob by sha512 digest");
  if (g.body != bytes) ctx.fail("GET blob by sha512 digest: wrong body", g);
}

constexpr const char* kClauseGet =
    "end-2 Pulling blobs: a GET to an existing blob MUST return 200 OK with the blob";

DTRC_CASE({.group = "registry",
           .id = "blob-get",
           .clause = kClauseGet,
           .level = Level::kMust,
           .fn = blob_get,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-get-digest-header",
           .clause = "end-2 Pulling blobs: Docker-Content-Digest, if present, MUST be a digest "
                     "matching the response body",
           .level = Level::kMust,
           .fn = blob_get_digest_header,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-digest-header-present",
           .clause = "end-2 Pulling blobs / Checking if content exists: a successful GET or HEAD "
                     "SHOULD carry the blob's digest in Docker-Content-Digest",
           .level = Level::kShould,
           .fn = blob_digest_header_present,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-head",
           .clause = "end-2 Checking if content exists: a HEAD to an existing blob MUST return "
                     "200 OK",
           .level = Level::kMust,
           .fn = blob_head,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-head-content-length",
           .clause = "end-2 Checking if content exists: a successful HEAD SHOULD carry the "
                     "blob's size in Content-Length",
           .level = Level::kShould,
           .fn = blob_head_content_length,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-get-unknown",
           .clause = "end-2 Pulling blobs: if the blob is not found in the repository, the "
                     "response code MUST be 404 Not Found (GET and HEAD)",
           .level = Level::kMust,
           .fn = blob_get_unknown,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-get-invalid-digest",
           .clause = "end-2 failure codes 404/400: a malformed digest is a client error (400 or "
                     "404), never a server error",
           .level = Level::kMust,
           .fn = blob_get_invalid_digest,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-get-range",
           .clause = "end-2 Pulling blobs: a registry SHOULD support the Range request header "
                     "(RFC 9110): 206 Partial Content",
           .level = Level::kShould,
           .fn = blob_get_range,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-get-range-valid",
           .clause = "RFC 9110 15.3.7/14.4 (as end-2 requires): a 206 MUST carry Content-Range "
                     "bytes first-last/size and exactly those bytes",
           .level = Level::kMust,
           .fn = blob_get_range_valid,
           .order = 10});
DTRC_CASE({.group = "registry",
           .id = "blob-sha512",
           .clause = "apdx-3 image-spec Digests: sha512 is a registered algorithm that "
                     "implementations SHOULD support; push and pull by a sha512 digest",
           .level = Level::kShould,
           .fn = blob_sha512,
           .order = 10});

}  // namespace
}  // namespace dtrc
