// The OCI distribution API of the reference, driven in process: every endpoint, its
// headers and its error codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/parser.h"

#include "tests/test_registry.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

const char* kOci = "application/vnd.oci.image.manifest.v1+json";
const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
const char* kDocker = "application/vnd.docker.distribution.manifest.v2+json";

std::string ErrorCode(const Reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || j["errors"].empty()) return "<no error body>";
  return j["errors"][0]["code"].get<std::string>();
}

class RegistryApiTest : public ::testing::Test {
 protected:
  TestRegistry reg;
};

TEST_F(RegistryApiTest, BaseEndpoint) {
  auto r = reg.Do("GET", "/v2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Docker-Distribution-Api-Version"), "registry/2.0");
  EXPECT_EQ(reg.Do("GET", "/v2").status, 200);
}

TEST_F(RegistryApiTest, MonolithicBlobPushAndPull) {
  std::string data = "some blob content";
  auto put = reg.PushBlob("a/b", data);
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.Header("Docker-Content-Digest"), DigestOf(data));
  EXPECT_EQ(put.Header("Location"), "http://registry.test/v2/a/b/blobs/" + DigestOf(data));
  auto get = reg.Do("GET", "/v2/a/b/blobs/" + DigestOf(data));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, data);
  EXPECT_EQ(get.Header("Docker-Content-Digest"), DigestOf(data));
  EXPECT_EQ(get.Header("Accept-Ranges"), "bytes");
  auto head = reg.Do("HEAD", "/v2/a/b/blobs/" + DigestOf(data));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(data.size()));
  EXPECT_TRUE(head.body.empty());
}

