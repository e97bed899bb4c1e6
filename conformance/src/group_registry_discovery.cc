// Group `registry`, content discovery: tags/list with n, last and Link (end-8a, end-8b),
// and _catalog (Docker Registry API V2; not part of OCI v1.1, hence SHOULD).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;

// Lower-case tags, so "lexical" and "ASCIIbetical" order agree.
const std::vector<std::string> kTags = {"alpha", "beta", "delta", "epsilon", "gamma"};

std::string setup_tags(Oci& oci) {
  std::string repo = oci.ctx().new_repo();
  Oci::Image img = oci.push_image(repo, "gamma");
  for (const auto& t : kTags) {
    if (t != "gamma") oci.push_manifest(repo, t, img.manifest.body, kOciManifest);
  }
  return repo;
}

// The "tags" of a tags/list answer; fails the case unless it is {"name","tags":[...]}.
std::vector<std::string> tags_of(Oci& oci, const HttpResponse& r, const std::string& repo) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("tags"))
    oci.ctx().fail("tags/list: not a JSON object with \"tags\"", r);
  if (!j.contains("name") || j["name"] != repo)
    oci.ctx().fail("tags/list: \"name\" is not " + repo, r);
  std::vector<std::string> tags;
  if (j["tags"].is_null()) return tags;
  if (!j["tags"].is_array()) oci.ctx().fail("tags/list: \"tags\" is not an array", r);
  for (const auto& t : j["tags"]) {
    if (!t.is_string()) oci.ctx().fail("tags/list: a tag is not a string", r);
    tags.push_back(t.get<std::string>());
  }
  return tags;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return "[" + out + "]";
}

void expect_tags(Oci& oci, const HttpResponse& r, const std::vector<std::string>& got,
                 const std::vector<std::string>& want, const std::string& what) {
  if (got != want) oci.ctx().fail(what + ": tags " + join(got) + ", want " + join(want), r);
}

void tags_list(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  HttpResponse r = oci.get("/v2/" + repo + "/tags/list");
  oci.expect_status(r, {200}, "GET tags/list");
  expect_tags(oci, r, tags_of(oci, r, repo), kTags, "GET tags/list");
}

void tags_list_n(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  HttpResponse r = oci.get("/v2/" + repo + "/tags/list?n=2");
  oci.expect_status(r, {200}, "GET tags/list?n=2");
  auto got = tags_of(oci, r, repo);
  if (got.size() > 2)
    ctx.fail("tags/list?n=2 gave " + std::to_string(got.size()) + " tags: n is ignored", r);
  if (got.size() < 2 && r.has_header("Link")) {
    // Fewer than n is allowed with a Link header; what there is must be the start.
    expect_tags(oci, r, got, std::vector<std::string>(kTags.begin(), kTags.begin() + got.size()),
                "tags/list?n=2");
    return;
  }
  expect_tags(oci, r, got, {"alpha", "beta"}, "GET tags/list?n=2");
  HttpResponse all = oci.get("/v2/" + repo + "/tags/list?n=10");
  oci.expect_status(all, {200}, "GET tags/list?n=10");
  expect_tags(oci, all, tags_of(oci, all, repo), kTags, "GET tags/list?n=10 (more than there are)");
}

void tags_list_n_last(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  HttpResponse r = oci.get("/v2/" + repo + "/tags/list?n=2&last=beta");
  oci.expect_status(r, {200}, "GET tags/list?n=2&last=beta");
  auto got = tags_of(oci, r, repo);
  if (got.size() > 2)
    ctx.fail("tags/list?n=2&last=beta gave " + std::to_string(got.size()) + " tags: n is ignored",
             r);
  if (std::find(got.begin(), got.end(), "alpha") != got.end() ||
      std::find(got.begin(), got.end(), "beta") != got.end()) {
    ctx.fail("tags/list?n=2&last=beta lists tags up to and including beta: last is ignored", r);
  }
  expect_tags(oci, r, tags_of(oci, r, repo), {"delta", "epsilon"}, "GET tags/list?n=2&last=beta");
}

