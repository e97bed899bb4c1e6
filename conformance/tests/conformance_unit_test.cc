// Unit tests of the suite's own parts: challenge parsing, token cache, URL and header
// helpers, the command line, the runner's handling of outcomes and --destructive, and the
// `trust` group's TUF client against real notary output and tampered copies of it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth.h"
#include "case_registry.h"
#include "cli.h"
#include "digest.h"
#include "http_client.h"
#include "registry_ops.h"
#include "report.h"
#include "runner.h"
#include "tuf_client.h"

namespace dtrc {
namespace {

TEST(Challenge, BearerWithQuotedParams) {
  auto c = parse_www_authenticate(
      {R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull")"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.example/token");
  EXPECT_EQ(c[0].params["service"], "registry.example");
  EXPECT_EQ(c[0].params["scope"], "repository:a/b:pull,push repository:c:pull");
}

TEST(Challenge, SeveralSchemesInOneHeaderAndAcrossHeaders) {
  auto c = parse_www_authenticate({R"(Basic realm="x", Bearer realm="y",service=s)", "Negotiate"});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "x");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "y");
  EXPECT_EQ(c[1].params["service"], "s");
  EXPECT_EQ(c[2].scheme, "negotiate");
}

TEST(Challenge, GarbageDoesNotCrash) {
  for (const char* v : {"", "\"", "=", "Bearer realm=\"unterminated", ",,,", "Bearer ,=,\"x"}) {
    auto c = parse_www_authenticate({v});
    EXPECT_LE(c.size(), 3u) << v;
  }
}

TEST(Token, RequestUrlCarriesServiceAndEachScope) {
  Challenge c{"bearer",
              {{"realm", "http://h/token"},
               {"service", "my svc"},
               {"scope", "repository:a:pull repository:b:pull,push"}}};
  EXPECT_EQ(
      token_request_url(c),
      "http://h/"
      "token?service=my%20svc&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull%2Cpush");
  EXPECT_EQ(TokenCache::key_for(c), TokenCache::key_for(Challenge{
                                        "bearer",
                                        {{"realm", "http://h/token"},
                                         {"service", "my svc"},
                                         {"scope", "repository:b:pull,push repository:a:pull"}}}));
}

TEST(Token, ParsesTokenOrAccessToken) {
  EXPECT_EQ(parse_token_response(R"({"token":"abc"})")->value, "abc");
  EXPECT_EQ(parse_token_response(R"({"access_token":"xyz","expires_in":300})")->value, "xyz");
  EXPECT_FALSE(parse_token_response("not json"));
  EXPECT_FALSE(parse_token_response(R"({"token":""})"));
}

TEST(Token, CacheRemembersTheRepository) {
  TokenCache cache;
  cache.put("k", Token{"t", std::chrono::steady_clock::now() + std::chrono::minutes(1)});
  cache.remember("ns/repo", "k");
  EXPECT_EQ(cache.for_repo("ns/repo").value_or(""), "t");
  EXPECT_FALSE(cache.for_repo("other"));
  cache.put("old", Token{"t2", std::chrono::steady_clock::now() - std::chrono::seconds(1)});
  EXPECT_FALSE(cache.get("old"));
}

TEST(Paths, RepositoryOf) {
  EXPECT_EQ(repository_of("/v2/ns/repo/blobs/uploads/uuid?x=1"), "ns/repo");
  EXPECT_EQ(repository_of("/v2/ns/repo/manifests/latest"), "ns/repo");
  EXPECT_EQ(repository_of("/v2/a/blobs/b/manifests/latest"), "a/blobs/b");
  EXPECT_EQ(repository_of("/v2/ns/repo/tags/list"), "ns/repo");
  EXPECT_EQ(repository_of("/v2/ns/repo/referrers/sha256:abc"), "ns/repo");
  EXPECT_EQ(repository_of("/v2/"), "");
  EXPECT_EQ(repository_of("/v2/_catalog"), "");
}

TEST(Encoding, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("alice:s3cret"), "YWxpY2U6czNjcmV0");
}

TEST(Encoding, Base64Url) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(base64url_decode("Zm9v"), "foo");
  EXPECT_EQ(base64url_decode("Zm8="), "fo");
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm.v"), std::nullopt);
  const std::string all = "any \x00\x01 bytes \xfe\xff";
  EXPECT_EQ(base64url_decode(base64url_encode(all)), all);
}