TEST_F(RegistryApiTest, BlobRanges) {
  std::string data = "0123456789";
  ASSERT_EQ(reg.PushBlob("r", data).status, 201);
  auto r = reg.Do("GET", "/v2/r/blobs/" + DigestOf(data), "", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "2345");
  EXPECT_EQ(r.Header("Content-Range"), "bytes 2-5/10");
  r = reg.Do("GET", "/v2/r/blobs/" + DigestOf(data), "", {{"Range", "bytes=-3"}});
  EXPECT_EQ(r.body, "789");
  r = reg.Do("GET", "/v2/r/blobs/" + DigestOf(data), "", {{"Range", "bytes=10-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("Content-Range"), "bytes */10");
}

TEST_F(RegistryApiTest, BlobErrors) {
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/r/blobs/sha256:" + std::string(64, 'a'))), "BLOB_UNKNOWN");
  auto bad = reg.Do("GET", "/v2/r/blobs/sha256:nothex");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorCode(bad), "DIGEST_INVALID");
  auto md5 = reg.Do("GET", "/v2/r/blobs/md5:d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5.status, 400);
  EXPECT_NE(md5.body.find("unsupported digest algorithm"), std::string::npos);
  // Wrong digest on a monolithic upload: refused, nothing stored.
  auto wrong = reg.Do("POST", "/v2/r/blobs/uploads/?digest=" + DigestOf("other"), "actual content");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(ErrorCode(wrong), "DIGEST_INVALID");
  EXPECT_EQ(reg.Do("HEAD", "/v2/r/blobs/" + DigestOf("actual content")).status, 404);
  EXPECT_EQ(reg.Do("HEAD", "/v2/r/blobs/" + DigestOf("other")).status, 404);
}

TEST_F(RegistryApiTest, Sha512Blobs) {
  std::string data = "sha512 content";
  std::string d = ComputeDigest(data, DigestAlgorithm::kSha512).str();
  auto put = reg.Do("POST", "/v2/r/blobs/uploads/?digest=" + d, data);
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(reg.Do("GET", "/v2/r/blobs/" + d).body, data);
}

TEST_F(RegistryApiTest, ChunkedUploadWithStatusAndOrdering) {
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  ASSERT_EQ(start.status, 202);
  EXPECT_EQ(start.Header("Range"), "0-0");
  std::string loc = start.Header("Location");
  std::string uuid = start.Header("Docker-Upload-UUID");
  ASSERT_FALSE(uuid.empty());
  std::string path = loc.substr(loc.find("/v2/"));
  auto p1 = reg.Do("PATCH", path, "hello ", {{"Content-Range", "0-5"}});
  EXPECT_EQ(p1.status, 202);
  EXPECT_EQ(p1.Header("Range"), "0-5");
  // Out of order: starts at 10, the upload has 6 bytes.
  auto bad = reg.Do("PATCH", path, "xxxx", {{"Content-Range", "10-13"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.Header("Range"), "0-5");
  // Overlapping chunk.
  EXPECT_EQ(reg.Do("PATCH", path, "zz", {{"Content-Range", "4-5"}}).status, 416);
  auto status = reg.Do("GET", path);
  EXPECT_EQ(status.status, 204);
  EXPECT_EQ(status.Header("Range"), "0-5");
  // A streamed chunk without Content-Range, chunked transfer coding.
  auto p2 = reg.Do("PATCH", path, "world", {}, /*chunked=*/true);
  EXPECT_EQ(p2.status, 202);
  EXPECT_EQ(p2.Header("Range"), "0-10");
  auto done = reg.Do("PUT", path + "?digest=" + DigestOf("hello world!"), "!");
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(reg.Do("GET", "/v2/r/blobs/" + DigestOf("hello world!")).body, "hello world!");
  // The session is gone once completed.
  EXPECT_EQ(ErrorCode(reg.Do("GET", path)), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(RegistryApiTest, ContentRangeMustMatchLength) {
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  auto r = reg.Do("PATCH", path, "abc", {{"Content-Range", "0-9"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "BLOB_UPLOAD_INVALID");
}

TEST_F(RegistryApiTest, PostThenPutWithBody) {
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  auto done = reg.Do("PUT", path + "?digest=" + DigestOf("body"), "body",
                     {{"Content-Type", "application/octet-stream"}});
  EXPECT_EQ(done.status, 201);
  EXPECT_EQ(reg.Do("PUT", path + "?digest=" + DigestOf("body"), "body").status, 404);
}

TEST_F(RegistryApiTest, PutWithoutDigestAndCancel) {
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  auto r = reg.Do("PUT", path, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "DIGEST_INVALID");
  EXPECT_EQ(reg.Do("DELETE", path).status, 204);
  EXPECT_EQ(ErrorCode(reg.Do("DELETE", path)), "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(ErrorCode(reg.Do("PATCH", "/v2/r/blobs/uploads/not-a-uuid!", "x")),
            "BLOB_UPLOAD_UNKNOWN");
  // An upload belongs to its repository.
  auto other = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string uuid = other.Header("Docker-Upload-UUID");
  EXPECT_EQ(reg.Do("GET", "/v2/s/blobs/uploads/" + uuid).status, 404);
}

TEST_F(RegistryApiTest, CrossRepositoryMount) {
  std::string data = "mount me";
  ASSERT_EQ(reg.PushBlob("src", data).status, 201);
  auto m = reg.Do("POST", "/v2/dst/blobs/uploads/?mount=" + DigestOf(data) + "&from=src");
  EXPECT_EQ(m.status, 201);
  EXPECT_EQ(m.Header("Docker-Content-Digest"), DigestOf(data));
  EXPECT_EQ(reg.Do("GET", "/v2/dst/blobs/" + DigestOf(data)).body, data);
  // Source lacks it: an ordinary upload session instead.
  auto n = reg.Do("POST", "/v2/dst2/blobs/uploads/?mount=" + DigestOf("nope") + "&from=src");
  EXPECT_EQ(n.status, 202);
  EXPECT_FALSE(n.Header("Docker-Upload-UUID").empty());
  auto bad_from = reg.Do("POST", "/v2/dst2/blobs/uploads/?mount=" + DigestOf(data) + "&from=UP");
  EXPECT_EQ(bad_from.status, 202);
}

TEST_F(RegistryApiTest, ManifestsByTagAndDigest) {
  std::string m = reg.PushImage("img", "v1", "layer-bytes");
  std::string d = DigestOf(m);
  auto get = reg.Do("GET", "/v2/img/manifests/v1", "", {{"Accept", kOci}});
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.body, m);
  EXPECT_EQ(get.Header("Content-Type"), kOci);
  EXPECT_EQ(get.Header("Docker-Content-Digest"), d);
  EXPECT_EQ(get.Header("Etag"), "\"" + d + "\"");
  auto byd = reg.Do("GET", "/v2/img/manifests/" + d);
  EXPECT_EQ(byd.body, m);
  auto head = reg.Do("HEAD", "/v2/img/manifests/v1");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(m.size()));
  // Repeated Accept headers, none of them the stored type: the manifest is still served.
  auto other = reg.Do("GET", "/v2/img/manifests/v1", "",
                      {{"Accept", kDocker},
                       {"Accept", "application/vnd.docker.distribution.manifest.list.v2+json"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.Header("Content-Type"), kOci);
  EXPECT_EQ(reg.Do("GET", "/v2/img/manifests/v1", "", {{"If-None-Match", "\"" + d + "\""}}).status,
            304);
}

TEST_F(RegistryApiTest, ManifestPushByDigest) {
  std::string config = "{}";
  ASSERT_EQ(reg.PushBlob("r", config).status, 201);
  std::string m = ImageManifest(config, {});
  auto put = reg.PushManifest("r", DigestOf(m), kOci, m);
  EXPECT_EQ(put.status, 201);
  auto wrong = reg.PushManifest("r", DigestOf("x"), kOci, m);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(ErrorCode(wrong), "DIGEST_INVALID");
}

TEST_F(RegistryApiTest, ManifestErrors) {
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/none/manifests/latest")), "NAME_UNKNOWN");
  reg.PushImage("img", "v1", "x");
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/img/manifests/v2")), "MANIFEST_UNKNOWN");
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/img/manifests/sha256:" + std::string(64, 'f'))),
            "MANIFEST_UNKNOWN");
  auto wrongdigest = reg.Do("GET", "/v2/img/manifests/sha256:totallywrong");
  EXPECT_EQ(wrongdigest.status, 400);
  EXPECT_EQ(ErrorCode(wrongdigest), "DIGEST_INVALID");
  // Missing blobs.
  std::string m = ImageManifest("missing-config", {"missing-layer"});
  auto r = reg.PushManifest("img", "bad", kOci, m);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(reg.Do("GET", "/v2/img/manifests/bad").status, 404);
  // Malformed and schema 1.
  auto junk = reg.PushManifest("img", "junk", kOci, "{not json");
  EXPECT_EQ(ErrorCode(junk), "MANIFEST_INVALID");
  auto s1 =
      reg.PushManifest("img", "s1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                       R"({"schemaVersion":1,"name":"img","tag":"s1","fsLayers":[]})");
  EXPECT_EQ(s1.status, 400);
  EXPECT_NE(s1.body.find("schema 1"), std::string::npos);
  // Oversized: refused with the limit named.
  std::string big =
      ImageManifest("{}", {}, R"(,"annotations":{"pad":")" + std::string(5 << 20, 'a') + "\"}");
  auto large = reg.PushManifest("img", "big", kOci, big);
  EXPECT_EQ(large.status, 413);
  EXPECT_NE(large.body.find("4 MiB"), std::string::npos);
  // Invalid tag.
  EXPECT_EQ(reg.PushManifest("img", "-bad", kOci, m).status, 400);
}

TEST_F(RegistryApiTest, DockerSchema2AndManifestList) {
  std::string config = R"({"os":"linux"})";
  std::string layer = "docker layer";
  reg.PushBlob("d", config);
  reg.PushBlob("d", layer);
  std::string m = ImageManifest(config, {layer}, "", kDocker);
  ASSERT_EQ(reg.PushManifest("d", DigestOf(m), kDocker, m).status, 201);
  std::string list =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":")" +
      std::string(kDocker) + R"(","digest":")" + DigestOf(m) + R"(","size":)" +
      std::to_string(m.size()) + R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";
  auto put = reg.PushManifest("d", "multi",
                              "application/vnd.docker.distribution.manifest.list.v2+json", list);
  ASSERT_EQ(put.status, 201) << put.body;
  auto get = reg.Do("GET", "/v2/d/manifests/multi");
  EXPECT_EQ(get.Header("Content-Type"),
            "application/vnd.docker.distribution.manifest.list.v2+json");
  // An index naming an unknown child manifest is refused.
  std::string idx =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":")" +
      std::string(kOci) + R"(","digest":"sha256:)" + std::string(64, 'e') + R"(","size":1}]})";
  EXPECT_EQ(ErrorCode(reg.PushManifest("d", "idx", kOciIndex, idx)), "MANIFEST_BLOB_UNKNOWN");
}

TEST_F(RegistryApiTest, ReferrersAndSubject) {
  std::string subject = reg.PushImage("art", "v1", "subject layer");
  std::string sd = DigestOf(subject);
  std::string config = "{}";
  reg.PushBlob("art", config);
  std::string sig =
      ImageManifest(config, {},
                    R"(,"artifactType":"application/x-signature","subject":{"mediaType":")" +
                        std::string(kOci) + R"(","digest":")" + sd + R"(","size":)" +
                        std::to_string(subject.size()) + R"(},"annotations":{"who":"me"})");
  auto put = reg.PushManifest("art", DigestOf(sig), kOci, sig);
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.Header("OCI-Subject"), sd);
  std::string sbom =
      ImageManifest(config, {},
                    R"(,"artifactType":"application/x-sbom","subject":{"mediaType":")" +
                        std::string(kOci) + R"(","digest":")" + sd + R"(","size":1})");
  ASSERT_EQ(reg.PushManifest("art", DigestOf(sbom), kOci, sbom).status, 201);
  auto all = reg.Do("GET", "/v2/art/referrers/" + sd);
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.Header("Content-Type"), kOciIndex);
  auto j = json::parse(all.body);
  EXPECT_EQ(j["manifests"].size(), 2u);
  auto filtered =
      reg.Do("GET", "/v2/art/referrers/" + sd + "?artifactType=application/x-signature");
  EXPECT_EQ(filtered.Header("OCI-Filters-Applied"), "artifactType");
  auto f = json::parse(filtered.body);
  ASSERT_EQ(f["manifests"].size(), 1u);
  EXPECT_EQ(f["manifests"][0]["digest"], DigestOf(sig));
  EXPECT_EQ(f["manifests"][0]["annotations"]["who"], "me");
  // Unknown subject: an empty index, not an error.
  auto none = reg.Do("GET", "/v2/art/referrers/sha256:" + std::string(64, '0'));
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(json::parse(none.body)["manifests"].size(), 0u);
  EXPECT_EQ(reg.Do("GET", "/v2/art/referrers/sha256:zz").status, 400);
  // Deleting the referrer removes it from the list.
  EXPECT_EQ(reg.Do("DELETE", "/v2/art/manifests/" + DigestOf(sig)).status, 202);
  EXPECT_EQ(json::parse(reg.Do("GET", "/v2/art/referrers/" + sd).body)["manifests"].size(), 1u);
}

