// Group `registry`, pushing blobs: POST then PUT (end-4a, end-6), single POST (end-4b),
// chunked PATCH with ordering rules and 416 (end-5), Transfer-Encoding: chunked, upload
// status (end-13), cancel (end-14), cross-repository mount (end-11).
#include <cstdlib>
#include <memory>

#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

const Headers kOctet = {{"Content-Type", "application/octet-stream"}};

// An upload session opened with POST (Content-Length: 0) and its minimum chunk size.
struct Session {
  std::string repo;
  std::string location;  // absolute; updated from each PATCH answer
  std::string first_location;
  std::size_t chunk = 1024;
  // The newest location, shared with the cleanup that cancels the upload: a registry may
  // sign the offset into the URL and refuse an older one.
  std::shared_ptr<std::string> latest = std::make_shared<std::string>();
  void move_to(std::string loc) { location = *latest = std::move(loc); }
};

Session open_session(Oci& oci, const std::string& repo) {
  Session s;
  s.repo = repo;
  HttpResponse r = oci.post(Oci::uploads_path(repo));
  if (r.status != 202 || !r.has_header("Location")) {
    oci.ctx().blocked("POST " + Oci::uploads_path(repo), r);
  }
  s.first_location = HttpClient::resolve(r.url, r.header("Location"));
  s.move_to(s.first_location);
  if (r.has_header("OCI-Chunk-Min-Length")) {
    std::size_t min = std::strtoull(r.header("OCI-Chunk-Min-Length").c_str(), nullptr, 10);
    if (min > (16u << 20))
      oci.ctx().skip("OCI-Chunk-Min-Length " + std::to_string(min) + " is too large for this case");
    s.chunk = std::max<std::size_t>(s.chunk, min);
  }
  CaseContext* ctx = &oci.ctx();
  ctx->on_cleanup(
      [ctx, latest = s.latest] { ctx->http().send({.method = "DELETE", .target = *latest}); });
  return s;
}

HttpResponse patch_chunk(Oci& oci, Session& s, const std::string& bytes, std::size_t first) {
  Headers h = kOctet;
  h.push_back(
      {"Content-Range", std::to_string(first) + "-" + std::to_string(first + bytes.size() - 1)});
  HttpResponse r = oci.patch(s.location, bytes, h);
  if (r.status == 202 && r.has_header("Location")) {
    s.move_to(HttpClient::resolve(r.url, r.header("Location")));
  }
  return r;
}

void expect_range(Oci& oci, const HttpResponse& r, std::size_t end, const std::string& what) {
  std::string range = oci.expect_header(r, "Range", what);
  long long a = 0, b = 0;
  if (!parse_range(range, a, b) || a != 0 || b != static_cast<long long>(end)) {
    oci.ctx().fail(what + ": Range \"" + range + "\", want \"0-" + std::to_string(end) + "\"", r);
  }
}

void expect_blob(Oci& oci, const std::string& repo, const std::string& digest,
                 const std::string& bytes, const std::string& what) {
  HttpResponse g = oci.get(Oci::blob_path(repo, digest));
  oci.expect_status(g, {200}, what + ": GET the blob");
  if (g.body != bytes) oci.ctx().fail(what + ": the stored blob differs from the bytes sent", g);
}

void cleanup_blob(CaseContext& ctx, const std::string& repo, const std::string& digest) {
  ctx.on_cleanup([&ctx, repo, digest] {
    ctx.http().send({.method = "DELETE", .target = Oci::blob_path(repo, digest)});
  });
}

void push_post_put(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo(), bytes = make_layer(5000), digest = sha256_digest(bytes);
  HttpResponse r = oci.post(Oci::uploads_path(repo));
  oci.expect_status(r, {202}, "POST /blobs/uploads/");
  std::string loc = oci.location(r, "POST /blobs/uploads/");
  HttpResponse p = oci.put(Oci::add_query(loc, "digest=" + digest), bytes, kOctet);
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(p, {201}, "PUT <location>?digest=");
  oci.location(p, "PUT <location>?digest=");
  expect_blob(oci, repo, digest, bytes, "POST then PUT");
}

void push_location_unique(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session a = open_session(oci, repo), b = open_session(oci, repo);
  if (a.location == b.location) ctx.fail("two POSTs gave the same upload location " + a.location);
}

