// The shared driver suite against the local filesystem driver.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "storage/driver_suite.h"
#include "storage/filesystem_driver.h"

namespace dtr::storage::testing {
namespace {

std::string Base() {
  static const std::string base = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dtr-fs-suite-" +
           std::to_string(::getpid());
  }();
  return base;
}

class RemoveBase : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(Base()); }
};
const auto* const kRemoveBase = ::testing::AddGlobalTestEnvironment(new RemoveBase);

DriverSuiteParam Filesystem() {
  DriverSuiteParam p;
  p.name = "filesystem";
  p.factory = [](const std::string& root) -> Result<std::unique_ptr<BlobDriver>> {
    std::string dir = Base() + "/" + root;
    if (Status s = MakeDirs(dir); !s.ok()) return s;
    return std::unique_ptr<BlobDriver>(new FilesystemDriver(dir));
  };
  p.chunk_size = 5u << 20;
  p.large_bytes = 64u << 20;  // no chunking here; the object stores run the big one
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Local, DriverSuite, ::testing::Values(Filesystem()), SuiteName);

namespace {

struct FreeAligned {
  void operator()(char* p) const { std::free(p); }
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Which of the file's pages are in the page cache.
std::vector<bool> CachedPages(const std::string& path) {
  std::vector<bool> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    size_t len = static_cast<size_t>(st.st_size);
    void* m = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
      std::vector<unsigned char> vec((len + 4095) / 4096);
      if (::mincore(m, len, vec.data()) == 0) {
        for (unsigned char v : vec) out.push_back((v & 1) != 0);
      }
      ::munmap(m, len);
    }
  }
  ::close(fd);
  return out;
}

// Whole aligned pages bypass the page cache; everything else is written through it, and
// the file holds every byte in order however the writes were cut and aligned.
TEST(FilesystemWriterTest, AlignedPagesGoDirectAndEverythingLandsInOrder) {
  std::string dir = Base() + "/direct";
  ASSERT_TRUE(MakeDirs(dir).ok());
  struct statfs fs;
  ASSERT_EQ(::statfs(dir.c_str(), &fs), 0);
  ASSERT_NE(fs.f_type, 0x01021994) << dir << " is tmpfs, which has no page cache to bypass; "
                                   << "point TMPDIR at a disk";
  FilesystemDriver driver(dir);
  auto w = driver.Writer("/f", false);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::mt19937 rng(5);
  std::unique_ptr<char, FreeAligned> buf(static_cast<char*>(std::aligned_alloc(4096, 1 << 20)));
  for (size_t i = 0; i < (1 << 20); ++i) buf.get()[i] = static_cast<char>(rng());
  std::string expected;
  auto put = [&](size_t from, size_t n) {
    ASSERT_TRUE((*w)->Write(buf.get() + from, n).ok());
    expected.append(buf.get() + from, n);
  };
  put(0, 64 << 10);          // pages 0-15: aligned, direct
  put(0, 100);               // page 16 begins, buffered
  put(100, 4096 - 100);      // ... and ends, still buffered (the source is not aligned)
  put(4096, 3 * 4096 + 10);  // pages 17-19 direct, 10 bytes of page 20 buffered
  put(0, 8192);              // not at an aligned file offset: buffered
  EXPECT_EQ((*w)->size(), expected.size());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(ReadAll(dir + "/f"), expected);
  // Reading the whole file back may have cached it; write a second one and look first.
  auto w2 = driver.Writer("/g", false);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE((*w2)->Write(buf.get(), 256 << 10).ok());
  ASSERT_TRUE((*w2)->Write(buf.get() + 7, 5000).ok());
  ASSERT_TRUE((*w2)->Commit().ok());
  std::vector<bool> cached = CachedPages(dir + "/g");
  ASSERT_EQ(cached.size(), 64u + 2u);
  for (size_t i = 0; i < 64; ++i) EXPECT_FALSE(cached[i]) << "page " << i << " was cached";
  EXPECT_TRUE(cached[64]);  // the buffered tail
  std::string g = ReadAll(dir + "/g");
  EXPECT_EQ(g, std::string(buf.get(), 256 << 10) + std::string(buf.get() + 7, 5000));
}

// Appending continues at the end of what an earlier writer left, direct or not.
TEST(FilesystemWriterTest, AppendAfterAnUnalignedTailStaysInOrder) {
  std::string dir = Base() + "/append";
  ASSERT_TRUE(MakeDirs(dir).ok());
  FilesystemDriver driver(dir);
  std::unique_ptr<char, FreeAligned> buf(static_cast<char*>(std::aligned_alloc(4096, 64 << 10)));
  for (size_t i = 0; i < (64 << 10); ++i) buf.get()[i] = static_cast<char>(i * 7 + 3);
  std::string expected;
  {
    auto w = driver.Writer("/f", false);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(buf.get(), 3 * 4096 + 5).ok());
    ASSERT_TRUE((*w)->Close().ok());
    expected.append(buf.get(), 3 * 4096 + 5);
  }
  for (int round = 0; round < 3; ++round) {
    auto w = driver.Writer("/f", true);
    ASSERT_TRUE(w.ok());
    size_t lead = (*w)->size() % 4096;
    // What the upload path does: fill to the page boundary from the slot's matching offset,
    // then whole pages from an aligned address.
    ASSERT_TRUE((*w)->Write(buf.get() + lead, 4096 - lead).ok());
    expected.append(buf.get() + lead, 4096 - lead);
    ASSERT_TRUE((*w)->Write(buf.get() + 4096, 8 * 4096 + 17 * round).ok());
    expected.append(buf.get() + 4096, 8 * 4096 + 17 * round);
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_EQ(ReadAll(dir + "/f"), expected);
}

}  // namespace

}  // namespace dtr::storage::testing
