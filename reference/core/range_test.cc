#include "core/range.h"

#include <gtest/gtest.h>

namespace dtr {
namespace {

TEST(RangeTest, ResolvesSingleRanges) {
  auto r = ResolveRangeHeader("bytes=0-9", 100);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->last, 9u);
  r = ResolveRangeHeader("bytes=90-", 100);
  EXPECT_EQ((*r)->first, 90u);
  EXPECT_EQ((*r)->last, 99u);
  r = ResolveRangeHeader("bytes=-10", 100);
  EXPECT_EQ((*r)->first, 90u);
  r = ResolveRangeHeader("bytes=50-1000", 100);
  EXPECT_EQ((*r)->last, 99u);
}

TEST(RangeTest, IgnoresWhatItMayIgnore) {
  EXPECT_FALSE(ResolveRangeHeader("items=0-1", 100)->has_value());
  EXPECT_FALSE(ResolveRangeHeader("bytes=0-1,5-6", 100)->has_value());
  EXPECT_FALSE(ResolveRangeHeader("", 100)->has_value());
}

TEST(RangeTest, UnsatisfiableAndMalformed) {
  EXPECT_EQ(ResolveRangeHeader("bytes=100-", 100).status().code(), Code::kOutOfRange);
  EXPECT_EQ(ResolveRangeHeader("bytes=0-", 0).status().code(), Code::kOutOfRange);
  EXPECT_EQ(ResolveRangeHeader("bytes=5-1", 100).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ResolveRangeHeader("bytes=x-1", 100).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ResolveRangeHeader("bytes=99999999999999999999-", 100).status().code(),
            Code::kInvalidArgument);
}

TEST(RangeTest, ContentRangeForms) {
  auto r = ParseContentRange("0-99");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->length(), 100u);
  EXPECT_EQ(ParseContentRange("bytes 100-199/200")->first, 100u);
  EXPECT_FALSE(ParseContentRange("100").ok());
  EXPECT_FALSE(ParseContentRange("5-1").ok());
  EXPECT_FALSE(ParseContentRange("a-b").ok());
}

}  // namespace
}  // namespace dtr