TEST(Locations, Resolve) {
  const std::string req = "http://h:5000/v2/r/blobs/uploads/?x=1";
  EXPECT_EQ(HttpClient::resolve(req, "/v2/r/blobs/uploads/u?_state=a"),
            "http://h:5000/v2/r/blobs/uploads/u?_state=a");
  EXPECT_EQ(HttpClient::resolve(req, "https://other/x"), "https://other/x");
  EXPECT_EQ(HttpClient::resolve(req, "u1"), "http://h:5000/v2/r/blobs/uploads/u1");
  EXPECT_EQ(HttpClient::resolve(req, "//cdn/x"), "http://cdn/x");
  EXPECT_EQ(Oci::add_query("http://h/a?x=1", "digest=d"), "http://h/a?x=1&digest=d");
  EXPECT_EQ(Oci::add_query("http://h/a", "digest=d"), "http://h/a?digest=d");
}

TEST(Headers, NextLink) {
  EXPECT_EQ(next_link(R"(</v2/r/tags/list?n=2&last=b>; rel="next")"), "/v2/r/tags/list?n=2&last=b");
  EXPECT_EQ(next_link(R"(<http://x/p>; rel="prev", <http://x/n>; rel=next)"), "http://x/n");
  EXPECT_EQ(next_link(R"(</a>; rel="first")"), "");
  EXPECT_EQ(next_link("garbage"), "");
}

TEST(Headers, ParseRange) {
  long long a = 0, b = 0;
  EXPECT_TRUE(parse_range("0-99", a, b));
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 99);
  EXPECT_TRUE(parse_range("bytes 10-19/100", a, b));
  EXPECT_EQ(a, 10);
  EXPECT_EQ(b, 19);
  EXPECT_FALSE(parse_range("-5", a, b));
  EXPECT_FALSE(parse_range("9-1", a, b));
  EXPECT_FALSE(parse_range("a-b", a, b));
}

TEST(Digests, Validity) {
  EXPECT_TRUE(is_valid_digest(sha256_digest("x")));
  EXPECT_TRUE(is_valid_digest(sha512_digest("x")));
  EXPECT_FALSE(is_valid_digest("sha256:totallywrong"));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_valid_digest("md5:abc"));
  EXPECT_EQ(sha256_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Cli, Defaults) {
  auto r = parse_cli({"--url", "http://127.0.0.1:5000/"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->url, "http://127.0.0.1:5000");
  EXPECT_EQ(r.options->profile, "oci");
  EXPECT_EQ(r.options->ns, "conformance");
  EXPECT_EQ(r.options->timeout_seconds, 30);
  EXPECT_FALSE(r.options->destructive);
}

TEST(Cli, AllOptions) {
  auto r = parse_cli({"--url=https://r.example",
                      "--user",
                      "u",
                      "--password",
                      "p",
                      "--ca",
                      "c.pem",
                      "--namespace",
                      "team/ci",
                      "--profile",
                      "dtr",
                      "--only",
                      "registry,auth",
                      "--destructive",
                      "--junit",
                      "j.xml",
                      "--json",
                      "r.json",
                      "--timeout",
                      "7"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->only, (std::vector<std::string>{"registry", "auth"}));
  EXPECT_EQ(r.options->ns, "team/ci");
  EXPECT_TRUE(r.options->destructive);
  EXPECT_EQ(r.options->timeout_seconds, 7);
}

TEST(Cli, Errors) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{},
        {"--url"},
        {"--url", "localhost:5000"},
        {"--url", "http://h", "--token", "t", "--user", "u", "--password", "p"},
        {"--url", "http://h", "--user", "u"},
        {"--url", "http://h", "--ca", "c", "--insecure"},
        {"--url", "http://h", "--namespace", "Bad"},
        {"--url", "http://h", "--timeout", "x"},
        {"--url", "http://h", "--list=yes"}}) {
    EXPECT_FALSE(parse_cli(args).options) << args.size();
  }
  EXPECT_TRUE(parse_cli({"--list"}).options);  // --list needs no URL
}

