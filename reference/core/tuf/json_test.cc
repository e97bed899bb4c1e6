#include "core/tuf/json.h"

#include <gtest/gtest.h>

#include "core/tuf/encoding.h"
#include "core/tuf/metadata.h"
#include "core/tuf/tuf_test_util.h"
#include "core/tuf/tuf_time.h"

namespace dtr::tuf {
namespace {

std::string Canon(std::string_view text) {
  auto c = CanonicalizeText(text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().message();
  return c.ok() ? *c : "";
}

TEST(CanonicalJson, SortsKeysBytewiseAndDropsWhitespace) {
  EXPECT_EQ(Canon(R"( { "b" : 1 , "a" : [ true , false , null ] , "B": {} } )"),
            R"({"B":{},"a":[true,false,null],"b":1})");
  EXPECT_EQ(Canon(R"({"\u00e9":1,"z":2})"), "{\"z\":2,\"\xc3\xa9\":1}");
}

TEST(CanonicalJson, EscapesOnlyQuoteAndBackslash) {
  // Go's canonical encoder writes control characters and '<', '>', '&' as they are.
  EXPECT_EQ(Canon(R"(["a\"b\\c\n\t\u0001<&>"])"), "[\"a\\\"b\\\\c\n\t\x01<&>\"]");
  EXPECT_EQ(Canon(R"(["\/"])"), R"(["/"])");
}

TEST(CanonicalJson, NumbersAreIntegers) {
  EXPECT_EQ(Canon("[1.0, 1e3, -0, 12]"), "[1,1000,0,12]");
  EXPECT_FALSE(CanonicalizeText("[1.5]").ok());
  EXPECT_FALSE(CanonicalizeText("[1e400]").ok());
  EXPECT_FALSE(CanonicalizeText("[1e30]").ok());
}

TEST(CanonicalJson, LastDuplicateKeyWins) { EXPECT_EQ(Canon(R"({"a":1,"a":2})"), R"({"a":2})"); }

TEST(CanonicalJson, InvalidUtf8AndLoneSurrogatesBecomeReplacementCharacters) {
  EXPECT_EQ(Canon("[\"a\xff"
                  "b\"]"),
            "[\"a\xef\xbf\xbd"
            "b\"]");
  EXPECT_EQ(Canon(R"(["\ud800x"])"), "[\"\xef\xbf\xbdx\"]");
  EXPECT_EQ(Canon(R"(["\ud83d\ude00"])"), "[\"\xf0\x9f\x98\x80\"]");
}

TEST(JsonParser, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "[01]", "[1.]", "\"\x01\"", "[\"\\x\"]",
                          "{} x", "nul", "[-]", "{'a':1}"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  std::string deep(kMaxJsonDepth + 10, '[');
  deep += std::string(kMaxJsonDepth + 10, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
}

TEST(JsonParser, StructFieldsMatchCaseInsensitively) {
  auto j = ParseJson(R"({"Version":3,"version":4,"KEYS":{}})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j->FindMember("version")->AsInt64(), 4);
  EXPECT_NE(j->FindMember("keys"), nullptr);
  EXPECT_EQ(j->Get("keys"), nullptr);
  EXPECT_FALSE(ParseJson("[1.0]")->items()[0].AsInt64().ok());
}

// Notary writes the "signed" section of every file canonically: re-encoding it must give
// the very bytes in the file, for every fixture.
TEST(CanonicalJson, MatchesTheNotaryClientAndServer) {
  for (const char* f : {"basic/1.root.json", "basic/2.targets.json", "basic/3.snapshot.json",
                        "basic/3.timestamp.json", "delegation/1.targets_releases.json",
                        "delegation/1.targets_rsa.json", "delegation/3.targets.json",
                        "rotate/3.root.json", "rotate/5.snapshot.json"}) {
    std::string file = testing::Fixture(f);
    auto s = ParseSigned(file);
    ASSERT_TRUE(s.ok()) << f << ": " << s.status().message();
    EXPECT_TRUE(s->canonical_error.empty()) << f;
    EXPECT_NE(file.find("{\"signed\":" + s->canonical + ",\"signatures\":"), std::string::npos)
        << f;
    EXPECT_EQ(SerializeSigned(s->canonical, s->signatures), file) << f;
  }
}

TEST(Encoding, Base64AsGoDecodes) {
  EXPECT_EQ(*Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(*Base64Decode("aGVs\nbG8="), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());
  EXPECT_FALSE(Base64Decode("aGV=bG8=").ok());
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
}

TEST(Encoding, PemRoundTrip) {
  std::string der(100, '\x42');
  std::string pem = PemEncode("CERTIFICATE", der);
  auto blocks = PemDecodeAll("junk\n" + pem + pem);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].type, "CERTIFICATE");
  EXPECT_EQ(blocks[0].bytes, der);
}

TEST(Time, ParsesAndFormatsLikeGo) {
  auto t = ParseRfc3339("2036-11-24T02:03:56.077617701Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2036-11-24T02:03:56.077617701Z");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2020-01-01T01:00:00+01:00")), "2020-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2020-01-01T00:00:00.500Z")), "2020-01-01T00:00:00.5Z");
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z")->seconds, 0);
  EXPECT_EQ(FormatRfc1123(Time{0, 0}), "Thu, 01 Jan 1970 00:00:00 UTC");
  for (const char* bad : {"2020-02-30T00:00:00Z", "2020-01-01 00:00:00Z", "2020-01-01T00:00:00",
                          "2020-01-01T24:00:00Z", "2020-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace dtr::tuf