void tags_list_last(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  HttpResponse r = oci.get("/v2/" + repo + "/tags/list?last=delta");
  oci.expect_status(r, {200}, "GET tags/list?last=delta");
  auto got = tags_of(oci, r, repo);
  for (const char* before : {"alpha", "beta", "delta"}) {
    if (std::find(got.begin(), got.end(), before) != got.end()) {
      ctx.fail("tags/list?last=delta lists " + std::string(before) + ": last is ignored", r);
    }
  }
  if (got.size() < 2 && r.has_header("Link")) return;  // a page, with more to follow
  expect_tags(oci, r, got, {"epsilon", "gamma"}, "GET tags/list?last=delta");
}

void tags_list_link(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  std::vector<std::string> seen;
  std::string target = "/v2/" + repo + "/tags/list?n=2";
  int links = 0;
  for (int page = 0; page < 10 && !target.empty(); ++page) {
    HttpResponse r = oci.get(target);
    oci.expect_status(r, {200}, "GET " + target);
    auto got = tags_of(oci, r, repo);
    seen.insert(seen.end(), got.begin(), got.end());
    target.clear();
    if (r.has_header("Link")) {
      std::string next = next_link(r.header("Link"));
      if (next.empty())
        ctx.fail("Link \"" + r.header("Link") + "\" is not <url>; rel=\"next\" (RFC 5988)", r);
      target = HttpClient::resolve(r.url, next);
      ++links;
    } else if (got.size() == 2 && seen.size() < kTags.size()) {
      target = "/v2/" + repo + "/tags/list?n=2&last=" + got.back();  // pages by `last`
    }
  }
  // Order is tags-list's business; here every tag must come exactly once.
  std::vector<std::string> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  expect_tags(oci, oci.ctx().http().last(), sorted, kTags, "all pages of tags/list?n=2 (sorted)");
  if (links == 0) ctx.note("no Link header (MAY); paged with last=");
}

void tags_list_n_zero(CaseContext& ctx) {
  Oci oci(ctx);
  std::string repo = setup_tags(oci);
  HttpResponse r = oci.get("/v2/" + repo + "/tags/list?n=0");
  oci.expect_status(r, {200}, "GET tags/list?n=0");
  auto got = tags_of(oci, r, repo);
  if (!got.empty())
    ctx.fail("tags/list?n=0 gave " + std::to_string(got.size()) + " tags, MUST be none", r);
  if (r.has_header("Link")) ctx.fail("tags/list?n=0 MUST NOT include a Link header", r);
}

void tags_list_unknown_repo(CaseContext& ctx) {
  Oci oci(ctx);
  HttpResponse r = oci.get("/v2/" + ctx.new_repo() + "/tags/list");
  oci.expect_status(r, {404}, "GET tags/list of a repository that does not exist");
}

// The repositories of a _catalog answer.
std::vector<std::string> repos_of(Oci& oci, const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("repositories") ||
      !(j["repositories"].is_array() || j["repositories"].is_null())) {
    oci.ctx().fail("_catalog: not a JSON object with a \"repositories\" array", r);
  }
  std::vector<std::string> out;
  if (j["repositories"].is_null()) return out;
  for (const auto& x : j["repositories"]) {
    if (!x.is_string()) oci.ctx().fail("_catalog: a repository is not a string", r);
    out.push_back(x.get<std::string>());
  }
  return out;
}

// Three repositories named so they sort together, right after `base`.
std::vector<std::string> setup_catalog(Oci& oci, std::string& before) {
  std::vector<std::string> repos = {oci.ctx().new_repo(), oci.ctx().new_repo(),
                                    oci.ctx().new_repo()};
  for (const auto& r : repos) oci.push_image(r, "latest");
  before = repos[0].substr(0, repos[0].size() - 1);  // sorts just before repos[0]
  return repos;
}

