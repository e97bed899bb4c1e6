// The shared driver suite, and S3-only checks, against a real S3 server. The server comes
// from the environment that integration/s3_driver_suite_test.sh sets after starting it
// (ci/start-swift for Swift's s3api, ci/start-s3rver for s3rver):
//   DTR_TEST_S3_DRIVER (s3|cleversafe), DTR_TEST_S3_ENDPOINT, DTR_TEST_S3_ACCESS_KEY,
//   DTR_TEST_S3_SECRET_KEY, DTR_TEST_S3_BUCKET, DTR_TEST_S3_REGION (optional),
//   DTR_TEST_S3_PARAMS ("key=value;key=value", optional), DTR_TEST_S3_SERVER (swift|s3rver),
//   DTR_TEST_S3_LARGE_MIB (the large-object test, default 256), DTR_TEST_S3_NONATOMIC=1 (the
//   store may interleave concurrent writes of one object: s3rver).
#include <httplib.h>

#include <cstdlib>
#include <random>

#include "storage/driver_suite.h"
#include "storage/factory.h"
#include "storage/s3_driver.h"

namespace dtr::storage::testing {
namespace {

std::map<std::string, std::string> EnvParams() {
  std::map<std::string, std::string> p{{"regionendpoint", Env("DTR_TEST_S3_ENDPOINT")},
                                       {"accesskey", Env("DTR_TEST_S3_ACCESS_KEY")},
                                       {"secretkey", Env("DTR_TEST_S3_SECRET_KEY")},
                                       {"bucket", Env("DTR_TEST_S3_BUCKET")},
                                       {"chunksize", "5242880"},
                                       {"requesttimeout", "60s"}};
  if (!Env("DTR_TEST_S3_REGION").empty()) p["region"] = Env("DTR_TEST_S3_REGION");
  std::string extra = Env("DTR_TEST_S3_PARAMS");
  size_t at = 0;
  while (at < extra.size()) {
    size_t end = extra.find(';', at);
    if (end == std::string::npos) end = extra.size();
    std::string kv = extra.substr(at, end - at);
    auto eq = kv.find('=');
    if (eq != std::string::npos) p[kv.substr(0, eq)] = kv.substr(eq + 1);
    at = end + 1;
  }
  return p;
}

std::string DriverName() {
  std::string d = Env("DTR_TEST_S3_DRIVER");
  return d.empty() ? "s3" : d;
}

const char* kNoServer =
    "no S3 server given: run this through reference/tests/integration/s3_driver_suite_test.sh "
    "(ctest -L integration), which starts one with ci/start-swift or ci/start-s3rver";

Result<std::unique_ptr<BlobDriver>> MakeDriver(std::map<std::string, std::string> params) {
  if (Env("DTR_TEST_S3_ENDPOINT").empty()) return Status(Code::kFailedPrecondition, kNoServer);
  return CreateDriver(DriverName(), params, "/unused");
}

DriverSuiteParam FromEnv() {
  DriverSuiteParam p;
  p.name = DriverName() + "_on_" +
           (Env("DTR_TEST_S3_SERVER").empty() ? "unknown" : Env("DTR_TEST_S3_SERVER"));
  p.factory = [](const std::string& root) {
    auto params = EnvParams();
    params["rootdirectory"] = "/" + RunPrefix() + "/" + root;
    return MakeDriver(params);
  };
  p.chunk_size = 5u << 20;
  std::string large = Env("DTR_TEST_S3_LARGE_MIB");
  p.large_bytes = (large.empty() ? 256ull : std::stoull(large)) << 20;
  p.atomic_overwrites = Env("DTR_TEST_S3_NONATOMIC") != "1";
  p.hint = "server: " + Env("DTR_TEST_S3_SERVER") + " at " + Env("DTR_TEST_S3_ENDPOINT") +
           "; its logs are printed when the wrapper script fails";
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Server, DriverSuite, ::testing::Values(FromEnv()), SuiteName);

namespace {

class S3Only : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("DTR_TEST_S3_ENDPOINT").empty()) << kNoServer;
    params_ = EnvParams();
    params_["rootdirectory"] = "/" + RunPrefix() + "/s3only";
  }
  std::unique_ptr<BlobDriver> Driver(std::map<std::string, std::string> overrides = {}) {
    auto p = params_;
    for (auto& [k, v] : overrides) p[k] = v;
    auto d = MakeDriver(p);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? std::move(*d) : nullptr;
  }
  bool swift() const { return Env("DTR_TEST_S3_SERVER") == "swift"; }
  std::map<std::string, std::string> params_;
};

// Fetches a URL with a plain HTTP client (no signing of ours): the presigned URL must carry it.
httplib::Result Fetch(const std::string& url) {
  auto scheme_end = url.find("://");
  auto path_start = url.find('/', scheme_end + 3);
  httplib::Client c(url.substr(0, path_start));
  c.set_url_encode(false);
  c.set_connection_timeout(5);
  c.set_read_timeout(30);
  c.enable_server_certificate_verification(false);  // the TLS run's certificate is self-signed
  return c.Get(url.substr(path_start));
}