TEST_F(RegistryApiTest, TagsAndCatalogPagination) {
  for (const char* t : {"c", "a", "b", "d"}) reg.PushImage("p/q", t, "L");
  reg.PushImage("p/r", "x", "L");
  reg.PushImage("a", "x", "L");
  auto all = reg.Do("GET", "/v2/p/q/tags/list");
  EXPECT_EQ(json::parse(all.body)["tags"], json({"a", "b", "c", "d"}));
  EXPECT_TRUE(all.Header("Link").empty());
  auto page = reg.Do("GET", "/v2/p/q/tags/list?n=2");
  EXPECT_EQ(json::parse(page.body)["tags"], json({"a", "b"}));
  EXPECT_EQ(page.Header("Link"), "</v2/p/q/tags/list?last=b&n=2>; rel=\"next\"");
  auto next = reg.Do("GET", "/v2/p/q/tags/list?n=2&last=b");
  EXPECT_EQ(json::parse(next.body)["tags"], json({"c", "d"}));
  EXPECT_TRUE(next.Header("Link").empty());
  EXPECT_EQ(json::parse(reg.Do("GET", "/v2/p/q/tags/list?n=0").body)["tags"].size(), 0u);
  EXPECT_EQ(reg.Do("GET", "/v2/p/q/tags/list?n=abc").status, 400);
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/no/such/tags/list")), "NAME_UNKNOWN");
  auto cat = reg.Do("GET", "/v2/_catalog?n=2");
  EXPECT_EQ(json::parse(cat.body)["repositories"], json({"a", "p/q"}));
  EXPECT_EQ(cat.Header("Link"), "</v2/_catalog?last=p/q&n=2>; rel=\"next\"");
  auto cat2 = reg.Do("GET", "/v2/_catalog?n=2&last=p/q");
  EXPECT_EQ(json::parse(cat2.body)["repositories"], json({"p/r"}));
}

