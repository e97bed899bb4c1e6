// SigV4 against AWS's published vectors: the generic test suite (aws-sig-v4-test-suite:
// get-vanilla, get-vanilla-query-order-key-case, post-vanilla, get-utf8) and the S3
// developer guide's examples (GET object with a range, PUT object, list, presigned URL).
#include "storage/sigv4.h"

#include <gtest/gtest.h>

namespace dtr::storage::sigv4 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Credentials kS3{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

Signed SuiteSign(const std::string& method, const std::string& uri, Params q) {
  Request r;
  r.method = method;
  r.canonical_uri = uri;
  r.query = std::move(q);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_hash = std::string(kEmptySha256);
  return Sign(kSuite, "us-east-1", "service", r, "20150830T123600Z");
}

TEST(SigV4, GetVanilla) {
  Signed s = SuiteSign("GET", "/", {});
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, SigningKey) {
  std::string k = SigningKey(kSuite.secret_key, "20150830", "us-east-1", "service");
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (unsigned char c : k) {
    h.push_back(hex[c >> 4]);
    h.push_back(hex[c & 15]);
  }
  EXPECT_EQ(h, "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
}

TEST(SigV4, QueryOrderKeyCase) {
  EXPECT_EQ(SuiteSign("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}).signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, PostVanilla) {
  EXPECT_EQ(SuiteSign("POST", "/", {}).signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, Utf8Path) {
  EXPECT_EQ(UriEncode("/\xE1\x88\xB4", false), "/%E1%88%B4");
  EXPECT_EQ(SuiteSign("GET", UriEncode("/\xE1\x88\xB4", false), {}).signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

Signed S3Sign(const std::string& method, const std::string& uri, Params q,
              std::vector<std::pair<std::string, std::string>> extra, const std::string& hash) {
  Request r;
  r.method = method;
  r.canonical_uri = uri;
  r.query = std::move(q);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", hash}};
  for (auto& h : extra) r.headers.push_back(h);
  r.payload_hash = hash;
  return Sign(kS3, "us-east-1", "s3", r, "20130524T000000Z");
}

TEST(SigV4, S3GetObjectWithRange) {
  Signed s = S3Sign("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}}, std::string(kEmptySha256));
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObject) {
  std::string hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Signed s = S3Sign(
      "PUT", UriEncode("/test$file.text", false), {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      hash);
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3ListObjects) {
  Signed s =
      S3Sign("GET", "/", {{"max-keys", "2"}, {"prefix", "J"}}, {}, std::string(kEmptySha256));
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3PresignedUrl) {
  std::string q = PresignQuery(kS3, "us-east-1", "s3", "GET", "examplebucket.s3.amazonaws.com",
                               "/test.txt", {}, std::chrono::seconds(86400), "20130524T000000Z");
  EXPECT_EQ(
      q,
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
      "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
      "SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(UriEncode("a b+c=d@e:f/g~h", false), "a%20b%2Bc%3Dd%40e%3Af/g~h");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("100%", true), "100%25");
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"a", "1"}, {"A", "0"}, {"uploads", ""}}),
            "A=0&a=1&b=2&uploads=");
  EXPECT_EQ(AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))),
            "20150830T123600Z");
}

TEST(SigV4, HeaderValuesAreTrimmedAndRepeatsJoined) {
  Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.headers = {{"Host", "h"}, {"My-Header", "  a   b  "}, {"my-header", "c"}};
  r.payload_hash = std::string(kEmptySha256);
  Signed s = Sign(kSuite, "us-east-1", "service", r, "20150830T123600Z");
  EXPECT_NE(s.canonical_request.find("my-header:a b,c\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_EQ(s.signed_headers, "host;my-header");
}

}  // namespace
}  // namespace dtr::storage::sigv4