TEST_F(S3Only, PresignedUrlServesTheObject) {
  auto d = Driver();
  ASSERT_TRUE(d);
  std::string path = "/presign/blob data+1";
  ASSERT_TRUE(d->PutContent(path, "fetched without our signer").ok());
  auto url = d->URLFor(path, "GET", std::chrono::seconds(300));
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos);
  auto res = Fetch(*url);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "fetched without our signer");
  if (swift()) {
    std::string tampered = *url;
    tampered.back() = tampered.back() == '0' ? '1' : '0';
    auto bad = Fetch(tampered);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 403) << "Swift accepted a tampered presigned URL";
  }
  EXPECT_TRUE(
      d->URLFor("/presign/absent", "GET", std::chrono::seconds(60)).status().is(Code::kNotFound));
  d->Delete("/presign");
}

TEST_F(S3Only, StorageClassAndEncryptionReachTheServer) {
  if (!swift()) GTEST_SKIP() << "only Swift's s3api checks these headers";
  // Swift's s3api knows STANDARD only, and has no server-side encryption configured: its
  // refusals prove the headers were sent.
  auto rr = Driver({{"storageclass", "REDUCED_REDUNDANCY"}});
  ASSERT_TRUE(rr);
  Status s = rr->PutContent("/headers/x", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("InvalidStorageClass"), std::string::npos) << s.message();
  auto std_class = Driver({{"storageclass", "STANDARD"}});
  EXPECT_TRUE(std_class->PutContent("/headers/x", "x").ok());
  auto enc = Driver({{"encrypt", "true"}});
  Status e = enc->PutContent("/headers/y", "y");
  EXPECT_TRUE(e.is(Code::kUnsupported)) << e.message();
  EXPECT_NE(e.message().find("PutObject "), std::string::npos) << e.message();
  std_class->Delete("/headers");
}

TEST_F(S3Only, WrongSecretIsRefusedWithAClearMessage) {
  if (!swift()) GTEST_SKIP() << "s3rver does not check signatures";
  auto d = Driver({{"secretkey", "wrong"}});
  auto st = d->Stat("/anything");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kPermissionDenied)) << st.status().message();
  EXPECT_NE(st.status().message().find(Env("DTR_TEST_S3_ENDPOINT")), std::string::npos)
      << st.status().message();
}

TEST_F(S3Only, TlsCertificatesAreVerifiedUnlessSkipVerify) {
  if (Env("DTR_TEST_S3_ENDPOINT").rfind("https://", 0) != 0) {
    GTEST_SKIP() << "the server speaks plain HTTP";
  }
  // The server's certificate is self-signed: refused unless skipverify says otherwise.
  auto strict = Driver({{"skipverify", "false"}, {"maxretries", "0"}});
  auto st = strict->Stat("/tls");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kUnavailable)) << st.status().message();
  EXPECT_NE(st.status().message().find("TLS"), std::string::npos) << st.status().message();
  auto lax = Driver({{"skipverify", "true"}});
  ASSERT_TRUE(lax->PutContent("/tls/x", "over TLS").ok());
  EXPECT_EQ(lax->GetContent("/tls/x").value(), "over TLS");
  lax->Delete("/tls");
}

TEST_F(S3Only, MissingBucketIsAFailedPrecondition) {
  auto d = Driver({{"bucket", "no-such-bucket-dtr"}});
  auto st = d->Stat("/x");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().is(Code::kFailedPrecondition)) << st.status().message();
  EXPECT_NE(st.status().message().find("no-such-bucket-dtr"), std::string::npos)
      << st.status().message();
}

TEST_F(S3Only, UploadStateStaysOutOfListings) {
  auto d = Driver();
  auto w = d->Writer("/state/_uploads/u/data", false);
  ASSERT_TRUE(w.ok());
  std::string chunk(5u << 20, 'x');
  ASSERT_TRUE((*w)->Write(chunk.data(), chunk.size()).ok());
  ASSERT_TRUE((*w)->Write("tail", 4).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto l = d->List("/state/_uploads/u");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(*l, (std::vector<std::string>{"/state/_uploads/u/data"}));
  EXPECT_EQ(d->Stat("/state/_uploads/u/data")->size, chunk.size() + 4);
  EXPECT_TRUE(d->PutContent("/state/a#dtr.writer", "x").is(Code::kInvalidArgument));
  ASSERT_TRUE(d->Delete("/state").ok());
  // Nothing is left behind in the bucket, segments included.
  auto* s3 = dynamic_cast<S3Driver*>(d.get());
  ASSERT_NE(s3, nullptr);
  auto raw = s3->client().Do(
      S3Call{"ListObjectsV2", "GET", "", {{"list-type", "2"}, {"prefix", s3->Key("/state")}}});
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(raw->body.find("<Key>"), std::string::npos) << raw->body;
}

}  // namespace
}  // namespace dtr::storage::testing
