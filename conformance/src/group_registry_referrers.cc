// Group `registry`, the referrers API (distribution-spec 1.1, end-12a/end-12b) and manifests
// with a `subject`: OCI-Subject, artifactType rules, annotations, filtering, empty lists.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "auth.h"
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;

constexpr const char* kSbom = "application/vnd.example.sbom.v1";
constexpr const char* kSig = "application/vnd.example.signature.v1";
constexpr const char* kArtifactConfig = "application/vnd.example.config.v1+json";

std::string referrers_path(const std::string& repo, const std::string& digest) {
  return "/v2/" + repo + "/referrers/" + digest;
}

// Skips the case when the registry has no referrers API at all (404 for a manifest that
// exists); registry/referrers-supported reports that once.
void require_referrers(Oci& oci, const std::string& repo, const std::string& existing) {
  auto& probe = oci.ctx().run().probes()["referrers-api"];
  if (!probe) {
    HttpResponse r = oci.get(referrers_path(repo, existing));
    probe = r.status != 404;
  }
  if (!*probe) oci.ctx().skip("no referrers API (see registry/referrers-supported)");
}

struct Referrers {
  HttpResponse response;
  json index;
  std::map<std::string, json> by_digest;
};

Referrers fetch_referrers(Oci& oci, const std::string& repo, const std::string& subject,
                          const std::string& query = "") {
  Referrers out;
  std::string target = referrers_path(repo, subject) + (query.empty() ? "" : "?" + query);
  out.response = oci.get(target);
  oci.expect_status(out.response, {200}, "GET " + target);
  out.index = json::parse(out.response.body, nullptr, false);
  if (!out.index.is_object() || !out.index.contains("manifests") ||
      !out.index["manifests"].is_array()) {
    oci.ctx().fail("referrers: the body is not an image index with a manifests array",
                   out.response);
  }
  for (const auto& d : out.index["manifests"]) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) {
      oci.ctx().fail("referrers: a descriptor without a digest", out.response);
    }
    out.by_digest[d["digest"].get<std::string>()] = d;
  }
  return out;
}

// A subject image and three referrers to it: an SBOM artifact with annotations, a signature
// artifact, an image manifest without artifactType (config type stands in), and an index
// without artifactType.
struct Fixture {
  std::string repo;
  Oci::Image subject;
  Oci::Pushed sbom, sig, plain, index;
};

Oci::Pushed push_referrer(Oci& oci, const std::string& repo, const Descriptor& subject,
                          const std::string& artifact_type, const std::string& config_type,
                          std::map<std::string, std::string> annotations) {
  std::string config = "{\"conformance\":\"" + random_hex(16) + "\"}";
  std::string layer = make_layer(200);
  oci.push_blob(repo, config);
  oci.push_blob(repo, layer);
  ManifestSpec spec{.config = describe(config_type, config),
                    .layers = {describe("application/octet-stream", layer)},
                    .subject = subject,
                    .artifact_type = artifact_type,
                    .annotations = std::move(annotations)};
  std::string body = build_manifest(spec);
  return oci.push_manifest(repo, sha256_digest(body), body, kOciManifest);
}

