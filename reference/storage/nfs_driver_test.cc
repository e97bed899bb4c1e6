// The shared driver suite, and NFS-only checks, against a real nfs-ganesha (NFSv3) that
// integration/nfs_driver_suite_test.sh starts with ci/start-nfs in a private network
// namespace, running this binary inside it. It describes the server in the environment:
//   DTR_TEST_NFS_URL         nfs://127.0.0.1/export?version=3
//   DTR_TEST_NFS_EXPORT_DIR  the exported folder, as the server sees it on this machine
//   DTR_TEST_NFS_LARGE_MIB   the large-object test (default 64)
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "storage/driver_suite.h"
#include "storage/factory.h"

namespace dtr::storage::testing {
namespace {

const char* kNoServer =
    "no NFS server given: run this through reference/tests/integration/"
    "nfs_driver_suite_test.sh (ctest -L integration), which starts nfs-ganesha with "
    "ci/start-nfs and runs this binary in its network namespace";

// The server's URL with `sub` appended to its path: nfs://host/export/sub?query.
std::string UrlBelow(const std::string& sub) {
  std::string url = Env("DTR_TEST_NFS_URL");
  size_t q = url.find('?');
  std::string query = q == std::string::npos ? "" : url.substr(q);
  if (q != std::string::npos) url.resize(q);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/" + sub + query;
}

Result<std::unique_ptr<BlobDriver>> MakeDriver(std::map<std::string, std::string> params) {
  if (Env("DTR_TEST_NFS_URL").empty()) return Status(Code::kFailedPrecondition, kNoServer);
  params.emplace("timeout", "30s");
  return CreateDriver("nfs", params, "/unused");
}

DriverSuiteParam FromEnv() {
  DriverSuiteParam p;
  p.name = "nfs";
  p.factory = [](const std::string& root) {
    return MakeDriver({{"url", UrlBelow(RunPrefix() + "/" + root)}});
  };
  p.chunk_size = 1u << 20;  // ganesha's largest READ and WRITE
  std::string large = Env("DTR_TEST_NFS_LARGE_MIB");
  p.large_bytes = (large.empty() ? 64ull : std::stoull(large)) << 20;
  p.hint = "server: nfs-ganesha at " + Env("DTR_TEST_NFS_URL") +
           "; its log is printed when the wrapper script fails";
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Server, DriverSuite, ::testing::Values(FromEnv()), SuiteName);

namespace {

class NfsOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("DTR_TEST_NFS_URL").empty()) << kNoServer;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    sub_ = RunPrefix() + "/only-" + info->name();
  }
  std::unique_ptr<BlobDriver> Driver() {
    auto d = MakeDriver({{"url", UrlBelow(sub_)}});
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? std::move(*d) : nullptr;
  }
  // The driver's root as the server stores it.
  std::string Local(const std::string& path) const {
    return Env("DTR_TEST_NFS_EXPORT_DIR") + "/" + sub_ + path;
  }
  static std::string Slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string sub_;
};

TEST_F(NfsOnly, BytesLandOnTheServerWithNoTemporaryFilesLeft) {
  ASSERT_FALSE(Env("DTR_TEST_NFS_EXPORT_DIR").empty());
  auto d = Driver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->PutContent("/a/b/put", "put content").ok());
  auto w = d->Writer("/a/up/data", false);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE((*w)->Write("written", 7).ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(Slurp(Local("/a/b/put")), "put content");
  EXPECT_EQ(Slurp(Local("/a/up/data")), "written");
  ASSERT_TRUE(d->Move("/a/up/data", "/a/moved").ok());
  EXPECT_EQ(Slurp(Local("/a/moved")), "written");
  struct stat st;
  EXPECT_NE(::stat(Local("/a/up/data").c_str(), &st), 0);
  std::string names;
  ASSERT_TRUE(d->Walk("/", [&](const FileInfo& fi) {
                 names += fi.path + " ";
                 return Status::Ok();
               }).ok());
  EXPECT_EQ(names, "/a /a/b /a/b/put /a/moved /a/up ");
}

TEST_F(NfsOnly, ChangesMadeElsewhereAreSeenAtOnce) {
  // Another registry replica (a second driver, its own connections) changes the tree:
  // listings and reads are never served from a stale client-side cache. (Files written on
  // the server's disk behind ganesha's back are another matter: ganesha caches too.)
  auto d1 = Driver();
  auto d2 = Driver();
  ASSERT_TRUE(d1 && d2);
  ASSERT_TRUE(d1->PutContent("/dir/one", "1").ok());
  EXPECT_EQ(d2->List("/dir").value(), (std::vector<std::string>{"/dir/one"}));
  ASSERT_TRUE(d2->PutContent("/dir/two", "2").ok());
  ASSERT_TRUE(d2->PutContent("/dir/one", "changed").ok());
  EXPECT_EQ(d1->List("/dir").value(), (std::vector<std::string>{"/dir/one", "/dir/two"}));
  EXPECT_EQ(d1->GetContent("/dir/one").value(), "changed");
  ASSERT_TRUE(d2->Delete("/dir").ok());
  EXPECT_TRUE(d1->List("/dir").status().is(Code::kNotFound));
}

TEST_F(NfsOnly, AnExportThatDoesNotExistIsAClearError) {
  std::string url = Env("DTR_TEST_NFS_URL");
  url.replace(url.find("/export"), 7, "/not-exported");
  auto start = std::chrono::steady_clock::now();
  auto d = MakeDriver({{"url", url}});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("cannot mount /not-exported"), std::string::npos)
      << d.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(NfsOnly, AServerThatIsNotThereFailsWithinTheTimeout) {
  // Ports given, so no portmapper is asked; nothing listens on port 1.
  auto start = std::chrono::steady_clock::now();
  auto d = MakeDriver(
      {{"url", "nfs://127.0.0.1/export?version=3&nfsport=1&mountport=1"}, {"timeout", "2s"}});
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().is(Code::kUnavailable)) << d.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace dtr::storage::testing