TEST_F(RegistryApiTest, DeleteSemantics) {
  std::string m = reg.PushImage("del", "v1", "L1");
  reg.PushManifest("del", "v2", kOci, m);
  std::string d = DigestOf(m);
  // Delete a tag: the manifest and the other tag remain.
  EXPECT_EQ(reg.Do("DELETE", "/v2/del/manifests/v1").status, 202);
  EXPECT_EQ(reg.Do("GET", "/v2/del/manifests/v1").status, 404);
  EXPECT_EQ(reg.Do("GET", "/v2/del/manifests/v2").status, 200);
  // Delete by digest: every tag pointing at it goes too.
  EXPECT_EQ(reg.Do("DELETE", "/v2/del/manifests/" + d).status, 202);
  EXPECT_EQ(reg.Do("GET", "/v2/del/manifests/" + d).status, 404);
  EXPECT_EQ(reg.Do("GET", "/v2/del/manifests/v2").status, 404);
  EXPECT_EQ(json::parse(reg.Do("GET", "/v2/del/tags/list").body)["tags"].size(), 0u);
  EXPECT_EQ(ErrorCode(reg.Do("DELETE", "/v2/del/manifests/" + d)), "MANIFEST_UNKNOWN");
  // Blobs.
  EXPECT_EQ(reg.Do("DELETE", "/v2/del/blobs/" + DigestOf("L1")).status, 202);
  EXPECT_EQ(reg.Do("HEAD", "/v2/del/blobs/" + DigestOf("L1")).status, 404);
  EXPECT_EQ(ErrorCode(reg.Do("DELETE", "/v2/del/blobs/" + DigestOf("L1"))), "BLOB_UNKNOWN");
}

