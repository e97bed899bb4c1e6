#include "core/names.h"

#include <gtest/gtest.h>

namespace dtr {
namespace {

TEST(NamesTest, AcceptsSpecGrammar) {
  for (const char* n : {"a", "library/ubuntu", "a/b/c/d", "my-repo", "my--repo", "a.b", "a_b",
                        "a__b", "0", "ns/x9.y-z_w"}) {
    EXPECT_TRUE(ValidateRepositoryName(n).ok()) << n;
  }
}

TEST(NamesTest, RejectsInvalidNames) {
  for (const char* n : {"", "A", "library/Ubuntu", "a//b", "/a", "a/", "a/../b", "..", "-a", "a-",
                        "a___b", "a..b", "a b", "a:b", "a/.b", "a@b"}) {
    EXPECT_FALSE(ValidateRepositoryName(n).ok()) << n;
  }
  EXPECT_TRUE(ValidateRepositoryName(std::string(255, 'a')).ok());
  EXPECT_FALSE(ValidateRepositoryName(std::string(256, 'a')).ok());
}

TEST(NamesTest, UppercaseMessageSaysLowercase) {
  auto s = ValidateRepositoryName("Library");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("lowercase"), std::string::npos) << s.message();
}

TEST(NamesTest, Tags) {
  EXPECT_TRUE(ValidateTag("latest").ok());
  EXPECT_TRUE(ValidateTag("v1.0_rc-1").ok());
  EXPECT_TRUE(ValidateTag("_x").ok());
  EXPECT_TRUE(ValidateTag(std::string(128, 'a')).ok());
  EXPECT_FALSE(ValidateTag(std::string(129, 'a')).ok());
  EXPECT_FALSE(ValidateTag("").ok());
  EXPECT_FALSE(ValidateTag(".x").ok());
  EXPECT_FALSE(ValidateTag("-x").ok());
  EXPECT_FALSE(ValidateTag("a/b").ok());
  EXPECT_FALSE(ValidateTag("a:b").ok());
}

}  // namespace
}  // namespace dtr
