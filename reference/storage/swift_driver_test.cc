// The shared driver suite, and Swift-only checks, against a real OpenStack Swift (tempauth)
// that integration/swift_driver_suite_test.sh starts with ci/start-swift and describes in
// the environment:
//   DTR_TEST_SWIFT_AUTHURL, DTR_TEST_SWIFT_USER, DTR_TEST_SWIFT_KEY,
//   DTR_TEST_SWIFT_LARGE_MIB (the large-object test, default 64).
#include <cstdlib>
#include <random>

#include "storage/driver_suite.h"
#include "storage/factory.h"
#include "storage/swift_driver.h"

namespace dtr::storage::testing {
namespace {

const char* kNoServer =
    "no Swift server given: run this through reference/tests/integration/"
    "swift_driver_suite_test.sh (ctest -L integration), which starts one with ci/start-swift";

std::map<std::string, std::string> EnvParams() {
  return {{"authurl", Env("DTR_TEST_SWIFT_AUTHURL")},
          {"username", Env("DTR_TEST_SWIFT_USER")},
          {"password", Env("DTR_TEST_SWIFT_KEY")},
          {"container", "dtr-suite"},
          {"chunksize", "1048576"},
          {"requesttimeout", "60s"}};
}

Result<std::unique_ptr<BlobDriver>> MakeDriver(const std::map<std::string, std::string>& params) {
  if (Env("DTR_TEST_SWIFT_AUTHURL").empty()) return Status(Code::kFailedPrecondition, kNoServer);
  return CreateDriver("swift", params, "/unused");
}

DriverSuiteParam FromEnv() {
  DriverSuiteParam p;
  p.name = "swift";
  p.factory = [](const std::string& root) {
    auto params = EnvParams();
    params["prefix"] = RunPrefix() + "/" + root;
    return MakeDriver(params);
  };
  p.chunk_size = 1u << 20;
  std::string large = Env("DTR_TEST_SWIFT_LARGE_MIB");
  p.large_bytes = (large.empty() ? 64ull : std::stoull(large)) << 20;
  p.hint = "server: Swift at " + Env("DTR_TEST_SWIFT_AUTHURL") +
           "; its logs are printed when the wrapper script fails";
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Server, DriverSuite, ::testing::Values(FromEnv()), SuiteName);

namespace {

class SwiftOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("DTR_TEST_SWIFT_AUTHURL").empty()) << kNoServer;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    params_ = EnvParams();
    params_["prefix"] = RunPrefix() + "/only-" + info->name();
  }
  std::unique_ptr<BlobDriver> Driver(std::map<std::string, std::string> overrides = {}) {
    auto p = params_;
    for (auto& [k, v] : overrides) p[k] = v;
    auto d = MakeDriver(p);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? std::move(*d) : nullptr;
  }
  // Every object under the driver's prefix, straight from the container listing.
  std::vector<std::string> RawNames(SwiftDriver& d) {
    std::vector<std::string> out;
    auto r = d.client().Do(SwiftCall{
        "GET listing", "GET", "", {{"format", "json"}, {"prefix", params_["prefix"] + "/"}}});
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return out;
    auto l = swiftjson::ParseListing(r->body);
    EXPECT_TRUE(l.ok()) << l.status().message();
    if (l.ok()) {
      for (const auto& e : *l) out.push_back(e.name);
    }
    return out;
  }
  std::map<std::string, std::string> params_;
};

TEST_F(SwiftOnly, ReauthenticatesWhenTheTokenIsRefused) {
  auto d = Driver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->PutContent("/reauth/a", "before").ok());
  auto* swift = dynamic_cast<SwiftDriver*>(d.get());
  ASSERT_NE(swift, nullptr);
  swift->client().InvalidateToken();  // Swift answers 401 to the next request
  auto got = d->GetContent("/reauth/a");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, "before");
  EXPECT_TRUE(d->Delete("/reauth").ok());
}