// ---- the runner, with cases registered by this test binary ---------------------------------

int g_destructive_runs = 0;
void pass_case(CaseContext& ctx) { ctx.note("fine"); }
void fail_case(CaseContext& ctx) { ctx.fail("broken", HttpResponse{}); }
void should_case(CaseContext& ctx) { ctx.fail("meh", HttpResponse{}); }
void skip_case(CaseContext& ctx) { ctx.skip("not here"); }
void throw_case(CaseContext&) { (void)nlohmann::json::parse("{}").at("missing"); }
void destructive_case(CaseContext&) { ++g_destructive_runs; }
int g_cleanups = 0;
void cleanup_case(CaseContext& ctx) {
  ctx.on_cleanup([] { ++g_cleanups; });
  ctx.fail("after registering cleanup", HttpResponse{});
}

DTRC_CASE(
    {.group = "selftest", .id = "a-pass", .clause = "c", .level = Level::kMust, .fn = pass_case});
DTRC_CASE(
    {.group = "selftest", .id = "b-fail", .clause = "c", .level = Level::kMust, .fn = fail_case});
DTRC_CASE({.group = "selftest",
           .id = "c-should",
           .clause = "c",
           .level = Level::kShould,
           .fn = should_case});
DTRC_CASE(
    {.group = "selftest", .id = "d-skip", .clause = "c", .level = Level::kMust, .fn = skip_case});
DTRC_CASE(
    {.group = "selftest", .id = "e-throw", .clause = "c", .level = Level::kMust, .fn = throw_case});
DTRC_CASE({.group = "selftest",
           .id = "f-destructive",
           .clause = "c",
           .level = Level::kMust,
           .fn = destructive_case,
           .destructive = true});
DTRC_CASE({.group = "selftest",
           .id = "g-cleanup",
           .clause = "c",
           .level = Level::kShould,
           .fn = cleanup_case});
DTRC_CASE({.group = "selftest",
           .id = "h-dtr-only",
           .clause = "c",
           .level = Level::kMust,
           .fn = pass_case,
           .profiles = kProfileDtr});

RunReport run_selftest(Options o) {
  o.only = {"selftest"};
  HttpClient http(ClientConfig{.base_url = "http://127.0.0.1:1"});
  RunState state(o, http);
  Selection sel = select_cases(o);
  EXPECT_TRUE(sel.error.empty());
  return run_cases(state, sel.cases, [](const CaseResult&) {});
}

TEST(Runner, CountsOutcomesByLevel) {
  g_destructive_runs = g_cleanups = 0;
  RunReport r = run_selftest(Options{});
  ASSERT_EQ(r.results.size(), 7u);  // h-dtr-only is not in profile oci
  EXPECT_EQ(r.passed, 1);
  EXPECT_EQ(r.failed, 4);   // b, c, e (exception), g
  EXPECT_EQ(r.skipped, 2);  // d, f (not --destructive)
  EXPECT_EQ(r.must_failed, 2);
  EXPECT_EQ(r.should_failed, 2);
  EXPECT_EQ(g_destructive_runs, 0);
  EXPECT_EQ(g_cleanups, 1);
  EXPECT_EQ(format_summary(r), "1 passed, 4 failed, 2 skipped");
  EXPECT_NE(r.results[4].reason.find("unexpected response"), std::string::npos);
}

TEST(Runner, DestructiveRunsOnlyWhenAsked) {
  g_destructive_runs = 0;
  Options o;
  o.destructive = true;
  o.profile = "dtr";
  RunReport r = run_selftest(o);
  EXPECT_EQ(g_destructive_runs, 1);
  EXPECT_EQ(r.results.size(), 8u);
}

