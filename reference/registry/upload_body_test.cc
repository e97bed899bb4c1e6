// CopyUploadBody against an in-memory writer: what reaches storage, in which pieces, and
// what happens when the body or storage fails part-way.
#include "registry/upload_body.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dtr::registry {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// Keeps what is written; refuses the write numbered fail_at (from 0) and every later one.
class MemoryWriter : public storage::FileWriter {
 public:
  explicit MemoryWriter(std::string existing = "", int fail_at = -1)
      : data(std::move(existing)), fail_at_(fail_at) {}
  Status Write(const char* p, size_t n) override {
    int k = writes++;
    if (fail_at_ >= 0 && k >= fail_at_) return IOError("the disk is full (test)");
    starts.push_back(reinterpret_cast<uintptr_t>(p));
    offsets.push_back(data.size());
    sizes.push_back(n);
    data.append(p, n);
    return Status::Ok();
  }
  uint64_t size() const override { return data.size(); }
  Status Close() override { return Status::Ok(); }
  Status Commit() override { return Status::Ok(); }
  Status Cancel() override { return Status::Ok(); }

  std::string data;
  std::atomic<int> writes{0};
  std::vector<uintptr_t> starts;
  std::vector<uint64_t> offsets;
  std::vector<size_t> sizes;

 private:
  int fail_at_;
};

// Serves `data` in pieces of random size (1 byte to 300 KiB), then fails with `error`
// if one is given, else ends.
struct PieceSource {
  std::string data;
  std::string error;
  size_t pos = 0;
  std::mt19937 rng{3};
  ReadFn Fn() {
    return [this](char* buf, size_t n, std::string* err) -> ssize_t {
      if (pos == data.size()) {
        if (error.empty()) return 0;
        *err = error;
        return -1;
      }
      size_t k = std::min({n, data.size() - pos, size_t{1} + rng() % (300 << 10)});
      std::copy_n(data.data() + pos, k, buf);
      pos += k;
      return static_cast<ssize_t>(k);
    };
  }
};

TEST(CopyUploadBodyTest, BigBodyArrivesWholeInAlignedWritesOfAtMostOneMebibyte) {
  PieceSource src{RandomBytes((7 << 20) + 333, 1), ""};
  MemoryWriter out("12345");  // an earlier chunk left the file off a page boundary
  Hasher hash(DigestAlgorithm::kSha256);
  CopiedBody c = CopyUploadBody(src.Fn(), out, hash);
  EXPECT_TRUE(c.write_error.ok());
  EXPECT_FALSE(c.body_error);
  EXPECT_EQ(c.bytes, src.data.size());
  EXPECT_EQ(out.data, "12345" + src.data);
  EXPECT_EQ(hash.Finish(), ComputeDigest(src.data));
  // What lets a file system writer use O_DIRECT: after the first write (which fills the
  // partial page), every write starts page-aligned in memory and in the file.
  ASSERT_GE(out.sizes.size(), 8u);
  EXPECT_EQ((out.offsets[0] + out.sizes[0]) % 4096, 0u);
  EXPECT_EQ(out.starts[0] % 4096, 5u);
  for (size_t i = 1; i < out.sizes.size(); ++i) {
    EXPECT_EQ(out.starts[i] % 4096, 0u) << "write " << i;
    EXPECT_EQ(out.offsets[i] % 4096, 0u) << "write " << i;
    EXPECT_LE(out.sizes[i], size_t{1} << 20) << "write " << i;
  }
}

TEST(CopyUploadBodyTest, SmallBodyIsOneWrite) {
  PieceSource src{RandomBytes(70000, 2), ""};
  MemoryWriter out;
  Hasher hash(DigestAlgorithm::kSha256);
  CopiedBody c = CopyUploadBody(src.Fn(), out, hash);
  EXPECT_TRUE(c.write_error.ok());
  EXPECT_EQ(c.bytes, 70000u);
  EXPECT_EQ(out.data, src.data);
  EXPECT_EQ(out.writes.load(), 1);
  EXPECT_EQ(hash.Finish(), ComputeDigest(src.data));
}

TEST(CopyUploadBodyTest, BodyThatBreaksOffKeepsEverythingBeforeTheBreak) {
  PieceSource src{RandomBytes((3 << 20) + 99, 3), "connection reset"};
  MemoryWriter out;
  Hasher hash(DigestAlgorithm::kSha256);
  CopiedBody c = CopyUploadBody(src.Fn(), out, hash);
  EXPECT_TRUE(c.write_error.ok());
  ASSERT_TRUE(c.body_error);
  EXPECT_EQ(*c.body_error, "connection reset");
  EXPECT_EQ(c.bytes, src.data.size());
  EXPECT_EQ(out.data, src.data);
  EXPECT_EQ(hash.Finish(), ComputeDigest(src.data));
}

TEST(CopyUploadBodyTest, StorageThatFailsStopsTheReadingAndReportsWhatLanded) {
  PieceSource src{RandomBytes(64 << 20, 4), ""};
  MemoryWriter out("", 2);
  Hasher hash(DigestAlgorithm::kSha256);
  CopiedBody c = CopyUploadBody(src.Fn(), out, hash);
  EXPECT_FALSE(c.write_error.ok());
  EXPECT_NE(c.write_error.message().find("disk is full"), std::string::npos);
  EXPECT_EQ(c.bytes, out.data.size());
  EXPECT_EQ(out.data, src.data.substr(0, out.data.size()));
  EXPECT_GT(out.data.size(), 0u);
  // The ring holds 2 MiB and two writes of at most 1 MiB landed: reading stops long before
  // the 64 MiB end instead of draining the body into nothing.
  EXPECT_LT(src.pos, size_t{8} << 20);
}

}  // namespace
}  // namespace dtr::registry