TEST_F(RegistryApiTest, InvalidNames) {
  for (const char* path : {"/v2/UPPER/tags/list", "/v2/a//b/tags/list", "/v2/a/../b/tags/list",
                           "/v2/-a/manifests/latest", "/v2/a_/blobs/uploads/"}) {
    auto r = reg.Do(std::string(path).find("uploads") != std::string::npos ? "POST" : "GET", path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(ErrorCode(r), "NAME_INVALID") << path;
  }
  std::string longname(256, 'a');
  EXPECT_EQ(ErrorCode(reg.Do("GET", "/v2/" + longname + "/tags/list")), "NAME_INVALID");
}

TEST_F(RegistryApiTest, UnknownEndpointsAndMethods) {
  auto r = reg.Do("GET", "/v2/a/unknown/thing");
  EXPECT_EQ(r.status, 404);
  auto m = reg.Do("POST", "/v2/a/manifests/latest");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(ErrorCode(m), "UNSUPPORTED");
  EXPECT_FALSE(m.Header("Allow").empty());
}

TEST_F(RegistryApiTest, ReadOnlyModeRefusesWrites) {
  app::Settings s = NoAuth();
  s.read_only = true;
  TestRegistry ro(s);
  auto r = ro.PushBlob("r", "x");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("read-only"), std::string::npos);
  EXPECT_EQ(ro.Do("GET", "/v2/").status, 200);
}

