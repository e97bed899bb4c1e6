#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64.h"
#include "auth/test_keys.h"

namespace dtr::auth {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr int64_t kNow = 1700000000;

system_clock::time_point At(int64_t t) { return system_clock::time_point(seconds(t)); }

VerifyOptions Options(int64_t now = kNow) {
  VerifyOptions o;
  o.issuer = "dtr-auth";
  o.audience = "dtr-registry";
  o.now = At(now);
  return o;
}

json Claims() {
  return {{"iss", "dtr-auth"},
          {"sub", "alice"},
          {"aud", "dtr-registry"},
          {"iat", kNow},
          {"nbf", kNow},
          {"exp", kNow + 300},
          {"jti", "abc"},
          {"access",
           json::array(
               {{{"type", "repository"}, {"name", "alice/app"}, {"actions", {"pull", "push"}}}})}};
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = SigningKey::FromPem(testing::kFixedPrivatePem);
    ASSERT_TRUE(k.ok());
    key_ = std::make_unique<SigningKey>(std::move(*k));
  }

  const PublicKey& pub() const { return key_->public_key(); }

  // A token with an arbitrary header, signed by the test key with ES256.
  std::string SignedWith(const json& header, const json& claims) const {
    std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    return input + "." + Base64UrlEncode(*key_->SignEs256(input));
  }

  json Header() const { return {{"typ", "JWT"}, {"alg", "ES256"}, {"kid", key_->PublicKeyId()}}; }

  // Expects `token` refused with a message containing `why`.
  void ExpectRefused(const std::string& token, const std::string& why,
                     const VerifyOptions& options = Options()) const {
    auto r = Verify(token, pub(), options);
    ASSERT_FALSE(r.ok()) << "accepted, expected refusal for: " << why;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }

  std::unique_ptr<SigningKey> key_;
};

TEST_F(JwtTest, SignThenVerify) {
  auto token = Sign(*key_, Claims());
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(std::count(token->begin(), token->end(), '.'), 2);
  auto claims = Verify(*token, pub(), Options());
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(*claims, Claims());
}

TEST_F(JwtTest, HeaderIsTheSpecsShape) {
  auto token = Sign(*key_, Claims());
  ASSERT_TRUE(token.ok());
  auto header = Base64UrlDecode(token->substr(0, token->find('.')));
  EXPECT_EQ(*header,
            std::string(R"({"typ":"JWT","alg":"ES256","kid":")") + testing::kFixedKeyId + "\"}");
  auto parsed = ParseUnverified(*token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->claims, Claims());
  EXPECT_EQ(parsed->signature.size(), 64u);
  EXPECT_EQ(parsed->signing_input, token->substr(0, token->rfind('.')));
}

TEST_F(JwtTest, VerifiesWithAKeyLoadedFromItsJwk) {
  auto token = Sign(*key_, Claims());
  auto pub_only = PublicKey::FromJwk(key_->PublicJwk());
  ASSERT_TRUE(pub_only.ok());
  EXPECT_TRUE(Verify(*token, *pub_only, Options()).ok());
}

// The header, claims and key of distribution's docs/spec/auth/jwt.md. The spec's own example
// signature does not verify under its key (checked with pyca/cryptography as well), so the
// signature here was made with the spec's private key "d" by pyca/cryptography: a token from an
// independent implementation.
constexpr const char* kSpecSigningInput =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiIsImtpZCI6IlBZWU86VEVXVTpWN0pIOjI2SlY6QVFUWjpMSkMzOlNYVk"
    "o6WEdIQTozNEYyOjJMQVE6WlJNSzpaN1E2In0.eyJpc3MiOiJhdXRoLmRvY2tlci5jb20iLCJzdWIiOiJqbGhhd24i"
    "LCJhdWQiOiJyZWdpc3RyeS5kb2NrZXIuY29tIiwiZXhwIjoxNDE1Mzg3MzE1LCJuYmYiOjE0MTUzODcwMTUsImlhdC"
    "I6MTQxNTM4NzAxNSwianRpIjoidFlKQ08xYzZjbnl5N2tBbjBjN3JLUGdiVjFIMWJGd3MiLCJhY2Nlc3MiOlt7InR5"
    "cGUiOiJyZXBvc2l0b3J5IiwibmFtZSI6InNhbWFsYmEvbXktYXBwIiwiYWN0aW9ucyI6WyJwdXNoIl19XX0";
constexpr const char* kSpecSignature =
    "QhflHPfbd6eVF4lM9bwYpFZIV0PfikbyXuLx959ykRTBpe3CYnzs6YBK8FToVb5R47920PVLrh8zuLzdCr9t3w";
