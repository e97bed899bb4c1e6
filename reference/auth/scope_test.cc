#include "auth/scope.h"

#include <gtest/gtest.h>

namespace dtr::auth {
namespace {

using nlohmann::json;

ResourceActions Parse(std::string_view s) {
  auto r = ParseResourceScope(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? *r : ResourceActions{};
}

TEST(ScopeTest, ParsesRepositoryScopes) {
  EXPECT_EQ(Parse("repository:samalba/my-app:pull,push"),
            (ResourceActions{"repository", "", "samalba/my-app", {"pull", "push"}}));
  EXPECT_EQ(Parse("repository:ubuntu:pull"),
            (ResourceActions{"repository", "", "ubuntu", {"pull"}}));
  EXPECT_EQ(Parse("repository:a/b/c/d:delete"),
            (ResourceActions{"repository", "", "a/b/c/d", {"delete"}}));
  EXPECT_EQ(Parse("repository:a:*"), (ResourceActions{"repository", "", "a", {"*"}}));
  EXPECT_EQ(Parse("registry:catalog:*"), (ResourceActions{"registry", "", "catalog", {"*"}}));
}

TEST(ScopeTest, NamesWithPortsAndOddCharacters) {
  // The spec's warning: a host's port puts a ':' inside the name.
  EXPECT_EQ(Parse("repository:localhost:5000/foo/bar:pull,push"),
            (ResourceActions{"repository", "", "localhost:5000/foo/bar", {"pull", "push"}}));
  EXPECT_EQ(Parse("repository:my.registry.io:443/team/app:pull").name,
            "my.registry.io:443/team/app");
  EXPECT_EQ(Parse("repository:a__b/c--d.e_f:push").name, "a__b/c--d.e_f");
  // The parser does not judge repository grammar; the caller validates names.
  EXPECT_EQ(Parse("repository:UPPER/Case:pull").name, "UPPER/Case");
  EXPECT_EQ(Parse("repository:a,b:pull").name, "a,b");
}

TEST(ScopeTest, ResourceClass) {
  EXPECT_EQ(Parse("repository(plugin):vieux/sshfs:pull"),
            (ResourceActions{"repository", "plugin", "vieux/sshfs", {"pull"}}));
  EXPECT_EQ(FormatScope(Parse("repository(plugin):vieux/sshfs:pull")),
            "repository(plugin):vieux/sshfs:pull");
  for (const char* bad : {"repository():a:pull", "repository(:a:pull", "repository(Plugin):a:pull",
                          "repository(a)(b):a:pull", "(plugin):a:pull", "repository)x(:a:pull"}) {
    EXPECT_FALSE(ParseResourceScope(bad).ok()) << bad;
  }
}

TEST(ScopeTest, DuplicateActionsCollapse) {
  EXPECT_EQ(Parse("repository:a:pull,push,pull").actions,
            (std::vector<std::string>{"pull", "push"}));
}

TEST(ScopeTest, RejectsMalformed) {
  for (const char* bad :
       {"", "repository", "repository:foo", "repository::pull", "repository:foo:",
        "repository:foo:pull,", "repository:foo:,pull", "repository:foo:pull,,push",
        "repository:foo:PULL", "repository:foo:pu ll", "repository:fo o:pull",
        "repository:fo\"o:pull", "repository:fo\\o:pull", "Repository:foo:pull", ":foo:pull",
        "repo-sitory:foo:pull", "repository:foo\n:pull", "repository:foo:pull\r"}) {
    auto r = ParseResourceScope(bad);
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
  }
  auto r = ParseResourceScope("repository:foo:PULL");
  EXPECT_NE(r.status().message().find("actions"), std::string::npos);
}

TEST(ScopeTest, ParsesSeveralParametersAndSpaceSeparatedLists) {
  auto scopes = ParseScopes({"repository:a:pull", "repository:b:push registry:catalog:*",
                             "repository:a:push  repository:a:pull"});
  ASSERT_TRUE(scopes.ok()) << scopes.status().message();
  ASSERT_EQ(scopes->size(), 3u);
  EXPECT_EQ((*scopes)[0], (ResourceActions{"repository", "", "a", {"pull", "push"}}));
  EXPECT_EQ((*scopes)[1], (ResourceActions{"repository", "", "b", {"push"}}));
  EXPECT_EQ((*scopes)[2], (ResourceActions{"registry", "", "catalog", {"*"}}));
  EXPECT_TRUE(ParseScopes({})->empty());
  EXPECT_TRUE(ParseScopes({"", " "})->empty());
  EXPECT_FALSE(ParseScopes({"repository:a:pull", "garbage"}).ok());
}

TEST(ScopeTest, SameNameDifferentClassStaysSeparate) {
  auto scopes = ParseScopes({"repository:a:pull repository(plugin):a:pull"});
  ASSERT_TRUE(scopes.ok());
  EXPECT_EQ(scopes->size(), 2u);
}

TEST(ScopeTest, FormatRoundTrips) {
  for (const char* s : {"repository:samalba/my-app:pull,push", "registry:catalog:*",
                        "repository:localhost:5000/x:delete", "repository(plugin):p:pull"}) {
    EXPECT_EQ(FormatScope(Parse(s)), s);
  }
  auto scopes = ParseScopes({"repository:a:pull registry:catalog:*"});
  EXPECT_EQ(FormatScopes(*scopes), "repository:a:pull registry:catalog:*");
}

TEST(ScopeTest, AccessClaimRoundTrip) {
  std::vector<ResourceActions> access = {{"repository", "", "samalba/my-app", {"pull", "push"}},
                                         {"repository", "plugin", "vieux/sshfs", {"pull"}},
                                         {"repository", "", "denied", {}}};
  json claim = AccessClaim(access);
  EXPECT_EQ(claim, json::parse(R"([
    {"type":"repository","name":"samalba/my-app","actions":["pull","push"]},
    {"type":"repository","class":"plugin","name":"vieux/sshfs","actions":["pull"]},
    {"type":"repository","name":"denied","actions":[]}])"));
  auto back = ParseAccessClaim(claim);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, access);
  EXPECT_EQ(AccessClaim({}), json::array());
}

TEST(ScopeTest, ParseAccessClaimRejectsMalformed) {
  EXPECT_TRUE(ParseAccessClaim(json(nullptr))->empty());
  for (const char* bad :
       {R"({})", R"("repository:a:pull")", R"([1])", R"([{"type":"repository","name":"a"}])",
        R"([{"type":"repository","actions":["pull"]}])",
        R"([{"type":1,"name":"a","actions":["pull"]}])",
        R"([{"type":"repository","name":"a","actions":"pull"}])",
        R"([{"type":"repository","name":"a","actions":[1]}])",
        R"([{"type":"repository","class":2,"name":"a","actions":[]}])"}) {
    EXPECT_FALSE(ParseAccessClaim(json::parse(bad)).ok()) << bad;
  }
}

TEST(ScopeTest, Allows) {
  std::vector<ResourceActions> granted = {{"repository", "", "a/b", {"pull"}},
                                          {"repository", "", "c", {"*"}},
                                          {"registry", "", "catalog", {"*"}}};
  EXPECT_TRUE(Allows(granted, "repository", "a/b", "pull"));
  EXPECT_FALSE(Allows(granted, "repository", "a/b", "push"));
  EXPECT_FALSE(Allows(granted, "repository", "a/bc", "pull"));
  EXPECT_FALSE(Allows(granted, "repository", "a", "pull"));
  EXPECT_FALSE(Allows(granted, "registry", "a/b", "pull"));
  EXPECT_TRUE(Allows(granted, "repository", "c", "delete"));
  EXPECT_TRUE(Allows(granted, "registry", "catalog", "*"));
  EXPECT_FALSE(Allows({}, "repository", "a/b", "pull"));
  EXPECT_FALSE(Allows({{"repository", "", "x", {}}}, "repository", "x", "pull"));
}

}  // namespace
}  // namespace dtr::auth