TEST_F(RegistryApiTest, IndexIsRebuiltAfterACrash) {
  reg.PushImage("crash", "v1", "L");
  reg.PushImage("crash", "v2", "L2");
  reg.Crash();
  // Simulate an index that missed a write: remove the database, keep storage.
  std::filesystem::remove(reg.root() + "/data/meta.db");
  std::filesystem::remove(reg.root() + "/data/meta.db-wal");
  std::filesystem::remove(reg.root() + "/data/meta.db-shm");
  reg.Reopen();
  auto tags = reg.Do("GET", "/v2/crash/tags/list");
  EXPECT_EQ(json::parse(tags.body)["tags"], json({"v1", "v2"}));
  EXPECT_EQ(json::parse(reg.Do("GET", "/v2/_catalog").body)["repositories"], json({"crash"}));
}

}  // namespace
}  // namespace dtr::testing

namespace dtr::testing {
namespace {

// A body that delivers some bytes and then fails, as a client that disconnects does.
class BrokenBody : public http::BodyReader {
 public:
  explicit BrokenBody(std::string part) : part_(std::move(part)) {}
  ssize_t Read(char* buf, size_t n) override {
    if (pos_ < part_.size()) {
      size_t k = std::min(n, part_.size() - pos_);
      std::memcpy(buf, part_.data() + pos_, k);
      pos_ += k;
      return static_cast<ssize_t>(k);
    }
    error_ = "client went away";
    return -1;
  }
  std::optional<uint64_t> declared_length() const override { return 1000; }
  const std::string& error() const override { return error_; }
  bool finished() const override { return false; }