void push_put_location_pullable(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo(), bytes = make_layer(700), digest = sha256_digest(bytes);
  Session s = open_session(oci, repo);
  HttpResponse p = oci.put(Oci::add_query(s.location, "digest=" + digest), bytes, kOctet);
  if (p.status != 201) ctx.blocked("PUT <location>?digest=", p);
  cleanup_blob(ctx, repo, digest);
  std::string loc = oci.location(p, "PUT <location>?digest=");
  HttpResponse g = oci.get(loc);
  oci.expect_status(g, {200}, "GET the Location of the 201");
  if (g.body != bytes) ctx.fail("GET the Location of the 201: not the pushed blob", g);
}

void push_single_post(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo(), bytes = make_layer(900), digest = sha256_digest(bytes);
  HttpResponse r =
      oci.post(Oci::add_query(Oci::uploads_path(repo), "digest=" + digest), bytes, kOctet);
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(r, {201, 202}, "POST /blobs/uploads/?digest= with the blob");
  oci.location(r, "POST /blobs/uploads/?digest=");
  if (r.status == 202) {
    ctx.note("single-POST upload not supported (202, the client goes on with PUT)");
    ctx.on_cleanup([&ctx, loc = oci.location(r, "")] {
      ctx.http().send({.method = "DELETE", .target = loc});
    });
  }
}

void push_single_post_complete(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo(), bytes = make_layer(900), digest = sha256_digest(bytes);
  HttpResponse r =
      oci.post(Oci::add_query(Oci::uploads_path(repo), "digest=" + digest), bytes, kOctet);
  cleanup_blob(ctx, repo, digest);
  if (r.status == 201) {
    std::string loc = oci.location(r, "201 to a single POST");
    HttpResponse g = oci.get(loc);
    oci.expect_status(g, {200}, "GET the Location of the 201");
    if (g.body != bytes) ctx.fail("GET the Location of the 201: not the pushed blob", g);
    expect_blob(oci, repo, digest, bytes, "single POST");
  } else if (r.status == 202) {
    std::string loc = oci.location(r, "202 to a single POST");
    HttpResponse p = oci.put(Oci::add_query(loc, "digest=" + digest), bytes, kOctet);
    oci.expect_status(p, {201}, "PUT after a 202 to a single POST");
    expect_blob(oci, repo, digest, bytes, "single POST then PUT");
  } else {
    ctx.skip("POST ?digest= answered " + std::to_string(r.status) + " (see push-single-post)");
  }
}

void push_chunked(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(2 * s.chunk + 333), digest = sha256_digest(bytes);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  oci.expect_status(p1, {202}, "PATCH first chunk");
  oci.location(p1, "PATCH first chunk");
  HttpResponse p2 = patch_chunk(oci, s, bytes.substr(s.chunk), s.chunk);
  oci.expect_status(p2, {202}, "PATCH second chunk");
  oci.location(p2, "PATCH second chunk");
  HttpResponse done = oci.put(Oci::add_query(s.location, "digest=" + digest), "");
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(done, {201}, "PUT <location>?digest= closing the session");
  oci.location(done, "PUT closing the session");
  expect_blob(oci, repo, digest, bytes, "chunked upload");
}

void push_chunked_range_header(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(2 * s.chunk + 10);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  expect_range(oci, p1, s.chunk - 1, "202 to the first PATCH");
  HttpResponse p2 = patch_chunk(oci, s, bytes.substr(s.chunk), s.chunk);
  if (p2.status != 202) ctx.blocked("PATCH second chunk", p2);
  expect_range(oci, p2, bytes.size() - 1, "202 to the second PATCH");
}

void push_chunked_final_put(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(s.chunk + 777), digest = sha256_digest(bytes);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  Headers h = kOctet;
  h.push_back({"Content-Range", std::to_string(s.chunk) + "-" + std::to_string(bytes.size() - 1)});
  HttpResponse done =
      oci.put(Oci::add_query(s.location, "digest=" + digest), bytes.substr(s.chunk), h);
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(done, {201}, "PUT carrying the final chunk");
  expect_blob(oci, repo, digest, bytes, "final chunk in the PUT");
}

void push_streamed(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(20000), digest = sha256_digest(bytes);
  HttpResponse p = oci.send(
      {.method = "PATCH", .target = s.location, .headers = kOctet, .body = bytes, .chunked = true});
  oci.expect_status(p, {202}, "PATCH with a Transfer-Encoding: chunked body");
  std::string loc = oci.location(p, "PATCH with a chunked body");
  s.move_to(loc);
  HttpResponse done = oci.put(Oci::add_query(loc, "digest=" + digest), "");
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(done, {201}, "PUT closing the streamed upload");
  expect_blob(oci, repo, digest, bytes, "streamed upload");
}