constexpr const char* kPycaSignature =
    "iZML6NZjm_GuQCwQOfEh5GN_emhYVjI-OzIRPOyajRbl-tCo3HVC4qPgIbvLdvo4wUWuO58bMiaMcQLt1eVq0w";

TEST(JwtSpecTest, VerifiesATokenMadeByAnotherImplementation) {
  auto key = PublicKey::FromJwk({{"kty", "EC"},
                                 {"crv", "P-256"},
                                 {"x", "m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q"},
                                 {"y", "dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc"}});
  ASSERT_TRUE(key.ok());
  VerifyOptions o;
  o.issuer = "auth.docker.com";
  o.audience = "registry.docker.com";
  o.now = At(1415387100);
  std::string token = std::string(kSpecSigningInput) + "." + kPycaSignature;
  auto claims = Verify(token, *key, o);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ((*claims)["sub"], "jlhawn");
  EXPECT_EQ((*claims)["access"][0]["name"], "samalba/my-app");

  auto spec = Verify(std::string(kSpecSigningInput) + "." + kSpecSignature, *key, o);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "token signature does not verify");

  o.now = At(1415387315 + 61);
  auto late = Verify(token, *key, o);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
}

TEST_F(JwtTest, RefusesTamperedClaims) {
  std::string token = *Sign(*key_, Claims());
  json evil = Claims();
  evil["access"][0]["name"] = "bob/secret";
  size_t a = token.find('.'), b = token.rfind('.');
  std::string tampered = token.substr(0, a + 1) + Base64UrlEncode(evil.dump()) + token.substr(b);
  ExpectRefused(tampered, "signature does not verify");
}

TEST_F(JwtTest, RefusesTamperedSignatureAndHeader) {
  std::string token = *Sign(*key_, Claims());
  std::string sig = *Base64UrlDecode(token.substr(token.rfind('.') + 1));
  sig[5] ^= 0x40;
  ExpectRefused(token.substr(0, token.rfind('.') + 1) + Base64UrlEncode(sig),
                "signature does not verify");
  // Same header meaning, different bytes: the signature covers the encoded header.
  json header = Header();
  header["x"] = 1;
  std::string reheadered = Base64UrlEncode(header.dump()) + token.substr(token.find('.'));
  ExpectRefused(reheadered, "signature does not verify");
}

TEST_F(JwtTest, RefusesATokenFromAnotherKey) {
  auto other = SigningKey::Generate();
  std::string token = *Sign(*other, Claims());
  ExpectRefused(token, "kid");
  // Even when it claims our kid.
  std::string input = Base64UrlEncode(Header().dump()) + "." + Base64UrlEncode(Claims().dump());
  ExpectRefused(input + "." + Base64UrlEncode(*other->SignEs256(input)),
                "signature does not verify");
}

TEST_F(JwtTest, RefusesAlgNone) {
  json header = {{"typ", "JWT"}, {"alg", "none"}, {"kid", key_->PublicKeyId()}};
  std::string unsigned_token =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  ExpectRefused(unsigned_token, "alg \"none\" is not accepted");
  ExpectRefused(unsigned_token.substr(0, unsigned_token.size() - 1), "three");
  header["alg"] = "None";
  ExpectRefused(Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".",
                "is not accepted");
}

// The classic confusion attack: HMAC-SHA256 keyed with the verifier's public key.
TEST_F(JwtTest, RefusesHs256SignedWithThePublicKey) {
  json header = {{"typ", "JWT"}, {"alg", "HS256"}, {"kid", key_->PublicKeyId()}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump());
  std::string secret = pub().Pem();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  std::string token =
      input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
  ExpectRefused(token, "alg \"HS256\" is not accepted");
}

TEST_F(JwtTest, RefusesOtherAlgorithmsEvenWhenSignedCorrectly) {
  for (json alg : {json("RS256"), json("ES384"), json("es256"), json("ES256 "), json(nullptr),
                   json(256), json::array({"ES256"})}) {
    json header = Header();
    header["alg"] = alg;
    auto r = Verify(SignedWith(header, Claims()), pub(), Options());
    EXPECT_FALSE(r.ok()) << alg.dump();
  }
  json header = Header();
  header.erase("alg");
  ExpectRefused(SignedWith(header, Claims()), "no alg");
}

TEST_F(JwtTest, RefusesCritAndMissingKid) {
  json header = Header();
  header["crit"] = {"exp"};
  ExpectRefused(SignedWith(header, Claims()), "crit");
  header = Header();
  header.erase("kid");
  ExpectRefused(SignedWith(header, Claims()), "no kid");
}