Fixture setup(Oci& oci, bool with_index = true) {
  Fixture f;
  f.repo = oci.ctx().new_repo();
  f.subject = oci.push_image(f.repo, "subject");
  require_referrers(oci, f.repo, f.subject.manifest.digest);
  Descriptor s = f.subject.descriptor();
  f.sbom = push_referrer(oci, f.repo, s, kSbom, kArtifactConfig,
                         {{"org.example.sbom.format", "json"},
                          {"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}});
  f.sig = push_referrer(oci, f.repo, s, kSig, kArtifactConfig,
                        {{"org.example.signature.fingerprint", "abcd"}});
  f.plain = push_referrer(oci, f.repo, s, "", kOciConfig, {});
  if (with_index) {
    std::string body = build_index({.manifests = {f.subject.descriptor()},
                                    .subject = s,
                                    .annotations = {{"org.example.kind", "index"}}});
    f.index = oci.push_manifest(f.repo, sha256_digest(body), body, kOciIndex);
  }
  return f;
}

void referrers_supported(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  HttpResponse r = oci.get(referrers_path(repo, img.manifest.digest));
  ctx.run().probes()["referrers-api"] = r.status != 404;
  oci.expect_status(r, {200}, "GET /v2/<name>/referrers/<digest of an existing manifest>");
}

void manifest_subject_accepted(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Descriptor missing = describe(kOciManifest, "{\"never\":\"pushed " + random_hex(8) + "\"}");
  std::string config = "{\"c\":\"" + random_hex(8) + "\"}";
  oci.push_blob(repo, config);
  std::string body = build_manifest({.config = describe(kArtifactConfig, config),
                                     .layers = {},
                                     .subject = missing,
                                     .artifact_type = kSbom});
  HttpResponse r = oci.put(Oci::manifest_path(repo, sha256_digest(body)), body,
                           {{"Content-Type", kOciManifest}});
  ctx.on_cleanup([&ctx, repo, d = sha256_digest(body)] {
    ctx.http().send({.method = "DELETE", .target = Oci::manifest_path(repo, d)});
  });
  oci.expect_status(r, {201}, "PUT a manifest whose subject does not exist (yet)");
}

void manifest_subject_header(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "subject");
  require_referrers(oci, repo, img.manifest.digest);
  Oci::Pushed ref = push_referrer(oci, repo, img.descriptor(), kSbom, kArtifactConfig, {});
  std::string h =
      oci.expect_header(ref.response, "OCI-Subject", "201 to a manifest with a subject");
  if (h != img.manifest.digest)
    ctx.fail("OCI-Subject " + h + ", the subject is " + img.manifest.digest, ref.response);
}

void referrers_list(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci);
  Referrers r = fetch_referrers(oci, f.repo, f.subject.manifest.digest);
  std::string type = r.response.header("Content-Type");
  if (type.substr(0, type.find(';')) != kOciIndex) {
    ctx.fail("Content-Type \"" + type + "\", MUST be " + kOciIndex, r.response);
  }
  std::set<std::string> want = {f.sbom.digest, f.sig.digest, f.plain.digest, f.index.digest};
  std::set<std::string> got;
  for (const auto& [d, _] : r.by_digest) got.insert(d);
  if (got != want)
    ctx.fail("referrers lists " + std::to_string(got.size()) +
                 " descriptors, not the 4 referrers pushed",
             r.response);
  for (const Oci::Pushed* p : {&f.sbom, &f.sig, &f.plain, &f.index}) {
    const json& d = r.by_digest[p->digest];
    if (d.value("mediaType", "") != p->media_type ||
        d.value("size", -1) != static_cast<long long>(p->body.size())) {
      ctx.fail("descriptor of " + p->digest + " has the wrong mediaType or size", r.response);
    }
  }
}

void referrers_artifact_type(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci);
  Referrers r = fetch_referrers(oci, f.repo, f.subject.manifest.digest);
  auto at = [&](const std::string& d) {
    return r.by_digest[d].value("artifactType", std::string("<absent>"));
  };
  if (at(f.sbom.digest) != kSbom)
    ctx.fail("artifactType of the SBOM referrer is " + at(f.sbom.digest), r.response);
  if (at(f.sig.digest) != kSig)
    ctx.fail("artifactType of the signature referrer is " + at(f.sig.digest), r.response);
  if (at(f.plain.digest) != kOciConfig) {
    ctx.fail(
        "an image manifest without artifactType MUST be listed with its config mediaType, got " +
            at(f.plain.digest),
        r.response);
  }
  if (r.by_digest[f.index.digest].contains("artifactType")) {
    ctx.fail("an index without artifactType MUST be listed without artifactType", r.response);
  }
}

void referrers_annotations(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci);
  Referrers r = fetch_referrers(oci, f.repo, f.subject.manifest.digest);
  const json& d = r.by_digest[f.sbom.digest];
  if (!d.contains("annotations") || !d["annotations"].is_object() ||
      d["annotations"].value("org.example.sbom.format", "") != "json" ||
      d["annotations"].value("org.opencontainers.image.created", "") != "2024-01-01T00:00:00Z") {
    ctx.fail("the SBOM referrer's descriptor lacks the manifest's annotations", r.response);
  }
  const json& i = r.by_digest[f.index.digest];
  if (!i.contains("annotations") || !i["annotations"].is_object() ||
      i["annotations"].value("org.example.kind", "") != "index") {
    ctx.fail("the index referrer's descriptor lacks the index's annotations", r.response);
  }
}

void referrers_unknown_digest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  require_referrers(oci, repo, img.manifest.digest);
  Referrers r = fetch_referrers(oci, repo, sha256_digest(random_bytes(20)));
  if (!r.index["manifests"].empty())
    ctx.fail("referrers of an unknown digest MUST be an empty list", r.response);
}

void referrers_filter(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci, false);
  Referrers r =
      fetch_referrers(oci, f.repo, f.subject.manifest.digest, "artifactType=" + url_encode(kSbom));
  std::string applied = r.response.header("OCI-Filters-Applied");
  if (applied.find("artifactType") == std::string::npos)
    ctx.fail("no OCI-Filters-Applied: artifactType (filtering not supported)", r.response);
}

