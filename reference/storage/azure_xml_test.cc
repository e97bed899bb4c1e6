#include "storage/azure_xml.h"

#include <gtest/gtest.h>

namespace dtr::storage::azurexml {
namespace {

TEST(AzureXml, ParsesAListBlobsPage) {
  // Shaped like List Blobs with a delimiter, as Azure (and Azurite) answer it.
  const char* doc = R"(<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c">
  <Prefix>r/</Prefix><Marker/><MaxResults>2</MaxResults><Delimiter>/</Delimiter>
  <Blobs>
    <Blob><Name>r/a &amp; b</Name><Properties>
      <Creation-Time>Tue, 05 Mar 2024 10:11:10 GMT</Creation-Time>
      <Last-Modified>Tue, 05 Mar 2024 10:11:12 GMT</Last-Modified>
      <Etag>0x8DC3CF0A1B2C3D4</Etag><Content-Length>12</Content-Length>
      <Content-Type>application/octet-stream</Content-Type><BlobType>BlockBlob</BlobType>
    </Properties></Blob>
    <BlobPrefix><Name>r/sub/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!72!MDAwMDA3IXIvc3ViLyEwMDAwMjgh</NextMarker>
</EnumerationResults>)";
  auto l = ParseBlobList(doc);
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->blobs.size(), 1u);
  EXPECT_EQ(l->blobs[0].name, "r/a & b");
  EXPECT_EQ(l->blobs[0].size, 12u);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(l->blobs[0].last_modified), 1709633472);
  EXPECT_EQ(l->prefixes, (std::vector<std::string>{"r/sub/"}));
  EXPECT_EQ(l->next_marker, "2!72!MDAwMDA3IXIvc3ViLyEwMDAwMjgh");
  auto last = ParseBlobList("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->blobs.empty());
  EXPECT_EQ(last->next_marker, "");
}

TEST(AzureXml, RefusesMalformedListings) {
  for (const char* doc :
       {"", "<Error/>", "<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs>",
        "<EnumerationResults><Blobs><Blob><Name>x</Name><Properties/></Blob></Blobs>"
        "</EnumerationResults>",
        "<EnumerationResults><Blobs><Blob><Properties><Content-Length>1</Content-Length>"
        "</Properties></Blob></Blobs></EnumerationResults>"}) {
    auto l = ParseBlobList(doc);
    ASSERT_FALSE(l.ok()) << doc;
    EXPECT_TRUE(l.status().is(Code::kCorruption)) << doc;
  }
}

TEST(AzureXml, ParsesABlockList) {
  const char* doc = R"(<?xml version="1.0" encoding="utf-8"?>
<BlockList>
  <CommittedBlocks>
    <Block><Name>ZHRyLTAx</Name><Size>1048576</Size></Block>
    <Block><Name>ZHRyLTAy</Name><Size>7</Size></Block>
  </CommittedBlocks>
  <UncommittedBlocks>
    <Block><Name>ZHRyLTAz</Name><Size>5</Size></Block>
  </UncommittedBlocks>
</BlockList>)";
  auto b = ParseBlockList(doc);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->committed.size(), 2u);
  EXPECT_EQ(b->committed[0].id, "ZHRyLTAx");
  EXPECT_EQ(b->committed[0].size, 1048576u);
  EXPECT_EQ(b->committed[1].size, 7u);
  ASSERT_EQ(b->uncommitted.size(), 1u);
  EXPECT_TRUE(ParseBlockList("<BlockList><CommittedBlocks/></BlockList>")->committed.empty());
  EXPECT_FALSE(ParseBlockList("<BlockList><CommittedBlocks><Block><Name>x</Name></Block>"
                              "</CommittedBlocks></BlockList>")
                   .ok());
}

TEST(AzureXml, BlockListBodyListsEveryIdAsLatest) {
  EXPECT_EQ(BlockListBody({"YQ==", "Yg=="}),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest>"
            "<Latest>Yg==</Latest></BlockList>");
}

TEST(AzureXml, ParsesErrors) {
  auto e = ParseError(R"(<?xml version="1.0" encoding="utf-8"?>
<Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.
RequestId:1</Message></Error>)");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "BlobNotFound");
  EXPECT_EQ(e->message.substr(0, 33), "The specified blob does not exist");
  EXPECT_FALSE(ParseError("").has_value());
  EXPECT_FALSE(ParseError("<EnumerationResults/>").has_value());
}

}  // namespace
}  // namespace dtr::storage::azurexml
