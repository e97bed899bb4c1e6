#include "auth/password.h"

#include <gtest/gtest.h>

#include <set>

#include "auth/base64.h"

namespace dtr::auth {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

constexpr int kFast = 1000;

// RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors.
TEST(PasswordTest, Pbkdf2MatchesRfc7914) {
  EXPECT_EQ(Pbkdf2Sha256("passwd", "salt", 1, 64),
            Unhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                  "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"));
  EXPECT_EQ(Pbkdf2Sha256("Password", "NaCl", 80000, 64),
            Unhex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                  "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"));
}

TEST(PasswordTest, VerifiesAKnownEncoding) {
  std::string key = Pbkdf2Sha256("passwd", "salt", 1, 32);
  std::string encoded = "pbkdf2-sha256$1$" + Base64Encode("salt") + "$" + Base64Encode(key);
  EXPECT_EQ(encoded, "pbkdf2-sha256$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=");
  EXPECT_TRUE(VerifyPassword("passwd", encoded));
  EXPECT_FALSE(VerifyPassword("passwe", encoded));
}

TEST(PasswordTest, HashThenVerify) {
  std::string encoded = HashPassword("correct horse", kFast);
  EXPECT_EQ(encoded.rfind("pbkdf2-sha256$1000$", 0), 0u) << encoded;
  EXPECT_TRUE(VerifyPassword("correct horse", encoded));
  EXPECT_FALSE(VerifyPassword("correct horsE", encoded));
  EXPECT_FALSE(VerifyPassword("", encoded));
  EXPECT_FALSE(VerifyPassword("correct horse ", encoded));
}

TEST(PasswordTest, DefaultCostIsHigh) {
  std::string encoded = HashPassword("pw");
  EXPECT_EQ(encoded.rfind("pbkdf2-sha256$210000$", 0), 0u) << encoded;
  EXPECT_TRUE(VerifyPassword("pw", encoded));
}

TEST(PasswordTest, SaltIsRandomAndSixteenBytes) {
  std::string a = HashPassword("same", kFast);
  std::string b = HashPassword("same", kFast);
  EXPECT_NE(a, b);
  std::string salt = a.substr(a.find('$', 15) + 1);
  salt = salt.substr(0, salt.find('$'));
  EXPECT_EQ(Base64Decode(salt)->size(), 16u);
}

TEST(PasswordTest, EmptyAndBinaryPasswords) {
  std::string empty = HashPassword("", kFast);
  EXPECT_TRUE(VerifyPassword("", empty));
  EXPECT_FALSE(VerifyPassword("x", empty));
  std::string binary("\0\xff:$", 4);
  EXPECT_TRUE(VerifyPassword(binary, HashPassword(binary, kFast)));
}

TEST(PasswordTest, MalformedEncodingsAreFalse) {
  std::string good = HashPassword("pw", 10);
  ASSERT_TRUE(VerifyPassword("pw", good));
  std::string salt_and_key = good.substr(good.find('$', 15));  // "$<salt>$<key>"
  for (const std::string& bad : {
           std::string(),
           std::string("pw"),
           "pbkdf2-sha1$10" + salt_and_key,
           "pbkdf2-sha256$0" + salt_and_key,
           "pbkdf2-sha256$-1" + salt_and_key,
           "pbkdf2-sha256$+10" + salt_and_key,
           "pbkdf2-sha256$10x" + salt_and_key,
           "pbkdf2-sha256$" + salt_and_key,
           "pbkdf2-sha256$99999999999" + salt_and_key,
           "pbkdf2-sha256$10000001" + salt_and_key,  // above kMaxPbkdf2Iterations
           good + "$",
           good.substr(0, good.size() - 4),                          // key truncated
           "pbkdf2-sha256$10$$" + good.substr(good.rfind('$') + 1),  // empty salt
           "pbkdf2-sha256$10$!!!!" + good.substr(good.rfind('$')),
       }) {
    EXPECT_FALSE(VerifyPassword("pw", bad)) << bad;
  }
}

TEST(PasswordTest, RandomTokens) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = RandomToken();
    EXPECT_EQ(t.size(), 43u);  // 32 bytes, unpadded base64url
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(Base64UrlDecode(RandomToken(15))->size(), 15u);
}

TEST(PasswordTest, Sha256HexAndConstantTimeEquals) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace dtr::auth