void referrers_filter_consistent(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci, false);
  Referrers r =
      fetch_referrers(oci, f.repo, f.subject.manifest.digest, "artifactType=" + url_encode(kSbom));
  std::string applied = r.response.header("OCI-Filters-Applied");
  std::set<std::string> got;
  for (const auto& [d, _] : r.by_digest) got.insert(d);
  if (applied.find("artifactType") != std::string::npos) {
    if (got != std::set<std::string>{f.sbom.digest}) {
      ctx.fail("OCI-Filters-Applied: artifactType, but the list is not exactly the " +
                   std::string(kSbom) + " referrer",
               r.response);
    }
  } else if (got != std::set<std::string>{f.sbom.digest, f.sig.digest, f.plain.digest}) {
    ctx.fail("no OCI-Filters-Applied, so the list must be unfiltered (all 3 referrers)",
             r.response);
  }
}

void referrers_invalid_digest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  require_referrers(oci, repo, img.manifest.digest);
  HttpResponse r = oci.get(referrers_path(repo, "sha256:totallywrong"));
  oci.expect_status(r, {400}, "GET referrers of a malformed digest");
}

void referrers_subject_missing(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "latest");
  require_referrers(oci, repo, img.manifest.digest);
  Descriptor future = describe(kOciManifest, "{\"not\":\"pushed yet " + random_hex(8) + "\"}");
  Oci::Pushed ref = push_referrer(oci, repo, future, kSbom, kArtifactConfig, {});
  Referrers r = fetch_referrers(oci, repo, future.digest);
  if (!r.by_digest.count(ref.digest))
    ctx.fail("a referrer pushed before its subject is not listed", r.response);
}

void referrers_after_delete(CaseContext& ctx) {
  Oci oci(ctx);
  Fixture f = setup(oci, false);
  HttpResponse d = oci.del(Oci::manifest_path(f.repo, f.sig.digest));
  if (Oci::deletion_disabled_status(d.status)) ctx.skip("manifest deletion is disabled here");
  oci.expect_status(d, {202}, "DELETE a referrer manifest");
  Referrers r = fetch_referrers(oci, f.repo, f.subject.manifest.digest);
  if (r.by_digest.count(f.sig.digest)) ctx.fail("a deleted referrer is still listed", r.response);
  if (!r.by_digest.count(f.sbom.digest))
    ctx.fail("deleting one referrer dropped another", r.response);
}

#define CASE(ID, LEVEL, FN, CLAUSE) \
  DTRC_CASE({.group = "registry",   \
             .id = ID,              \
             .clause = CLAUSE,      \
             .level = Level::LEVEL, \
             .fn = FN,              \
             .order = 60})

DTRC_CASE(
    {.group = "registry",
     .id = "referrers-supported",
     .clause = "end-12a Listing Referrers (Content Discovery, which a registry claiming it MUST "
               "implement whole): 200, and MUST NOT answer 404",
     .level = Level::kMust,
     .fn = referrers_supported,
     .order = 59});
CASE("manifest-subject-accepted", kMust, manifest_subject_accepted,
     "Push: a registry MUST initially accept an otherwise valid manifest whose subject does "
     "not exist in the repository");
CASE("manifest-subject-header", kMust, manifest_subject_header,
     "Pushing Manifests with Subject: a registry supporting referrers MUST answer with "
     "OCI-Subject: <subject digest>");
CASE("referrers-list", kMust, referrers_list,
     "end-12a: an image index (Content-Type application/vnd.oci.image.index.v1+json) of the "
     "manifests whose subject is <digest>");
CASE("referrers-artifact-type", kMust, referrers_artifact_type,
     "end-12a: descriptors MUST carry artifactType; for an image manifest without it the "
     "config mediaType; for an index without it none");
CASE("referrers-annotations", kMust, referrers_annotations,
     "end-12a: the descriptors MUST include the annotations of the image manifest or index");
CASE("referrers-unknown-digest", kMust, referrers_unknown_digest,
     "end-12a: a query with no matching referrers MUST return an empty manifest list (200, "
     "never 404)");
CASE("referrers-filter", kShould, referrers_filter,
     "end-12b: the registry SHOULD support filtering on artifactType (OCI-Filters-Applied: "
     "artifactType)");
CASE("referrers-filter-consistent", kMust, referrers_filter_consistent,
     "end-12b: if a filter is applied the response MUST say so in OCI-Filters-Applied; without "
     "it the list is unfiltered");
CASE("referrers-invalid-digest", kMust, referrers_invalid_digest,
     "end-12a: if the request is invalid, such as a <digest> with an invalid syntax, 400 Bad "
     "Request MUST be returned");
CASE("referrers-subject-missing", kMust, referrers_subject_missing,
     "Push / Enabling the Referrers API: manifests and referrers in either order; newly pushed "
     "manifests with a subject MUST be listed");
CASE("referrers-after-delete", kMust, referrers_after_delete,
     "end-12a + end-9: each descriptor is of a manifest in the repository; a deleted referrer "
     "is no longer listed");

}  // namespace
}  // namespace dtrc
