#include "storage/shared_key.h"

#include <gtest/gtest.h>

namespace dtr::storage::sharedkey {
namespace {

// The emulator's published account key (Azurite, the Azure Storage Emulator).
const char* kEmulatorKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// "Authorize with Shared Key", Blob service example: Get Container Metadata with a timeout,
// signed for account "myaccount" at a path-style URL (the account appears twice).
Request DocExample() {
  Request r;
  r.method = "GET";
  r.path = "/myaccount/mycontainer";
  r.query = {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}};
  r.headers = {{"x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"}, {"x-ms-version", "2009-09-19"}};
  return r;
}

TEST(SharedKey, StringToSignMatchesTheDocumentedExample) {
  EXPECT_EQ(StringToSign("myaccount", DocExample()),
            "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
            "/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
}

TEST(SharedKey, SignatureIsHmacSha256OfTheStringToSign) {
  // Computed independently: printf '<string to sign>' | openssl dgst -sha256 -mac HMAC
  //   -macopt hexkey:<decoded emulator key> -binary | base64
  auto auth = Authorization("myaccount", kEmulatorKey, DocExample());
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(*auth, "SharedKey myaccount:Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=");
  EXPECT_FALSE(Authorization("myaccount", "not base64!", DocExample()).has_value());
}

TEST(SharedKey, CanonicalizedResourceOfTheDocumentedListExample) {
  // GET .../mycontainer?restype=container&comp=list&include=snapshots&include=metadata&
  // include=uncommittedblobs: names lower-cased and sorted, repeated values joined sorted.
  Request r;
  r.method = "GET";
  r.path = "/mycontainer";
  r.query = {{"restype", "container"},
             {"comp", "list"},
             {"include", "snapshots"},
             {"include", "metadata"},
             {"include", "uncommittedblobs"}};
  std::string sts = StringToSign("myaccount", r);
  EXPECT_EQ(sts.substr(sts.find("/myaccount")),
            "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\n"
            "restype:container");
}

TEST(SharedKey, StandardHeadersAndCanonicalizedHeaders) {
  Request r;
  r.method = "PUT";
  r.path = "/devstoreaccount1/c/a%20blob";
  r.query = {{"comp", "block"}, {"blockid", "ZHRyLTA="}};
  r.headers = {{"Content-Type", "application/octet-stream"},
               {"Content-Length", "11"},
               {"X-MS-Version", "2021-08-06"},
               {"x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"},
               {"x-ms-meta-Name", "  two   words "},
               {"Range", "bytes=0-9"},
               {"Accept-Encoding", "identity"}};
  EXPECT_EQ(StringToSign("devstoreaccount1", r),
            "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n\n\nbytes=0-9\n"
            "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-meta-name:two words\n"
            "x-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/c/a%20blob\nblockid:ZHRyLTA=\ncomp:block");
  // A zero Content-Length signs as empty (versions 2015-02-21 and later).
  r.headers = {{"Content-Length", "0"}};
  r.query.clear();
  EXPECT_EQ(StringToSign("a", r), "PUT\n\n\n\n\n\n\n\n\n\n\n\n/a/devstoreaccount1/c/a%20blob");
}

TEST(SharedKey, Base64RoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode(kEmulatorKey)->size(), 64u);
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("ab=c").has_value());
  EXPECT_FALSE(Base64Decode("a-b_").has_value());
}

}  // namespace
}  // namespace dtr::storage::sharedkey
