#include "core/digest.h"

#include <gtest/gtest.h>

namespace dtr {
namespace {

TEST(DigestTest, ParsesSha256AndSha512) {
  auto d = Digest::Parse("sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(d->str(), "sha256:" + std::string(64, 'a'));
  auto e = Digest::Parse("sha512:" + std::string(128, '0'));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->algorithm(), DigestAlgorithm::kSha512);
}

TEST(DigestTest, RejectsMalformed) {
  EXPECT_FALSE(Digest::Parse("").ok());
  EXPECT_FALSE(Digest::Parse("sha256").ok());
  EXPECT_FALSE(Digest::Parse(":abc").ok());
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(63, 'a')).ok());
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(64, 'A')).ok());
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(64, 'g')).ok());
  auto unknown = Digest::Parse("md5:d41d8cd98f00b204e9800998ecf8427e");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kUnsupported);
  EXPECT_NE(unknown.status().message().find("md5"), std::string::npos);
}

TEST(DigestTest, ComputesKnownValues) {
  EXPECT_EQ(ComputeDigest("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ComputeDigest("abc", DigestAlgorithm::kSha512).str(),
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a"
            "836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(DigestTest, StreamingEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Hasher h(DigestAlgorithm::kSha256);
  for (size_t i = 0; i < data.size(); i += 333) h.Update(data.substr(i, 333));
  EXPECT_EQ(h.Finish(), ComputeDigest(data));
}

}  // namespace
}  // namespace dtr
