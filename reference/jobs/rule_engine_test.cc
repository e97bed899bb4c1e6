// The rule engine and the tag selections built on it: every operator, Go durations, RFC 3339
// times, the errors bad rules get, FIFO eviction order.
#include "jobs/rule_engine.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jobs/tag_pruning.h"

namespace dtr::jobs {
namespace {

using nlohmann::json;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kNow = int64_t{1700000000} * 1000;

Rule Parse(const json& rule) {
  auto r = ParseRules(json::array({rule}));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? (*r)[0] : Rule{};
}

bool TagMatches(const std::string& op, const std::vector<std::string>& values,
                const std::string& tag) {
  return RuleMatches(Parse(json{{"field", "tag"}, {"operator", op}, {"values", values}}),
                     TagFacts{tag, kNow}, kNow);
}

TEST(RuleEngineTest, TagOperators) {
  EXPECT_TRUE(TagMatches("eq", {"v1"}, "v1"));
  EXPECT_FALSE(TagMatches("eq", {"v1"}, "v10"));
  EXPECT_TRUE(TagMatches("sw", {"dev-"}, "dev-123"));
  EXPECT_FALSE(TagMatches("sw", {"dev-"}, "prod-dev-1"));
  EXPECT_TRUE(TagMatches("ew", {"-rc"}, "1.0-rc"));
  EXPECT_FALSE(TagMatches("ew", {"-rc"}, "1.0-rc1"));
  EXPECT_TRUE(TagMatches("c", {"tmp"}, "build-tmp-7"));
  EXPECT_FALSE(TagMatches("c", {"tmp"}, "build-7"));
  EXPECT_TRUE(TagMatches("oo", {"a", "b"}, "b"));
  EXPECT_FALSE(TagMatches("oo", {"a", "b"}, "c"));
  EXPECT_TRUE(TagMatches("noo", {"latest", "stable"}, "nightly"));
  EXPECT_FALSE(TagMatches("noo", {"latest", "stable"}, "latest"));
}

TEST(RuleEngineTest, UpdatedAtAndDuration) {
  Rule before = Parse(json{{"field", "updated_at"},
                           {"operator", "bf"},
                           {"values", {"2023-11-14T22:13:20Z"}}});  // == kNow
  EXPECT_EQ(before.time_value, kNow);
  EXPECT_TRUE(RuleMatches(before, TagFacts{"t", kNow - 1000}, kNow));
  EXPECT_FALSE(RuleMatches(before, TagFacts{"t", kNow + 1000}, kNow));
  Rule after = Parse(json{{"field", "updated_at"},
                          {"operator", "af"},
                          {"values", {"2023-11-14T23:13:20+01:00"}}});  // the same instant
  EXPECT_EQ(after.time_value, kNow);
  EXPECT_TRUE(RuleMatches(after, TagFacts{"t", kNow + 1000}, kNow));
  EXPECT_FALSE(RuleMatches(after, TagFacts{"t", kNow - 1000}, kNow));

  Rule older =
      Parse(json{{"field", "updated_at_duration"}, {"operator", "bf"}, {"values", {"24h"}}});
  EXPECT_TRUE(RuleMatches(older, TagFacts{"t", kNow - 25 * kHourMs}, kNow));
  EXPECT_FALSE(RuleMatches(older, TagFacts{"t", kNow - 23 * kHourMs}, kNow));
  Rule newer =
      Parse(json{{"field", "updated_at_duration"}, {"operator", "af"}, {"values", {"1h30m"}}});
  EXPECT_TRUE(RuleMatches(newer, TagFacts{"t", kNow - kHourMs}, kNow));
  EXPECT_FALSE(RuleMatches(newer, TagFacts{"t", kNow - 2 * kHourMs}, kNow));
}

TEST(RuleEngineTest, AllRulesMustMatch) {
  auto rules = ParseRules(json::parse(R"([
    {"field": "tag", "operator": "sw", "values": ["dev-"]},
    {"field": "updated_at_duration", "operator": "bf", "values": ["48h"]}])"));
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  EXPECT_TRUE(AllRulesMatch(*rules, TagFacts{"dev-1", kNow - 72 * kHourMs}, kNow));
  EXPECT_FALSE(AllRulesMatch(*rules, TagFacts{"dev-1", kNow - kHourMs}, kNow));
  EXPECT_FALSE(AllRulesMatch(*rules, TagFacts{"prod-1", kNow - 72 * kHourMs}, kNow));
  EXPECT_FALSE(AllRulesMatch({}, TagFacts{"dev-1", 0}, kNow));
}

TEST(RuleEngineTest, GoDurations) {
  const int64_t s = 1000000000;
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(*ParseGoDuration("300ms"), 300 * 1000000);
  EXPECT_EQ(*ParseGoDuration("-1.5h"), -90 * 60 * s);
  EXPECT_EQ(*ParseGoDuration("+2h45m"), (2 * 3600 + 45 * 60) * s);
  EXPECT_EQ(*ParseGoDuration("1h1m1s1ms1us1ns"), 3661 * s + 1001001);
  EXPECT_EQ(*ParseGoDuration("1\xC2\xB5s"), 1000);
  EXPECT_EQ(*ParseGoDuration(".5s"), s / 2);
  EXPECT_EQ(*ParseGoDuration("720h"), int64_t{720} * 3600 * s);
  for (const char* bad : {"", "1", "h", "1d", ".s", "1h-1m", "--1s", "9999999999h"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
  EXPECT_NE(ParseGoDuration("7d").status().message().find("unknown unit"), std::string::npos);
}

TEST(RuleEngineTest, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339Ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*ParseRfc3339Ms("2019-05-22T01:55:20.471286995Z"), int64_t{1558490120471});
  EXPECT_EQ(*ParseRfc3339Ms("1970-01-01T01:00:00+01:00"), 0);
  for (const char* bad : {"2019-05-22", "2019-05-22 01:55:20Z", "2019-13-01T00:00:00Z",
                          "2019-05-22T01:55:20", "2019-05-22T01:55:20Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339Ms(bad).ok()) << bad;
  }
}

TEST(RuleEngineTest, BadRulesSayWhatIsWrong) {
  auto error = [](const std::string& text) {
    auto r = ParseRules(json::parse(text));
    return r.ok() ? std::string("<accepted>") : r.status().message();
  };
  EXPECT_NE(error("[]").find("at least one rule"), std::string::npos);
  EXPECT_NE(error("{}").find("must be an array"), std::string::npos);
  EXPECT_NE(error(R"([{"field":"size","operator":"eq","values":["1"]}])").find("unknown field"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"vulnerability_critical","operator":"gt","values":["1"]}])")
                .find("scanning"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"bf","values":["x"]}])")
                .find("does not apply to field tag"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"eq","values":["a","b"]}])").find("use oo"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"oo","values":[]}])").find("at least one value"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"eq","values":[""]}])").find("1 to 255"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"eq","values":[1]}])").find("array of strings"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"eq"}])").find("values must be"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"updated_at_duration","operator":"bf","values":["3 days"]}])")
                .find("rules[0]: updated_at_duration"),
            std::string::npos);
  EXPECT_NE(error(R"([{"field":"updated_at_duration","operator":"bf","values":["-1h"]}])")
                .find("negative"),
            std::string::npos);
  EXPECT_NE(
      error(R"([{"field":"updated_at","operator":"af","values":["last week"]}])").find("RFC 3339"),
      std::string::npos);
  EXPECT_NE(error(R"([{"field":"tag","operator":"eq","values":["a"]}, 7])").find("rules[1]"),
            std::string::npos);
}

