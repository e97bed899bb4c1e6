// Group `registry`, error codes (code-1 .. code-14) and the error body. Some cases provoke
// an error and check its code (SHOULD: v1.1 names the codes but binds few to conditions);
// the rest look at every error answer seen during the run (order 1000: they run last).
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;

// The spec's 14 codes, plus the Docker API V2 codes the spec's "Legacy Docker support error
// codes" says a client MAY meet.
const std::set<std::string>& known_codes() {
  static const std::set<std::string> kCodes = {
      "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
      "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
      "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
      // legacy (Docker Registry HTTP API V2)
      "TAG_INVALID", "MANIFEST_UNVERIFIED", "RANGE_INVALID", "PAGINATION_NUMBER_INVALID", "UNKNOWN",
      "UNAVAILABLE"};
  return kCodes;
}

bool looks_json(const ObservedError& e) {
  if (e.body.empty()) return false;  // HEAD answers, and bodies a registry MAY leave out
  if (e.content_type.find("json") != std::string::npos) return true;
  auto first = e.body.find_first_not_of(" \t\r\n");
  return first != std::string::npos && e.body[first] == '{';
}

[[noreturn]] void fail_observed(CaseContext&, const std::string& reason, const ObservedError& e) {
  throw CaseFailed{reason, e.evidence, false};
}

void error_body_format(CaseContext& ctx) {
  static const std::regex kCode("^[A-Z_]+$");
  int checked = 0;
  for (const auto& e : ctx.run().observed_errors()) {
    if (e.status < 400 || e.status >= 500 || !looks_json(e)) continue;
    ++checked;
    json j = json::parse(e.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty()) {
      fail_observed(ctx, "a JSON 4xx body is not {\"errors\":[...]}", e);
    }
    for (const auto& err : j["errors"]) {
      if (!err.is_object() || !err.contains("code") || !err["code"].is_string() ||
          !std::regex_match(err["code"].get<std::string>(), kCode)) {
        fail_observed(ctx, "an error without a code of upper-case letters and underscores", e);
      }
      if (err.contains("message") && !err["message"].is_string()) {
        fail_observed(ctx, "an error whose message is not a string", e);
      }
    }
  }
  if (checked == 0) ctx.skip("no JSON 4xx answer seen in this run");
  ctx.note(std::to_string(checked) + " JSON error bodies checked");
}

void error_codes_known(CaseContext& ctx) {
  int checked = 0;
  for (const auto& e : ctx.run().observed_errors()) {
    if (e.status < 400 || e.status >= 500) continue;
    json j = json::parse(e.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) continue;
    for (const auto& err : j["errors"]) {
      if (!err.is_object() || !err.contains("code") || !err["code"].is_string()) continue;
      ++checked;
      if (!known_codes().count(err["code"].get<std::string>())) {
        fail_observed(
            ctx, "error code " + err["code"].get<std::string>() + " is not one of the spec's codes",
            e);
      }
    }
  }
  if (checked == 0) ctx.skip("no error code seen in this run");
  ctx.note(std::to_string(checked) + " error codes checked");
}

// For a status the registry answered during the run: the code its JSON bodies carry.
void observed_status_code(CaseContext& ctx, int status, const std::string& code) {
  int seen = 0;
  for (const auto& e : ctx.run().observed_errors()) {
    if (e.status != status) continue;
    ++seen;
    json j = json::parse(e.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array())
      continue;  // MAY be any format
    bool found = false;
    for (const auto& err : j["errors"])
      found = found || (err.is_object() && err.value("code", "") == code);
    if (!found)
      fail_observed(ctx, std::to_string(status) + " with a JSON error body but no " + code, e);
  }
  if (seen == 0) ctx.skip("no " + std::to_string(status) + " answer seen in this run");
}

void error_unauthorized(CaseContext& ctx) { observed_status_code(ctx, 401, "UNAUTHORIZED"); }
void error_denied(CaseContext& ctx) { observed_status_code(ctx, 403, "DENIED"); }
void error_unsupported(CaseContext& ctx) { observed_status_code(ctx, 405, "UNSUPPORTED"); }
void error_toomanyrequests(CaseContext& ctx) { observed_status_code(ctx, 429, "TOOMANYREQUESTS"); }

void error_blob_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_blob(repo, make_layer(100));
  HttpResponse r = oci.get(Oci::blob_path(repo, sha256_digest(random_bytes(16))));
  oci.expect_status(r, {404}, "GET unknown blob");
  oci.expect_error_code(r, "BLOB_UNKNOWN", "GET unknown blob");
}

void error_blob_upload_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_blob(repo, make_layer(100));
  HttpResponse r = oci.get(Oci::uploads_path(repo) + "4d1c5a8e-0f6b-4d39-9f4e-" + random_hex(12));
  oci.expect_status(r, {404}, "GET unknown upload");
  oci.expect_error_code(r, "BLOB_UPLOAD_UNKNOWN", "GET unknown upload");
}

void error_blob_upload_invalid(CaseContext& ctx) {
  Oci oci(ctx);
  std::string loc = oci.start_upload(ctx.new_repo());
  HttpResponse r =
      oci.patch(loc, "0123456789",
                {{"Content-Type", "application/octet-stream"}, {"Content-Range", "ten-bytes"}});
  if (r.status == 202 && r.has_header("Location")) {
    ctx.on_cleanup([&ctx, next = HttpClient::resolve(r.url, r.header("Location"))] {
      ctx.http().send({.method = "DELETE", .target = next});
    });
  }
  oci.expect_status(r, {400, 416}, "PATCH with a malformed Content-Range");
  oci.expect_error_code(r, "BLOB_UPLOAD_INVALID", "PATCH with a malformed Content-Range");
}