TEST_F(JwtTest, RefusesExpiredAndNotYetValid) {
  json c = Claims();
  c["exp"] = kNow - 61;
  ExpectRefused(SignedWith(Header(), c), "expired");
  c["exp"] = kNow - 59;  // within the leeway
  EXPECT_TRUE(Verify(SignedWith(Header(), c), pub(), Options()).ok());

  c = Claims();
  c["nbf"] = kNow + 61;
  ExpectRefused(SignedWith(Header(), c), "not valid yet");
  c["nbf"] = kNow + 59;
  EXPECT_TRUE(Verify(SignedWith(Header(), c), pub(), Options()).ok());

  VerifyOptions strict = Options();
  strict.leeway = seconds(0);
  c = Claims();
  c["exp"] = kNow;
  ExpectRefused(SignedWith(Header(), c), "expired", strict);
}

TEST_F(JwtTest, ExpIsRequiredAndMustBeANumber) {
  json c = Claims();
  c.erase("exp");
  ExpectRefused(SignedWith(Header(), c), "no exp");
  c["exp"] = std::to_string(kNow + 300);
  ExpectRefused(SignedWith(Header(), c), "exp claim is not a number");
  c["exp"] = kNow + 300.5;  // NumericDate may be fractional
  EXPECT_TRUE(Verify(SignedWith(Header(), c), pub(), Options()).ok());
  c["exp"] = 18446744073709551615u;
  EXPECT_TRUE(Verify(SignedWith(Header(), c), pub(), Options()).ok());
  c = Claims();
  c["nbf"] = "soon";
  ExpectRefused(SignedWith(Header(), c), "nbf claim is not a number");
}

TEST_F(JwtTest, ChecksIssuerAndAudience) {
  json c = Claims();
  c["iss"] = "someone-else";
  ExpectRefused(SignedWith(Header(), c), "iss");
  c.erase("iss");
  ExpectRefused(SignedWith(Header(), c), "iss");

  c = Claims();
  c["aud"] = "other-registry";
  ExpectRefused(SignedWith(Header(), c), "aud");
  c["aud"] = json::array({"a", "dtr-registry"});
  EXPECT_TRUE(Verify(SignedWith(Header(), c), pub(), Options()).ok());
  c["aud"] = json::array({"a", "b"});
  ExpectRefused(SignedWith(Header(), c), "aud");
  c["aud"] = json::array();
  ExpectRefused(SignedWith(Header(), c), "aud");
  c.erase("aud");
  ExpectRefused(SignedWith(Header(), c), "aud");
}

TEST_F(JwtTest, EmptyOptionsFailClosed) {
  std::string token = *Sign(*key_, Claims());
  VerifyOptions o = Options();
  o.issuer.clear();
  ExpectRefused(token, "iss", o);
  o = Options();
  o.audience.clear();
  ExpectRefused(token, "aud", o);
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  std::string good = *Sign(*key_, Claims());
  std::string h = good.substr(0, good.find('.'));
  std::string c = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  std::string s = good.substr(good.rfind('.') + 1);
  ExpectRefused("", "three");
  ExpectRefused("abc", "three");
  ExpectRefused(good + ".x", "three");
  ExpectRefused("." + c + "." + s, "empty");
  ExpectRefused(h + "=." + c + "." + s, "header is not base64url");
  ExpectRefused(Base64UrlEncode("{not json") + "." + c + "." + s, "header is not JSON");
  ExpectRefused(Base64UrlEncode("[1]") + "." + c + "." + s, "header is not a JSON object");
  ExpectRefused(h + "." + c + ".!!", "signature is not base64url");
  ExpectRefused(h + "." + c + "." + Base64UrlEncode(std::string(70, 'x')), "70 bytes");
  ExpectRefused(h + "." + c + ".", "0 bytes");
  ExpectRefused(std::string(kMaxTokenLength + 1, 'a'), "64 KiB");
  // Claims that do not parse are reported only once the signature holds.
  std::string input = h + "." + Base64UrlEncode("not json");
  ExpectRefused(input + "." + Base64UrlEncode(*key_->SignEs256(input)), "claims is not JSON");
  input = h + "." + Base64UrlEncode("\"a string\"");
  ExpectRefused(input + "." + Base64UrlEncode(*key_->SignEs256(input)),
                "claims is not a JSON object");
}

TEST_F(JwtTest, ErrorsDoNotEchoControlCharacters) {
  json header = Header();
  header["alg"] = "x\r\nSet-Cookie: a";
  auto r = Verify(SignedWith(header, Claims()), pub(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST_F(JwtTest, SignRejectsNonObjectsAndInvalidUtf8) {
  EXPECT_FALSE(Sign(*key_, json::array()).ok());
  EXPECT_FALSE(Sign(*key_, json({{"sub", "\xff\xfe"}})).ok());
}

}  // namespace
}  // namespace dtr::auth