 private:
  std::string part_;
  size_t pos_ = 0;
  std::string error_;
};

TEST(RegistryFaultTest, BodyThatStopsEarlyLeavesNoBlobAndAResumableUpload) {
  TestRegistry reg;
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  http::Request req;
  req.method = "PATCH";
  req.target = path;
  req.path = path;
  req.headers.Add("Host", "x");
  BrokenBody body("first-part");
  req.body = &body;
  http::Response res;
  reg.app().Handle(req, res);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("client went away"), std::string::npos) << res.body;
  // What arrived is kept; the client can resume from the reported offset.
  auto status = reg.Do("GET", path);
  EXPECT_EQ(status.Header("Range"), "0-9");
  EXPECT_EQ(reg.Do("PATCH", path, "-rest", {{"Content-Range", "10-14"}}).status, 202);
  EXPECT_EQ(reg.Do("PUT", path + "?digest=" + DigestOf("first-part-rest")).status, 201);
  // A monolithic upload that breaks leaves nothing behind.
  http::Request mono;
  mono.method = "POST";
  std::string target = "/v2/r/blobs/uploads/?digest=" + DigestOf("whole content");
  http::SplitTarget(target, &mono);
  mono.headers.Add("Host", "x");
  mono.headers.Add("Content-Length", "13");
  BrokenBody part("whole");
  mono.body = &part;
  http::Response res2;
  reg.app().Handle(mono, res2);
  EXPECT_EQ(res2.status, 400);
  EXPECT_EQ(reg.Do("HEAD", "/v2/r/blobs/" + DigestOf("whole content")).status, 404);
  EXPECT_EQ(reg.Do("HEAD", "/v2/r/blobs/" + DigestOf("whole")).status, 404);
}

// A body delivered in pieces of awkward sizes, as sockets and chunk framing deliver it.
class PieceBody : public http::BodyReader {
 public:
  explicit PieceBody(std::string data) : data_(std::move(data)) {}
  ssize_t Read(char* buf, size_t n) override {
    static constexpr size_t kPieces[] = {1, 4095, 7, 131073, 65536, 3, 200000, 4097};
    size_t k = std::min({n, data_.size() - pos_, kPieces[next_++ % std::size(kPieces)]});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return static_cast<ssize_t>(k);
  }
  std::optional<uint64_t> declared_length() const override { return std::nullopt; }
  const std::string& error() const override { return error_; }
  bool finished() const override { return pos_ == data_.size(); }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t next_ = 0;
  std::string error_;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

http::Response Patch(TestRegistry& reg, const std::string& path, http::BodyReader* body,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request req;
  req.method = "PATCH";
  http::SplitTarget(path, &req);
  req.headers.Add("Host", "x");
  for (auto& [k, v] : headers) req.headers.Add(k, v);
  req.body = body;
  http::Response res;
  reg.app().Handle(req, res);
  return res;
}

TEST(RegistryUploadTest, BigBodyInAwkwardPiecesAtAnUnalignedOffsetLandsIntact) {
  TestRegistry reg;
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  // 5 bytes first, so the big body starts off a page boundary in the file.
  ASSERT_EQ(reg.Do("PATCH", path, "head:", {{"Content-Range", "0-4"}}).status, 202);
  std::string big = RandomBytes((3 << 20) + 1234, 7);
  PieceBody body(big);
  auto res = Patch(reg, path, &body);
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(res.headers.GetOr("Range"), "0-" + std::to_string(5 + big.size() - 1));
  std::string all = "head:" + big + "tail";
  auto done = reg.Do("PUT", path + "?digest=" + DigestOf(all), "tail");
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(reg.Do("GET", "/v2/r/blobs/" + DigestOf(all)).body, all);
  // A wrong digest after a big body is still refused, and nothing becomes visible.
  auto again = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path2 = again.Header("Location").substr(again.Header("Location").find("/v2/"));
  PieceBody body2(big);
  ASSERT_EQ(Patch(reg, path2, &body2).status, 202);
  std::string wrong = DigestOf(big + "x");
  EXPECT_EQ(ErrorCode(reg.Do("PUT", path2 + "?digest=" + wrong)), "DIGEST_INVALID");
  EXPECT_EQ(reg.Do("HEAD", "/v2/r/blobs/" + wrong).status, 404);
}

TEST(RegistryUploadTest, BodyThatFailsAfterManyBuffersResumesWithTheRightHash) {
  TestRegistry reg;
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  std::string whole = RandomBytes((2 << 20) + 77, 11);
  size_t cut = (1 << 20) + 12345;
  BrokenBody first(whole.substr(0, cut));
  auto res = Patch(reg, path, &first);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(reg.Do("GET", path).Header("Range"), "0-" + std::to_string(cut - 1));
  std::string rest = whole.substr(cut);
  PieceBody second(rest);
  auto res2 =
      Patch(reg, path, &second,
            {{"Content-Range", std::to_string(cut) + "-" + std::to_string(whole.size() - 1)},
             {"Content-Length", std::to_string(rest.size())}});
  ASSERT_EQ(res2.status, 202) << res2.body;
  auto done = reg.Do("PUT", path + "?digest=" + DigestOf(whole));
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(reg.Do("GET", "/v2/r/blobs/" + DigestOf(whole)).body, whole);
}

TEST(RegistryFaultTest, ExpiredUploadsArePurged) {
  app::Settings s = NoAuth();
  s.upload_purge_age = std::chrono::seconds(0);
  TestRegistry reg(s);
  auto start = reg.Do("POST", "/v2/r/blobs/uploads/");
  std::string path = start.Header("Location").substr(start.Header("Location").find("/v2/"));
  reg.Do("PATCH", path, "abc");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(reg.app().registry().PurgeExpiredUploads(), 1u);
  EXPECT_EQ(reg.Do("GET", path).status, 404);
}

}  // namespace
}  // namespace dtr::testing