void error_digest_invalid(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  std::string loc = oci.start_upload(repo);
  std::string claimed = sha256_digest(random_bytes(8));
  HttpResponse r = oci.put(Oci::add_query(loc, "digest=" + claimed), "not the claimed content",
                           {{"Content-Type", "application/octet-stream"}});
  ctx.on_cleanup([&ctx, repo, claimed] {
    ctx.http().send({.method = "DELETE", .target = Oci::blob_path(repo, claimed)});
  });
  oci.expect_status(r, {400}, "PUT with a digest that does not match");
  oci.expect_error_code(r, "DIGEST_INVALID", "PUT with a digest that does not match");
}

void error_manifest_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  HttpResponse r = oci.get(Oci::manifest_path(repo, "no-such-tag"), {{"Accept", kOciManifest}});
  oci.expect_status(r, {404}, "GET unknown tag");
  oci.expect_error_code(r, "MANIFEST_UNKNOWN", "GET unknown tag");
}

void error_name_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  HttpResponse r = oci.get("/v2/" + ctx.new_repo() + "/tags/list");
  oci.expect_status(r, {404}, "GET tags/list of an unknown repository");
  oci.expect_error_code(r, "NAME_UNKNOWN", "GET tags/list of an unknown repository");
}

std::vector<std::string> invalid_names(CaseContext& ctx) {
  const std::string base = ctx.options().ns + "/c-" + ctx.run().run_id();
  return {base + "-UpperCase", base + "-trailing-", ctx.options().ns + "/-leading-dash"};
}

void name_invalid_rejected(CaseContext& ctx) {
  Oci oci(ctx);
  for (const auto& name : invalid_names(ctx)) {
    HttpResponse r = oci.post(Oci::uploads_path(name));
    if (r.status == 202 && r.has_header("Location")) {
      ctx.on_cleanup([&ctx, loc = HttpClient::resolve(r.url, r.header("Location"))] {
        ctx.http().send({.method = "DELETE", .target = loc});
      });
    }
    if (r.status < 400 || r.status >= 500) {
      ctx.fail("POST an upload to the invalid name \"" + name + "\": expected 4xx, got " +
                   std::to_string(r.status),
               r);
    }
  }
}

void error_name_invalid(CaseContext& ctx) {
  Oci oci(ctx);
  for (const auto& name : invalid_names(ctx)) {
    HttpResponse r = oci.post(Oci::uploads_path(name));
    oci.expect_status(r, {400}, "POST an upload to the invalid name \"" + name + "\"");
    oci.expect_error_code(r, "NAME_INVALID", "POST an upload to the invalid name \"" + name + "\"");
  }
}

#define CASE(ID, LEVEL, FN, ORDER, CLAUSE) \
  DTRC_CASE({.group = "registry",          \
             .id = ID,                     \
             .clause = CLAUSE,             \
             .level = Level::LEVEL,        \
             .fn = FN,                     \
             .order = ORDER})

CASE("name-invalid-rejected", kMust, name_invalid_rejected, 80,
     "Pulling manifests: <name> MUST match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/...)*; an "
     "upload to an invalid name is refused (4xx)");
CASE("error-name-invalid", kShould, error_name_invalid, 80,
     "code-8 NAME_INVALID (invalid repository name): 400 with a JSON error body carrying "
     "NAME_INVALID");
CASE("error-name-unknown", kShould, error_name_unknown, 80,
     "code-9 NAME_UNKNOWN (repository name not known to registry) on tags/list of an unknown "
     "repository");
CASE("error-blob-unknown", kShould, error_blob_unknown, 80,
     "code-1 BLOB_UNKNOWN (blob unknown to registry) on GET of an unknown blob");
CASE("error-blob-upload-unknown", kShould, error_blob_upload_unknown, 80,
     "code-3 BLOB_UPLOAD_UNKNOWN (blob upload unknown to registry) on GET of an unknown upload");
CASE("error-blob-upload-invalid", kShould, error_blob_upload_invalid, 80,
     "code-2 BLOB_UPLOAD_INVALID (blob upload invalid) on a PATCH with a malformed "
     "Content-Range");
CASE("error-digest-invalid", kShould, error_digest_invalid, 80,
     "code-4 DIGEST_INVALID (provided digest did not match uploaded content) on PUT");
CASE("error-manifest-unknown", kShould, error_manifest_unknown, 80,
     "code-7 MANIFEST_UNKNOWN (manifest unknown to registry) on GET of an unknown tag");
CASE("error-body-format", kMust, error_body_format, 1000,
     "Error Codes: a 4XX body in JSON MUST be {\"errors\":[{\"code\",\"message\",\"detail\"}]}, "
     "code upper-case letters and underscores (every 4xx of the run)");
CASE("error-codes-known", kMust, error_codes_known, 1000,
     "Error Codes: the code field MUST be one of code-1..code-14 (or a legacy Docker code the "
     "spec lets clients meet), every 4xx of the run");
CASE("error-unauthorized", kShould, error_unauthorized, 1000,
     "code-11 UNAUTHORIZED (authentication required) in JSON bodies of the run's 401 answers");
CASE("error-denied", kShould, error_denied, 1000,
     "code-12 DENIED (requested access to the resource is denied) in JSON bodies of 403 answers");
CASE("error-unsupported", kShould, error_unsupported, 1000,
     "code-13 UNSUPPORTED (the operation is unsupported) in JSON bodies of 405 answers");
CASE("error-toomanyrequests", kShould, error_toomanyrequests, 1000,
     "code-14 TOOMANYREQUESTS (too many requests) in JSON bodies of 429 answers");

}  // namespace
}  // namespace dtrc