void upload_first_chunk_not_zero(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  std::string bytes = make_layer(600);
  HttpResponse r = patch_chunk(oci, s, bytes, 100);
  oci.expect_status(r, {416}, "first PATCH with Content-Range 100-699");
}

void upload_chunk_out_of_order(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  std::string bytes = make_layer(3 * s.chunk);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  // Skips a chunk: the next byte the registry expects is chunk, this starts at 2*chunk.
  HttpResponse r = patch_chunk(oci, s, bytes.substr(2 * s.chunk), 2 * s.chunk);
  oci.expect_status(r, {416}, "PATCH leaving a gap after the first chunk");
}

void upload_chunk_overlap(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  std::string bytes = make_layer(2 * s.chunk);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  std::size_t start = s.chunk - 100;
  HttpResponse r = patch_chunk(oci, s, bytes.substr(start), start);
  oci.expect_status(r, {416}, "PATCH overlapping the first chunk by 100 bytes");
}

void upload_status(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  std::string bytes = make_layer(s.chunk);
  HttpResponse p1 = patch_chunk(oci, s, bytes, 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  HttpResponse st = oci.get(s.location);
  oci.expect_status(st, {204}, "GET <location> of an active upload");
  oci.location(st, "GET upload status");
  expect_range(oci, st, bytes.size() - 1, "GET upload status");
}

void upload_status_after_416(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(2 * s.chunk + 50), digest = sha256_digest(bytes);
  HttpResponse p1 = patch_chunk(oci, s, bytes.substr(0, s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  std::string good = s.location;
  HttpResponse bad = patch_chunk(oci, s, bytes.substr(s.chunk + 10), s.chunk + 10);
  if (bad.status != 416)
    ctx.skip("no 416 to an out-of-order chunk (see upload-chunk-out-of-order)");
  HttpResponse st = oci.get(good);
  oci.expect_status(st, {204}, "GET <location> after a 416");
  expect_range(oci, st, s.chunk - 1, "GET upload status after a 416");
  s.move_to(oci.location(st, "GET upload status after a 416"));
  HttpResponse p2 = patch_chunk(oci, s, bytes.substr(s.chunk), s.chunk);
  oci.expect_status(p2, {202}, "PATCH resuming at the offset the status gave");
  HttpResponse done = oci.put(Oci::add_query(s.location, "digest=" + digest), "");
  cleanup_blob(ctx, repo, digest);
  oci.expect_status(done, {201}, "PUT closing the resumed upload");
  expect_blob(oci, repo, digest, bytes, "upload resumed after a 416");
}

void upload_status_stale_location(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  std::string bytes = make_layer(s.chunk);
  HttpResponse p1 = patch_chunk(oci, s, bytes, 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  HttpResponse st = oci.get(s.first_location);
  oci.expect_status(st, {204}, "GET the POST's <location> after a PATCH");
  expect_range(oci, st, bytes.size() - 1, "GET the POST's <location> after a PATCH");
}

void upload_cancel(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  HttpResponse p1 = patch_chunk(oci, s, make_layer(s.chunk), 0);
  if (p1.status != 202) ctx.blocked("PATCH first chunk", p1);
  HttpResponse d = oci.del(s.location);
  oci.expect_status(d, {204}, "DELETE <location>");
  HttpResponse st = oci.get(s.location);
  oci.expect_status(st, {404}, "GET <location> of a cancelled upload");
}

void upload_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_blob(repo, make_layer(100));  // the repository exists; the upload does not
  std::string unknown = Oci::uploads_path(repo) + "0b1e4f2a-3c5d-4e6f-8a9b-" + random_hex(12);
  HttpResponse st = oci.get(unknown);
  oci.expect_status(st, {404}, "GET an unknown upload");
  Headers h = kOctet;
  h.push_back({"Content-Range", "0-9"});
  HttpResponse p = oci.patch(unknown, "0123456789", h);
  oci.expect_status(p, {404}, "PATCH an unknown upload");
}

void upload_put_digest_mismatch(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Session s = open_session(oci, repo);
  std::string bytes = make_layer(800), claimed = sha256_digest(make_layer(800));
  HttpResponse r = oci.put(Oci::add_query(s.location, "digest=" + claimed), bytes, kOctet);
  cleanup_blob(ctx, repo, claimed);
  oci.expect_status(r, {400}, "PUT with a digest that does not match the body");
  HttpResponse h = oci.head(Oci::blob_path(repo, claimed));
  oci.expect_status(h, {404}, "HEAD the wrongly claimed digest after the refused PUT");
}

void upload_put_invalid_digest(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  HttpResponse r = oci.put(Oci::add_query(s.location, "digest=sha256:totallywrong"), "abc", kOctet);
  oci.expect_status(r, {400}, "PUT with a malformed digest");
}

void upload_chunk_length_mismatch(CaseContext& ctx) {
  Oci oci(ctx);
  Session s = open_session(oci, ctx.new_repo());
  Headers h = kOctet;
  h.push_back({"Content-Range", "0-199"});  // claims 200 bytes, sends 100
  HttpResponse r = oci.patch(s.location, make_layer(100), h);
  oci.expect_status(r, {400, 416}, "PATCH whose Content-Range disagrees with its length");
  if (!Oci::error_codes(r).empty()) {
    auto codes = Oci::error_codes(r);
    bool ok = false;
    for (const auto& c : codes)
      ok = ok || c == "SIZE_INVALID" || c == "BLOB_UPLOAD_INVALID" || c == "RANGE_INVALID";
    if (!ok) ctx.fail("error code " + codes[0] + " is not SIZE_INVALID or BLOB_UPLOAD_INVALID", r);
  }
}

void mount_from(CaseContext& ctx) {
  Oci oci(ctx);
  std::string from = ctx.new_repo(), to = ctx.new_repo();
  std::string digest = oci.push_blob(from, make_layer(1200));
  HttpResponse r =
      oci.post(Oci::add_query(Oci::uploads_path(to), "mount=" + digest + "&from=" + from));
  cleanup_blob(ctx, to, digest);
  if (r.status == 202 && r.has_header("Location")) {
    ctx.on_cleanup([&ctx, loc = HttpClient::resolve(r.url, r.header("Location"))] {
      ctx.http().send({.method = "DELETE", .target = loc});
    });
  }
  oci.expect_status(r, {201}, "POST ?mount=<digest>&from=<repo holding it>");
}

void mount_from_result(CaseContext& ctx) {
  Oci oci(ctx);
  std::string from = ctx.new_repo(), to = ctx.new_repo();
  std::string bytes = make_layer(1200);
  std::string digest = oci.push_blob(from, bytes);
  HttpResponse r =
      oci.post(Oci::add_query(Oci::uploads_path(to), "mount=" + digest + "&from=" + from));
  cleanup_blob(ctx, to, digest);
  if (r.status == 201) {
    oci.location(r, "201 to a mount");
    expect_blob(oci, to, digest, bytes, "mounted blob");
  } else if (r.status == 202) {
    std::string loc = oci.location(r, "202 to a mount");
    HttpResponse p = oci.put(Oci::add_query(loc, "digest=" + digest), bytes, kOctet);
    oci.expect_status(p, {201}, "PUT after a 202 to a mount (an upload session began)");
    expect_blob(oci, to, digest, bytes, "upload after a refused mount");
  } else {
    oci.expect_status(r, {201, 202}, "POST ?mount=&from=");
  }
}

void mount_unknown_source(CaseContext& ctx) {
  Oci oci(ctx);
  std::string to = ctx.new_repo();
  std::string nowhere =
      ctx.options().ns + "/c-" + ctx.run().run_id() + "-nonexistent-" + random_hex(6);
  std::string bytes = make_layer(700), digest = sha256_digest(bytes);
  HttpResponse r =
      oci.post(Oci::add_query(Oci::uploads_path(to), "mount=" + digest + "&from=" + nowhere));
  cleanup_blob(ctx, to, digest);
  oci.expect_status(r, {202}, "POST ?mount= of a blob from a repository that does not exist");
  std::string loc = oci.location(r, "202 to a mount that cannot happen");
  HttpResponse p = oci.put(Oci::add_query(loc, "digest=" + digest), bytes, kOctet);
  oci.expect_status(p, {201}, "PUT completing the upload the 202 began");
  expect_blob(oci, to, digest, bytes, "upload after a mount that could not happen");
}

#define CASE(ID, LEVEL, FN, CLAUSE) \
  DTRC_CASE({.group = "registry",   \
             .id = ID,              \
             .clause = CLAUSE,      \
             .level = Level::LEVEL, \
             .fn = FN,              \
             .order = 20})

CASE("push-post-put", kMust, push_post_put,
     "end-4a/end-6 POST then PUT: POST MUST answer 202 with Location; PUT <location>?digest= "
     "MUST answer 201 with Location; the blob is then pullable");
CASE("push-location-unique", kMust, push_location_unique,
     "end-4a: the <location> MUST contain a UUID representing a unique session ID");
CASE("push-put-location-pullable", kMust, push_put_location_pullable,
     "end-6: the 201's Location is <blob-location>, a pullable blob URL");
CASE("push-single-post", kShould, push_single_post,
     "end-4b Single POST: registries MAY support it; those that do not SHOULD answer 202 with "
     "Location");
CASE("push-single-post-complete", kMust, push_single_post_complete,
     "end-4b: a 201 MUST carry a Location of the pullable blob; after a 202 the POST then PUT "
     "method completes the upload");
CASE("push-chunked", kMust, push_chunked,
     "end-5/end-6 Pushing a blob in chunks: each PATCH MUST answer 202 with Location; the "
     "closing PUT MUST answer 201 with Location");
CASE("push-chunked-range-header", kMust, push_chunked_range_header,
     "end-5: each successful chunk upload MUST have the header Range: 0-<end-of-range>");
CASE("push-chunked-final-put", kMust, push_chunked_final_put,
     "end-6: the final chunk MAY be uploaded in the closing PUT (with Content-Range); 201");
CASE("push-streamed", kMust, push_streamed,
     "end-5 with a Transfer-Encoding: chunked body (RFC 9112 7.1: a recipient MUST be able to "
     "parse the chunked coding), then PUT: 202, 201");
CASE("upload-first-chunk-not-zero", kMust, upload_first_chunk_not_zero,
     "end-5: the first chunk's range MUST begin with 0; out of order the registry MUST answer 416");
CASE("upload-chunk-out-of-order", kMust, upload_chunk_out_of_order,
     "end-5: chunks MUST be in order, the first byte being the last end-of-range plus one; "
     "else 416 Requested Range Not Satisfiable");
CASE("upload-chunk-overlap", kMust, upload_chunk_overlap,
     "end-5: a chunk overlapping the bytes already received is out of order: MUST answer 416");
CASE("upload-status", kMust, upload_status,
     "end-13: GET <location> of an active upload MUST answer 204 with Location and Range: "
     "0-<end-of-range>");
CASE("upload-status-after-416", kMust, upload_status_after_416,
     "end-13: after a 416, GET <location> gives the valid offset (204, Range); the upload goes "
     "on from there");
CASE("upload-status-stale-location", kMust, upload_status_stale_location,
     "end-13: <location> is the URL from any preceding POST or PATCH; the active upload MUST "
     "answer 204 with Range");
CASE("upload-cancel", kShould, upload_cancel,
     "end-14 Cancel a blob upload (spec after v1.1.0): DELETE <location> SHOULD answer 204; "
     "the upload is then gone (404)");
CASE("upload-unknown", kMust, upload_unknown,
     "end-13/end-5 failure: an upload the registry does not know is 404 Not Found");
CASE("upload-put-digest-mismatch", kMust, upload_put_digest_mismatch,
     "end-6 failure 400: the <digest> MUST match the blob; nothing is stored under a wrong "
     "digest");
CASE("upload-put-invalid-digest", kMust, upload_put_invalid_digest,
     "end-6 failure 400: a malformed ?digest= is a bad request, not a success or server error");
CASE("upload-chunk-length-mismatch", kShould, upload_chunk_length_mismatch,
     "end-5 / code-10 SIZE_INVALID: a chunk whose Content-Range length differs from its "
     "Content-Length is refused (400/416)");
CASE("mount-from", kShould, mount_from,
     "end-11 Mounting a blob: a blob in another repository of the registry is mounted: 201 "
     "Created (202 only when the registry cannot mount)");
CASE("mount-from-result", kMust, mount_from_result,
     "end-11: a 201 MUST carry Location and the blob is then in the target repository; a 202 "
     "begins an upload the client completes");
CASE("mount-unknown-source", kShould, mount_unknown_source,
     "end-11: unable to mount the requested blob, the registry SHOULD answer 202 and the "
     "upload proceeds as usual");

}  // namespace
}  // namespace dtrc
