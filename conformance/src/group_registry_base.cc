// Group `registry`, the API base: /v2/ (end-1).
#include "registry_ops.h"

namespace dtrc {
namespace {

void base_v2(CaseContext& ctx) {
  Oci oci(ctx);
  HttpResponse r = oci.get("/v2/");
  if (r.status == 401)
    ctx.fail("GET /v2/ still 401 after answering the challenge: " + ctx.http().auth_problem(), r);
  oci.expect_status(r, {200}, "GET /v2/");
}

void base_api_version_header(CaseContext& ctx) {
  Oci oci(ctx);
  HttpResponse r = oci.get("/v2/");
  std::string v = oci.expect_header(r, "Docker-Distribution-API-Version", "GET /v2/");
  if (v != "registry/2.0")
    ctx.fail("Docker-Distribution-API-Version is \"" + v + "\", not registry/2.0", r);
}

DTRC_CASE({.group = "registry",
           .id = "base-v2",
           .clause = "end-1 Determining Support: GET /v2/ answers 200 OK when the registry "
                     "implements the spec",
           .level = Level::kMust,
           .fn = base_v2,
           .order = -1});

DTRC_CASE({.group = "registry",
           .id = "base-api-version-header",
           .clause = "apdx-1 (Docker Registry HTTP API V2) API Version Check: a 200 from /v2/ "
                     "SHOULD carry Docker-Distribution-API-Version: registry/2.0",
           .level = Level::kShould,
           .fn = base_api_version_header,
           .order = 0});

}  // namespace
}  // namespace dtrc
