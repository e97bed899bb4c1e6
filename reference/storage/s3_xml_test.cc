// The S3 response parser on documents as AWS, Swift's s3api and s3rver write them, and on
// malformed input.
#include "storage/s3_xml.h"

#include <gtest/gtest.h>

namespace dtr::storage::s3xml {
namespace {

TEST(S3Xml, ListObjectsV2WithPrefixesAndEntities) {
  auto l = ParseListing(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>a/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
  <NextContinuationToken>tok==</NextContinuationToken>
  <Contents><Key>a/x&amp;y &lt;z&gt; &#x65E5;&#26412;</Key><LastModified>2009-10-12T17:50:30.123Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>a/empty</Key><LastModified>2009-10-12T17:50:30Z</LastModified><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>a/dir/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix><![CDATA[a/cdata<dir>/]]></Prefix></CommonPrefixes>
</ListBucketResult>)");
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->objects.size(), 2u);
  EXPECT_EQ(l->objects[0].key, "a/x&y <z> \xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(l->objects[0].size, 434234u);
  EXPECT_EQ(l->objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(l->objects[0].last_modified), 1255369830);
  EXPECT_EQ(l->objects[1].size, 0u);
  EXPECT_EQ(l->prefixes, (std::vector<std::string>{"a/dir/", "a/cdata<dir>/"}));
  EXPECT_TRUE(l->truncated);
  EXPECT_EQ(l->next_token, "tok==");
}

TEST(S3Xml, ErrorsAndResults) {
  auto e = ParseError(
      "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>NoSuchKey</Code><Message>The specified "
      "key does not exist.</Message><Key>k</Key><RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The specified key does not exist.");
  EXPECT_FALSE(ParseError("<ListBucketResult/>").has_value());
  EXPECT_FALSE(ParseError("not xml").has_value());

  auto id = ParseUploadId(
      "<InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket><Key>k</Key><UploadId>"
      "VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());

  auto etag = ParseCopyETag(
      "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
      "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyPartResult>");
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(*etag, "\"9b2cf535f27731c974343645a3985328\"");
  // S3 can answer 200 and put the failure in the body.
  EXPECT_FALSE(ParseCopyETag("<Error><Code>InternalError</Code></Error>").ok());
  EXPECT_FALSE(
      ParseCompleteResult("<Error><Code>InternalError</Code><Message>x</Message></Error>").ok());
  EXPECT_TRUE(ParseCompleteResult("<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag>"
                                  "</CompleteMultipartUploadResult>")
                  .ok());

  auto d = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key>"
      "<Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->deleted, (std::vector<std::string>{"a"}));
  ASSERT_EQ(d->errors.size(), 1u);
  EXPECT_EQ(d->errors[0].second, "AccessDenied: no");
}

TEST(S3Xml, RefusesMalformedAndHostileInput) {
  for (const char* bad :
       {"", "<", "<a>", "<a></b>", "<a><b></a>", "<a>&unknown;</a>", "<a>&#xFFFFFFFF;</a>",
        "<a x=1></a>", "<a></a><b></b>", "text", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        "<a><![CDATA[x</a>", "<a><!-- x</a>"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(Parse(deep).ok());
  EXPECT_FALSE(ParseListing("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                            "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListing("<ListBucketResult><Contents><Size>1</Size></Contents>"
                            "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListing("<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999999"
                            "</Size></Contents></ListBucketResult>")
                   .ok());
}

TEST(S3Xml, Iso8601) {
  auto t = ParseIso8601("2024-02-29T23:59:59.5Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1709251199);
  EXPECT_FALSE(ParseIso8601("2024-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

TEST(S3Xml, EscapeRoundTrips) {
  std::string key = "a<b>&\"c'd \xE6\x97\xA5";
  auto n = Parse("<Key>" + Escape(key) + "</Key>");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text, key);
}

}  // namespace
}  // namespace dtr::storage::s3xml