void catalog_offered(Oci& oci, const HttpResponse& r) {
  if (r.status == 404 || r.status == 401 || r.status == 403 || r.status == 405) {
    oci.ctx().skip("_catalog not offered here (" + std::to_string(r.status) +
                   "); it is not part of OCI v1.1");
  }
}

void catalog_list(CaseContext& ctx) {
  Oci oci(ctx);
  std::string before;
  auto repos = setup_catalog(oci, before);
  HttpResponse r = oci.get("/v2/_catalog?n=100&last=" + before);
  catalog_offered(oci, r);
  oci.expect_status(r, {200}, "GET _catalog?n=100&last=...");
  auto got = repos_of(oci, r);
  for (const auto& want : repos) {
    if (std::find(got.begin(), got.end(), want) == got.end())
      ctx.fail("_catalog does not list " + want, r);
  }
  if (!std::is_sorted(got.begin(), got.end())) ctx.fail("_catalog is not in lexical order", r);
}

void catalog_pagination(CaseContext& ctx) {
  Oci oci(ctx);
  std::string before;
  auto repos = setup_catalog(oci, before);
  HttpResponse r = oci.get("/v2/_catalog?n=1&last=" + repos[0]);
  catalog_offered(oci, r);
  oci.expect_status(r, {200}, "GET _catalog?n=1&last=<first>");
  auto got = repos_of(oci, r);
  if (got != std::vector<std::string>{repos[1]}) {
    ctx.fail("_catalog?n=1&last=" + repos[0] + ": got " + join(got) + ", want [" + repos[1] + "]",
             r);
  }
  std::string link = r.header("Link");
  if (link.empty()) ctx.fail("_catalog?n=1 with more repositories to come has no Link header", r);
  std::string next = next_link(link);
  if (next.empty()) ctx.fail("Link \"" + link + "\" is not <url>; rel=\"next\"", r);
  HttpResponse r2 = oci.get(HttpClient::resolve(r.url, next));
  oci.expect_status(r2, {200}, "GET the Link of _catalog");
  auto got2 = repos_of(oci, r2);
  if (got2 != std::vector<std::string>{repos[2]}) {
    ctx.fail("following the Link gave " + join(got2) + ", want [" + repos[2] + "]", r2);
  }
}

#define CASE(ID, LEVEL, FN, CLAUSE) \
  DTRC_CASE({.group = "registry",   \
             .id = ID,              \
             .clause = CLAUSE,      \
             .level = Level::LEVEL, \
             .fn = FN,              \
             .order = 50})

CASE("tags-list", kMust, tags_list,
     "end-8a Listing Tags: 200 with {\"name\",\"tags\"}; the tags MUST be in lexical order");
CASE("tags-list-n", kMust, tags_list_n,
     "end-8b: with n, fewer than n results only when there are fewer tags or a Link header; "
     "otherwise MUST include n results");
CASE("tags-list-n-last", kMust, tags_list_n_last,
     "end-8b: with n and last, up to n tags beginning non-inclusively after last, in lexical "
     "order");
CASE("tags-list-last", kMust, tags_list_last,
     "end-8b: when using the last query parameter, the n parameter is OPTIONAL");
CASE("tags-list-link", kMust, tags_list_link,
     "end-8b: a Link header, if included, MUST be RFC 5988 with rel=\"next\"; its pages list "
     "every tag once, in order");
CASE("tags-list-n-zero", kMust, tags_list_n_zero,
     "end-8b: when n is zero, the endpoint MUST return an empty list and MUST NOT include a "
     "Link header");
CASE("tags-list-unknown-repo", kMust, tags_list_unknown_repo,
     "end-8a failure: tags/list of a repository that does not exist is 404");
CASE("catalog-list", kShould, catalog_list,
     "apdx-1 Docker Registry API V2 Listing Repositories (not in OCI v1.1): _catalog lists "
     "repositories in lexical order");
CASE("catalog-pagination", kShould, catalog_pagination,
     "apdx-1 Docker Registry API V2 _catalog?n=&last=: n results after last, and Link "
     "rel=\"next\" to the rest");

}  // namespace
}  // namespace dtrc