TEST_F(SwiftOnly, WrongKeyIsUnauthenticatedWithAClearMessage) {
  auto d = Driver({{"password", "wrong"}, {"maxretries", "0"}});
  ASSERT_TRUE(d);
  auto st = d->Stat("/anything");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kUnauthenticated)) << st.status().message();
  EXPECT_NE(st.status().message().find("username and password"), std::string::npos)
      << st.status().message();
}

TEST_F(SwiftOnly, CreatesAMissingContainer) {
  std::mt19937 rng(std::random_device{}());
  std::string container = "dtr-new-" + std::to_string(rng() % 1000000);
  auto d = Driver({{"container", container}});
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->PutContent("/x", "in a new container").ok());
  EXPECT_EQ(d->GetContent("/x").value(), "in a new container");
  EXPECT_TRUE(d->Delete("/x").ok());
}

TEST_F(SwiftOnly, ListingsPageThroughMarkers) {
  // Two entries a page: every listing, delimited or not, needs the marker to be complete.
  auto d = Driver({{"listlimit", "2"}});
  ASSERT_TRUE(d);
  std::vector<std::string> want;
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

TEST_F(SwiftOnly, MovedUploadIsAStaticLargeObjectAndDeleteTakesItsSegments) {
  auto d = Driver();
  ASSERT_TRUE(d);
  auto* swift = dynamic_cast<SwiftDriver*>(d.get());
  auto w = d->Writer("/slo/_uploads/u/data", false);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::string chunk(1u << 20, 'x');
  ASSERT_TRUE((*w)->Write(chunk.data(), chunk.size()).ok());
  ASSERT_TRUE((*w)->Write(chunk.data(), chunk.size()).ok());
  ASSERT_TRUE((*w)->Write("tail", 4).ok());
  ASSERT_TRUE((*w)->Commit().ok());
  ASSERT_TRUE(d->Move("/slo/_uploads/u/data", "/slo/blob/data").ok());
  // The upload's folder is gone with its state; the segments live elsewhere.
  EXPECT_TRUE(d->Stat("/slo/_uploads").status().is(Code::kNotFound));
  auto head = swift->client().Do(SwiftCall{"HEAD", "HEAD", swift->Key("/slo/blob/data")});
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->Header("X-Static-Large-Object"), "True");
  EXPECT_EQ(d->Stat("/slo/blob/data")->size, 2 * chunk.size() + 4);
  EXPECT_EQ(d->GetContent("/slo/blob/data").value(), chunk + chunk + "tail");
  EXPECT_EQ(d->List("/slo").value(), (std::vector<std::string>{"/slo/blob"}));
  // Three segments exist under the reserved folder, and go with the blob.
  EXPECT_EQ(RawNames(*swift).size(), 4u);
  ASSERT_TRUE(d->Delete("/slo").ok());
  EXPECT_TRUE(RawNames(*swift).empty());
}

TEST_F(SwiftOnly, UploadStateStaysOutOfListings) {
  auto d = Driver();
  auto w = d->Writer("/state/_uploads/u/data", false);
  ASSERT_TRUE(w.ok());
  std::string chunk(1u << 20, 'x');
  ASSERT_TRUE((*w)->Write(chunk.data(), chunk.size()).ok());
  ASSERT_TRUE((*w)->Write("tail", 4).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto l = d->List("/state/_uploads/u");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(*l, (std::vector<std::string>{"/state/_uploads/u/data"}));
  EXPECT_EQ(d->List("/").value(), (std::vector<std::string>{"/state"}));
  EXPECT_TRUE(d->PutContent("/state/a#dtr.writer", "x").is(Code::kInvalidArgument));
  ASSERT_TRUE(d->Delete("/state").ok());
  EXPECT_TRUE(RawNames(*dynamic_cast<SwiftDriver*>(d.get())).empty());
}

}  // namespace
}  // namespace dtr::storage::testing
