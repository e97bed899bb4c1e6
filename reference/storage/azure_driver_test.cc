// The shared driver suite, and Azure-only checks, against Azurite that
// integration/azure_driver_suite_test.sh starts with ci/start-azurite and describes in the
// environment: DTR_TEST_AZURE_ENDPOINT, DTR_TEST_AZURE_ACCOUNT, DTR_TEST_AZURE_KEY,
// DTR_TEST_AZURE_LARGE_MIB (the large-object test, default 64).
#include <cstdlib>
#include <random>

#include "storage/azure_driver.h"
#include "storage/driver_suite.h"
#include "storage/factory.h"

namespace dtr::storage::testing {
namespace {

const char* kNoServer =
    "no Azure Blob server given: run this through reference/tests/integration/"
    "azure_driver_suite_test.sh (ctest -L integration), which starts Azurite with "
    "ci/start-azurite";

std::map<std::string, std::string> EnvParams() {
  return {{"accountname", Env("DTR_TEST_AZURE_ACCOUNT")},
          {"accountkey", Env("DTR_TEST_AZURE_KEY")},
          {"serviceurl", Env("DTR_TEST_AZURE_ENDPOINT")},
          {"container", "dtr-suite"},
          {"chunksize", "1048576"},
          {"requesttimeout", "60s"}};
}

Result<std::unique_ptr<BlobDriver>> MakeDriver(const std::map<std::string, std::string>& params) {
  if (Env("DTR_TEST_AZURE_ENDPOINT").empty()) return Status(Code::kFailedPrecondition, kNoServer);
  return CreateDriver("azure", params, "/unused");
}

DriverSuiteParam FromEnv() {
  DriverSuiteParam p;
  p.name = "azure_on_azurite";
  p.factory = [](const std::string& root) {
    auto params = EnvParams();
    params["rootdirectory"] = "/" + RunPrefix() + "/" + root;
    return MakeDriver(params);
  };
  p.chunk_size = 1u << 20;
  std::string large = Env("DTR_TEST_AZURE_LARGE_MIB");
  p.large_bytes = (large.empty() ? 64ull : std::stoull(large)) << 20;
  p.hint = "server: Azurite at " + Env("DTR_TEST_AZURE_ENDPOINT") +
           "; its log is printed when the wrapper script fails";
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Server, DriverSuite, ::testing::Values(FromEnv()), SuiteName);

namespace {

class AzureOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("DTR_TEST_AZURE_ENDPOINT").empty()) << kNoServer;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    params_ = EnvParams();
    params_["rootdirectory"] = RunPrefix() + "/only-" + info->name();
  }
  std::unique_ptr<BlobDriver> Driver(std::map<std::string, std::string> overrides = {}) {
    auto p = params_;
    for (auto& [k, v] : overrides) p[k] = v;
    auto d = MakeDriver(p);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? std::move(*d) : nullptr;
  }
  std::map<std::string, std::string> params_;
};

TEST_F(AzureOnly, WrongKeyIsRefusedWithAClearMessage) {
  auto d = Driver({{"accountkey", "d3Jvbmcga2V5"}, {"maxretries", "0"}});
  ASSERT_TRUE(d);
  auto st = d->Stat("/anything");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kPermissionDenied)) << st.status().message();
  EXPECT_NE(st.status().message().find("accountkey"), std::string::npos) << st.status().message();
}

TEST_F(AzureOnly, CreatesAMissingContainer) {
  std::mt19937 rng(std::random_device{}());
  auto d = Driver({{"container", "dtr-new-" + std::to_string(rng() % 1000000)}});
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->PutContent("/x", "in a new container").ok());
  EXPECT_EQ(d->GetContent("/x").value(), "in a new container");
  EXPECT_TRUE(d->Delete("/x").ok());
}

TEST_F(AzureOnly, ListingsPageThroughMarkers) {
  auto d = Driver({{"listlimit", "2"}});
  ASSERT_TRUE(d);
  for (const char* n : {"a", "b/1", "b/2", "b/3", "c", "d/x/y", "e", "f-g"}) {
    ASSERT_TRUE(d->PutContent(std::string("/p/") + n, n).ok());
  }
  auto l = d->List("/p");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(*l, (std::vector<std::string>{"/p/a", "/p/b", "/p/c", "/p/d", "/p/e", "/p/f-g"}));
  int files = 0;
  ASSERT_TRUE(d->Walk("/p", [&](const FileInfo& fi) {
                 files += fi.is_dir ? 0 : 1;
                 return Status::Ok();
               }).ok());
  EXPECT_EQ(files, 8);
  ASSERT_TRUE(d->Delete("/p").ok());
  EXPECT_TRUE(d->Stat("/p").status().is(Code::kNotFound));
}

TEST_F(AzureOnly, AppendsCommitBlocksAfterTheCommittedBlockList) {
  auto d = Driver();
  ASSERT_TRUE(d);
  auto* azure = dynamic_cast<AzureDriver*>(d.get());
  ASSERT_NE(azure, nullptr);
  std::string chunk(1u << 20, 'x');
  {
    auto w = d->Writer("/blocks/data", false);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(chunk.data(), chunk.size()).ok());
    ASSERT_TRUE((*w)->Write("ab", 2).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  {
    auto w = d->Writer("/blocks/data", true);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("cd", 2).ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto blocks = azure->GetBlockList(azure->Key("/blocks/data"));
  ASSERT_TRUE(blocks.ok()) << blocks.status().message();
  ASSERT_EQ(blocks->committed.size(), 3u);
  EXPECT_EQ(blocks->committed[0].size, chunk.size());
  EXPECT_EQ(blocks->committed[1].size, 2u);
  EXPECT_EQ(blocks->committed[2].size, 2u);
  EXPECT_EQ(d->GetContent("/blocks/data").value(), chunk + "abcd");
  // A blob from one Put Blob has no blocks: appending turns its bytes into blocks first.
  ASSERT_TRUE(d->PutContent("/blocks/put", "whole").ok());
  {
    auto w = d->Writer("/blocks/put", true);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->size(), 5u);
    ASSERT_TRUE((*w)->Write("+more", 5).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_EQ(d->GetContent("/blocks/put").value(), "whole+more");
  ASSERT_TRUE(d->Delete("/blocks").ok());
}

}  // namespace
}  // namespace dtr::storage::testing
