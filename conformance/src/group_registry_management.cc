// Group `registry`, content management: DELETE of manifests, tags and blobs (end-9,
// end-10). Registries MAY disable deletion; then they MUST answer 400 or 405, which passes.
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

// True when the registry refused because deletion is disabled (allowed by the spec).
bool disabled(CaseContext& ctx, const HttpResponse& r, const std::string& what) {
  if (!Oci::deletion_disabled_status(r.status)) return false;
  ctx.note(what + " is disabled here (" + std::to_string(r.status) + ", allowed)");
  return true;
}

void delete_manifest(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "doomed");
  HttpResponse d = oci.del(Oci::manifest_path(repo, img.manifest.digest));
  if (disabled(ctx, d, "manifest deletion")) return;
  oci.expect_status(d, {202}, "DELETE manifest by digest");
  HttpResponse g =
      oci.get(Oci::manifest_path(repo, img.manifest.digest), {{"Accept", kOciManifest}});
  oci.expect_status(g, {404}, "GET a deleted manifest by digest");
  HttpResponse t = oci.get(Oci::manifest_path(repo, "doomed"), {{"Accept", kOciManifest}});
  oci.expect_status(t, {404}, "GET a tag that pointed to the deleted manifest");
}

void delete_tag(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  Oci::Image img = oci.push_image(repo, "first");
  oci.push_manifest(repo, "second", img.manifest.body, kOciManifest);
  HttpResponse d = oci.del(Oci::manifest_path(repo, "first"));
  if (disabled(ctx, d, "tag deletion")) return;
  oci.expect_status(d, {202}, "DELETE a tag");
  HttpResponse g = oci.get(Oci::manifest_path(repo, "first"), {{"Accept", kOciManifest}});
  oci.expect_status(g, {404}, "GET a deleted tag");
  HttpResponse other = oci.get(Oci::manifest_path(repo, "second"), {{"Accept", kOciManifest}});
  if (other.status != 200) ctx.note("deleting one tag also removed another tag of the manifest");
}

void delete_blob(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  std::string digest = oci.push_blob(repo, make_layer(900));
  HttpResponse d = oci.del(Oci::blob_path(repo, digest));
  if (disabled(ctx, d, "blob deletion")) return;
  oci.expect_status(d, {202}, "DELETE blob");
  HttpResponse g = oci.get(Oci::blob_path(repo, digest));
  oci.expect_status(g, {404}, "GET a deleted blob");
}

void delete_blob_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_blob(repo, make_layer(100));
  HttpResponse d = oci.del(Oci::blob_path(repo, sha256_digest(random_bytes(16))));
  if (disabled(ctx, d, "blob deletion")) return;
  oci.expect_status(d, {404}, "DELETE a blob that is not there");
}

void delete_manifest_unknown_repo(CaseContext& ctx) {
  Oci oci(ctx);
  HttpResponse d = oci.del(Oci::manifest_path(ctx.new_repo(), sha256_digest(random_bytes(16))));
  if (disabled(ctx, d, "manifest deletion")) return;
  oci.expect_status(d, {404}, "DELETE a manifest in a repository that does not exist");
}

void delete_manifest_unknown(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = ctx.new_repo();
  oci.push_image(repo, "latest");
  HttpResponse d = oci.del(Oci::manifest_path(repo, sha256_digest(random_bytes(16))));
  if (disabled(ctx, d, "manifest deletion")) return;
  oci.expect_status(d, {404}, "DELETE a manifest digest the repository does not have");
}

#define CASE(ID, LEVEL, FN, CLAUSE) \
  DTRC_CASE({.group = "registry",   \
             .id = ID,              \
             .clause = CLAUSE,      \
             .level = Level::LEVEL, \
             .fn = FN,              \
             .order = 70})

CASE("delete-manifest", kMust, delete_manifest,
     "end-9 Deleting Manifests: 202 Accepted (400/405 if disabled); then GET by digest and by "
     "any tag pointing to it is 404");
CASE("delete-tag", kMust, delete_tag,
     "end-9 Deleting tags: 202 Accepted, or 400/405 if tag deletion is disabled; then GET of "
     "the tag is 404");
CASE("delete-blob", kMust, delete_blob,
     "end-10 Deleting Blobs: 202 Accepted (400/405 if disabled); the blob is then 404");
CASE("delete-blob-unknown", kMust, delete_blob_unknown,
     "end-10: if the blob is not found, a 404 Not Found code MUST be returned");
CASE("delete-manifest-unknown-repo", kMust, delete_manifest_unknown_repo,
     "end-9: if the repository does not exist, the response MUST return 404 Not Found");
CASE("delete-manifest-unknown", kShould, delete_manifest_unknown,
     "end-9 failure 404: deleting a manifest the repository does not have");

}  // namespace
}  // namespace dtrc