TEST(Report, JsonAndJunit) {
  RunReport r = run_selftest(Options{});
  const auto dir = std::filesystem::temp_directory_path();
  const auto json_path = (dir / "dtrc-unit.json").string(),
             junit_path = (dir / "dtrc-unit.xml").string();
  ASSERT_EQ(write_json(json_path, Options{}, r), "");
  ASSERT_EQ(write_junit(junit_path, r), "");
  std::ifstream jf(json_path);
  auto j = nlohmann::json::parse(jf);
  EXPECT_EQ(j["summary"]["failed"], 4);
  EXPECT_EQ(j["cases"][1]["id"], "selftest/b-fail");
  EXPECT_EQ(j["cases"][1]["status"], "fail");
  std::stringstream x;
  x << std::ifstream(junit_path).rdbuf();
  EXPECT_NE(x.str().find("<testsuite name=\"selftest\" tests=\"7\" failures=\"4\" skipped=\"2\""),
            std::string::npos)
      << x.str();
  EXPECT_EQ(format_result(r.results[0]).rfind("PASS  selftest/a-pass  [MUST] c  fine\n", 0), 0u);
}

// ---- the trust group's TUF client ---------------------------------------------------------

std::string trust_fixture(const std::string& path) {
  std::ifstream in(std::string(DTRC_FIXTURES_DIR) + "/trust/" + path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fixtures were made by notary 0.7 on 2026-11-27; their timestamps expire 14 days later.
// Timestamp version n names snapshot version n+1.
const std::time_t kFixtureNow = *tuf::parse_rfc3339("2026-11-28T00:00:00Z");

tuf::SignedDoc signed_doc(const std::string& body) {
  std::string why;
  auto doc = tuf::parse_signed(body, &why);
  EXPECT_TRUE(doc) << why;
  return doc ? *doc : tuf::SignedDoc{};
}

tuf::Role fixture_role(const std::string& name) {
  std::string why;
  auto role = tuf::role_of(signed_doc(trust_fixture("basic/1.root.json")).value, name, &why);
  EXPECT_TRUE(role) << why;
  return role ? *role : tuf::Role{};
}

TEST(TufClient, CanonicalJsonIsGoCanonical) {
  auto j = nlohmann::json::parse(R"({"b": [1, true, null], "a": {"z": "q\"\\<&\n", "y": 2.0}})");
  EXPECT_EQ(*tuf::canonical_json(j),
            "{\"a\":{\"y\":2,\"z\":\"q\\\"\\\\<&\n\"},\"b\":[1,true,null]}");
  EXPECT_FALSE(tuf::canonical_json(nlohmann::json::parse("1.5")));
  // notary's own signed bytes are the canonical form of what it serves.
  std::string body = trust_fixture("basic/2.targets.json");
  std::string signed_part = body.substr(10, body.find(",\"signatures\"") - 10);
  EXPECT_EQ(signed_doc(body).canonical, signed_part);
}

TEST(TufClient, VerifiesNotaryOutput) {
  auto root = signed_doc(trust_fixture("basic/1.root.json"));
  EXPECT_EQ(tuf::check_signatures(root, fixture_role("root")), "");  // ecdsa-x509
  EXPECT_EQ(tuf::check_common(root, "Root", kFixtureNow, 1), "");
  EXPECT_EQ(tuf::check_signatures(signed_doc(trust_fixture("basic/2.targets.json")),
                                  fixture_role("targets")),
            "");
  EXPECT_EQ(tuf::check_signatures(signed_doc(trust_fixture("basic/2.snapshot.json")),
                                  fixture_role("snapshot")),
            "");
  // The server's timestamp, ed25519 ("eddsa"), naming the snapshot it was served with.
  tuf::Role ts = fixture_role("timestamp");
  ASSERT_EQ(ts.keys.size(), 1u);
  EXPECT_EQ(ts.keys.begin()->second.type, "ed25519");
  EXPECT_EQ(ts.keys.begin()->first, ts.keys.begin()->second.id);  // IDs as notary computes them
  EXPECT_EQ(tuf::check_timestamp(trust_fixture("basic/1.timestamp.json"), ts.keys.begin()->second,
                                 trust_fixture("basic/2.snapshot.json"), kFixtureNow),
            "");
}

