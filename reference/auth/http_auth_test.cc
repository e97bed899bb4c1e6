#include "auth/http_auth.h"

#include <gtest/gtest.h>

namespace dtr::auth {
namespace {

Challenge One(std::string_view header) {
  auto r = ParseChallenges(header);
  EXPECT_TRUE(r.ok()) << header << ": " << r.status().message();
  if (!r.ok() || r->empty()) return {};
  EXPECT_EQ(r->size(), 1u) << header;
  return r->front();
}

TEST(BearerChallengeTest, Formats) {
  BearerChallenge c{"https://dtr.example.com/auth/token",
                    "dtr.example.com",
                    {{"repository", "", "samalba/my-app", {"pull", "push"}}},
                    ""};
  EXPECT_EQ(FormatBearerChallenge(c),
            "Bearer realm=\"https://dtr.example.com/auth/token\",service=\"dtr.example.com\","
            "scope=\"repository:samalba/my-app:pull,push\"");
  c.error = "insufficient_scope";
  EXPECT_EQ(FormatBearerChallenge(c),
            "Bearer realm=\"https://dtr.example.com/auth/token\",service=\"dtr.example.com\","
            "scope=\"repository:samalba/my-app:pull,push\",error=\"insufficient_scope\"");
  c.scopes.push_back({"registry", "", "catalog", {"*"}});
  c.error.clear();
  EXPECT_NE(FormatBearerChallenge(c).find(
                "scope=\"repository:samalba/my-app:pull,push registry:catalog:*\""),
            std::string::npos);
  EXPECT_EQ(FormatBearerChallenge({"r", "s", {}, ""}), "Bearer realm=\"r\",service=\"s\"");
  EXPECT_EQ(FormatBasicChallenge("Docker Trusted Registry"),
            "Basic realm=\"Docker Trusted Registry\"");
}

TEST(BearerChallengeTest, FormattingCannotSplitTheHeader) {
  BearerChallenge c{"r\"ealm\\", "s\r\nX-Evil: 1", {{"repository", "", "a\"b", {"pull"}}}, ""};
  std::string h = FormatBearerChallenge(c);
  EXPECT_EQ(h.find('\r'), std::string::npos);
  EXPECT_EQ(h.find('\n'), std::string::npos);
  auto parsed = ParseChallenges(h);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ((*parsed)[0].Param("realm"), "r\"ealm\\");
  EXPECT_EQ((*parsed)[0].Param("service"), "sX-Evil: 1");
  EXPECT_EQ((*parsed)[0].Param("scope"), "repository:a\"b:pull");
}

TEST(ChallengeParseTest, RoundTripsWhatWeFormat) {
  BearerChallenge c{
      "https://h/auth/token",
      "h",
      {{"repository", "", "a/b", {"pull", "push"}}, {"registry", "", "catalog", {"*"}}},
      "insufficient_scope"};
  Challenge p = One(FormatBearerChallenge(c));
  EXPECT_EQ(p.scheme, "bearer");
  EXPECT_EQ(p.Param("realm"), "https://h/auth/token");
  EXPECT_EQ(p.Param("service"), "h");
  EXPECT_EQ(p.Param("error"), "insufficient_scope");
  auto scopes = ParseScopes({p.Param("scope")});
  ASSERT_TRUE(scopes.ok());
  EXPECT_EQ(*scopes, c.scopes);
}

TEST(ChallengeParseTest, DockerHubStyleWithQuotedCommas) {
  Challenge c = One(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.Param("scope"), "repository:samalba/my-app:pull,push");
  EXPECT_EQ(c.Param("missing"), "");
}

TEST(ChallengeParseTest, CaseSpacingAndUnquotedValues) {
  Challenge c = One("  BEARER   Realm = \"x\" ,  SERVICE=reg.example_1 , error=invalid_token  ");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.Param("realm"), "x");
  EXPECT_EQ(c.Param("service"), "reg.example_1");
  EXPECT_EQ(c.Param("error"), "invalid_token");
}

TEST(ChallengeParseTest, EscapesInQuotedStrings) {
  Challenge c = One(R"(Bearer realm="a\"b\\c\d",service="")");
  EXPECT_EQ(c.Param("realm"), "a\"b\\cd");
  EXPECT_EQ(c.Param("service"), "");
  EXPECT_TRUE(c.params.count("service"));
}

TEST(ChallengeParseTest, SeveralChallenges) {
  auto r = ParseChallenges(
      R"(Basic realm="Registry Realm", Bearer realm="https://a/token",service="a",scope="repository:x:pull,push", Negotiate, NTLM abc+/==)");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].scheme, "basic");
  EXPECT_EQ((*r)[0].Param("realm"), "Registry Realm");
  EXPECT_EQ((*r)[1].scheme, "bearer");
  EXPECT_EQ((*r)[1].Param("scope"), "repository:x:pull,push");
  EXPECT_EQ((*r)[1].params.size(), 3u);
  EXPECT_EQ((*r)[2].scheme, "negotiate");
  EXPECT_TRUE((*r)[2].params.empty());
  EXPECT_EQ((*r)[3].scheme, "ntlm");
  EXPECT_EQ((*r)[3].token68, "abc+/==");
}

TEST(ChallengeParseTest, BareSchemeAndToken68) {
  EXPECT_EQ(One("Basic").scheme, "basic");
  Challenge t = One("Negotiate YIIBgwYGKwYBBQUCoIIBdzCCAXOgMDAu==");
  EXPECT_EQ(t.token68, "YIIBgwYGKwYBBQUCoIIBdzCCAXOgMDAu==");
  EXPECT_TRUE(t.params.empty());
}

TEST(ChallengeParseTest, RejectsMalformed) {
  for (const char* bad : {"", "   ", ",,", R"(Bearer realm="unterminated)", R"(Bearer realm="a\)",
                          "Bearer realm=", "Bearer realm", "Bearer =x",
                          R"(Bearer realm="a" service="b")", R"(Bearer realm="a",realm="b")",
                          R"(Bearer realm=a b)", R"(Bearer"realm")", R"(Bearer realm=="x")"}) {
    auto r = ParseChallenges(bad);
    if (std::string_view(bad) == "Bearer realm" || std::string_view(bad) == "Bearer realm=") {
      // Grammatically a token68, which is legal.
      ASSERT_TRUE(r.ok());
      EXPECT_EQ((*r)[0].token68, std::string(bad).substr(7));
      continue;
    }
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
  }
}

TEST(AuthorizationTest, Basic) {
  auto c = ParseAuthorization("Basic " + std::string("YWxhZGRpbjpvcGVuc2VzYW1l"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->scheme, Credentials::Scheme::kBasic);
  EXPECT_EQ(c->username, "aladdin");
  EXPECT_EQ(c->password, "opensesame");
}

TEST(AuthorizationTest, BasicRoundTripWithColonsAndUnicode) {
  std::string h = FormatBasicAuthorization("user", "pa:ss:w\xc3\xb6rd");
  auto c = ParseAuthorization(h);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pa:ss:w\xc3\xb6rd");
  auto empty = ParseAuthorization(FormatBasicAuthorization("", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->username, "");
}

TEST(AuthorizationTest, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(ParseAuthorization("basic YWxhZGRpbjpvcGVuc2VzYW1l").ok());
  EXPECT_TRUE(ParseAuthorization("BASIC   YWxhZGRpbjpvcGVuc2VzYW1l ").ok());
  auto b = ParseAuthorization("bEaReR abc.def-_.ghi");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->scheme, Credentials::Scheme::kBearer);
  EXPECT_EQ(b->token, "abc.def-_.ghi");
}

TEST(AuthorizationTest, RejectsMalformed) {
  for (const char* bad : {"", "Basic", "Basic ", "Bearer", "Bearer ", "Basic !!!!",
                          "Basic YWxhZGRpbg==",  // no ':'
                          "Basic YWxhZGRpbjpvcGVuc2VzYW1l extra", "Bearer a b", "Bearer a\"b",
                          "BasicYWxhZGRpbjpvcGVuc2VzYW1l"}) {
    auto r = ParseAuthorization(bad);
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
  }
  auto digest = ParseAuthorization("Digest username=\"a\"");
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), Code::kUnsupported);
}

TEST(AuthorizationTest, ErrorsDoNotEchoSecrets) {
  auto r = ParseAuthorization("Basic " + std::string("c2VjcmV0LXBhc3N3b3Jk"));  // "secret-password"
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(r.status().message().find("c2VjcmV0"), std::string::npos);
}

}  // namespace
}  // namespace dtr::auth