TEST(RuleEngineTest, RulesRoundTripAsJson) {
  json in = json::parse(R"([{"field":"tag","operator":"oo","values":["a","b"]},
                           {"field":"updated_at_duration","operator":"af","values":["1h"]}])");
  auto rules = ParseRules(in);
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(RulesToJson(*rules), in);
}

meta::TagRecord Tag(const std::string& name, int64_t updated_s) {
  return meta::TagRecord{"ns/repo", name, "sha256:" + std::string(64, 'a'), updated_s};
}

TEST(TagSelectionTest, OverLimitEvictsOldestFirstThenByName) {
  std::vector<meta::TagRecord> tags = {Tag("c", 30), Tag("a", 10), Tag("b2", 20), Tag("b1", 20)};
  auto evict = SelectOverLimit(tags, 2);
  ASSERT_EQ(evict.size(), 2u);
  EXPECT_EQ(evict[0].tag, "a");
  EXPECT_EQ(evict[1].tag, "b1");
  EXPECT_TRUE(SelectOverLimit(tags, 4).empty());
  EXPECT_TRUE(SelectOverLimit(tags, 0).empty());  // 0: no limit
}

TEST(TagSelectionTest, MatchingHonoursTheFutureOnlyWatermark) {
  auto rules = ParseRules(json::parse(R"([{"field":"tag","operator":"sw","values":["dev"]}])"));
  ASSERT_TRUE(rules.ok());
  std::vector<meta::TagRecord> tags = {Tag("dev-old", 100), Tag("dev-new", 300), Tag("prod", 300)};
  auto all = SelectMatching(tags, *rules, 0, kNow);
  ASSERT_EQ(all.size(), 2u);
  auto future = SelectMatching(tags, *rules, 200 * 1000, kNow);
  ASSERT_EQ(future.size(), 1u);
  EXPECT_EQ(future[0].tag, "dev-new");
}

}  // namespace
}  // namespace dtr::jobs