TEST(TufClient, RefusesTamperedNotaryOutput) {
  const tuf::PublicKey ts_key = fixture_role("timestamp").keys.begin()->second;
  const std::string ts = trust_fixture("basic/1.timestamp.json");
  const std::string snap = trust_fixture("basic/2.snapshot.json");
  // A snapshot the timestamp does not name (another version, one changed byte).
  EXPECT_NE(tuf::check_timestamp(ts, ts_key, trust_fixture("basic/3.snapshot.json"), kFixtureNow),
            "");
  std::string changed = snap;
  changed[changed.find("Snapshot")] = 's';
  EXPECT_NE(tuf::check_timestamp(ts, ts_key, changed, kFixtureNow), "");
  // A changed signed value: the signature no longer verifies.
  std::string forged = ts;
  forged.replace(forged.find("\"version\":1"), 11, "\"version\":9");
  EXPECT_NE(tuf::check_timestamp(forged, ts_key, snap, kFixtureNow), "");
  // Expired, or checked against another key.
  EXPECT_NE(tuf::check_timestamp(ts, ts_key, snap, *tuf::parse_rfc3339("2027-01-01T00:00:00Z")),
            "");
  EXPECT_NE(
      tuf::check_timestamp(ts, fixture_role("snapshot").keys.begin()->second, snap, kFixtureNow),
      "");
  // Targets checked against the snapshot role's key; below a raised threshold.
  auto targets = signed_doc(trust_fixture("basic/2.targets.json"));
  EXPECT_NE(tuf::check_signatures(targets, fixture_role("snapshot")), "");
  tuf::Role two = fixture_role("targets");
  two.threshold = 2;
  EXPECT_NE(tuf::check_signatures(targets, two), "");
  targets.signatures.push_back(targets.signatures[0]);  // the same key twice counts once
  EXPECT_NE(tuf::check_signatures(targets, two), "");
  EXPECT_NE(tuf::check_common(targets, "Root", kFixtureNow), "");
  EXPECT_NE(tuf::check_common(targets, "Targets", kFixtureNow, 3), "");
}

TEST(TufClient, PublisherSignsWhatAVerifierAccepts) {
  auto server = tuf::PrivateKey::generate();
  tuf::Publisher pub("127.0.0.1:5000/ns/repo", server.public_key());
  std::string root = pub.root(1);
  auto doc = signed_doc(root);
  std::string why;
  auto role = tuf::role_of(doc.value, "root", &why);
  ASSERT_TRUE(role) << why;
  EXPECT_EQ(role->keys.begin()->second.type, "ecdsa-x509");
  EXPECT_EQ(tuf::check_signatures(doc, *role), "");
  EXPECT_EQ(tuf::check_common(doc, "Root", std::time(nullptr), 1), "");
  std::string targets = pub.targets(1, {{"v1", "content"}});
  auto troles = tuf::role_of(doc.value, "targets", &why);
  EXPECT_EQ(tuf::check_signatures(signed_doc(targets), *troles), "");
  std::string snapshot = pub.snapshot(1, root, targets);
  EXPECT_EQ(tuf::check_meta(signed_doc(snapshot).value, "targets", targets), "");
  EXPECT_NE(tuf::check_meta(signed_doc(snapshot).value, "targets", targets + " "), "");
  // A key's ID is the sha256 of its canonical public JSON.
  EXPECT_EQ(server.id(),
            tuf::hex(tuf::sha256_raw(*tuf::canonical_json(server.public_key().to_json()))));
  // Signed by the wrong key: refused.
  std::string evil = tuf::sign_document(signed_doc(targets).value, {&pub.snapshot_key});
  EXPECT_NE(tuf::check_signatures(signed_doc(evil), *troles), "");
}

}  // namespace
}  // namespace dtrc
