#include "core/manifest.h"

#include <gtest/gtest.h>

namespace dtr {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

std::string OciManifest(const std::string& extra = "") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         D('a') +
         R"(","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar",)"
         R"("digest":")" +
         D('b') + R"(","size":3}])" + extra + "}";
}

TEST(ManifestTest, ParsesOciImageManifest) {
  auto m = ParseManifest("application/vnd.oci.image.manifest.v1+json", OciManifest());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->kind, ManifestKind::kImage);
  ASSERT_EQ(m->RequiredBlobs().size(), 2u);
  EXPECT_EQ(m->RequiredBlobs()[1].str(), D('b'));
  EXPECT_EQ(m->artifact_type, "application/vnd.oci.image.config.v1+json");
}

TEST(ManifestTest, SubjectAndArtifactType) {
  auto m =
      ParseManifest("", OciManifest(R"(,"artifactType":"application/x-sig","subject":{)"
                                    R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                                    R"("digest":")" +
                                    D('c') +
                                    R"(","size":10},)"
                                    R"("annotations":{"k":"v"})"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->subject->digest.str(), D('c'));
  EXPECT_EQ(m->artifact_type, "application/x-sig");
  EXPECT_EQ(m->annotations_json, R"({"k":"v"})");
}

TEST(ManifestTest, ParsesIndexWithoutContentType) {
  std::string idx =
      R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      D('d') + R"(","size":5,"platform":{"os":"linux","architecture":"amd64"}}]})";
  auto m = ParseManifest("", idx);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->kind, ManifestKind::kIndex);
  EXPECT_EQ(m->media_type, media::kOciIndex);
  EXPECT_EQ(m->manifests.size(), 1u);
}

TEST(ManifestTest, RefusesSchema1WithAHelpfulMessage) {
  auto m = ParseManifest("application/vnd.docker.distribution.manifest.v1+prettyjws",
                         R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kUnsupported);
  EXPECT_NE(m.status().message().find("schema 1"), std::string::npos);
}

TEST(ManifestTest, RejectsBrokenManifests) {
  const char* type = "application/vnd.oci.image.manifest.v1+json";
  EXPECT_FALSE(ParseManifest(type, "").ok());
  EXPECT_FALSE(ParseManifest(type, "{").ok());
  EXPECT_FALSE(ParseManifest(type, "[]").ok());
  EXPECT_FALSE(ParseManifest(type, R"({"schemaVersion":2})").ok());
  EXPECT_FALSE(ParseManifest(type, R"({"schemaVersion":"2","config":{},"layers":[]})").ok());
  std::string bad_digest = OciManifest();
  bad_digest.replace(bad_digest.find(D('b')), 71, "sha256:zz");
  auto m = ParseManifest(type, bad_digest);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("layers[0].digest"), std::string::npos)
      << m.status().message();
  // Content-Type and body disagree.
  EXPECT_FALSE(ParseManifest("application/vnd.oci.image.index.v1+json", OciManifest()).ok());
  // Too large.
  std::string big(kMaxManifestSize + 1, ' ');
  EXPECT_EQ(ParseManifest(type, big).status().code(), Code::kTooLarge);
}

TEST(ManifestTest, ForeignLayersAreNotRequired) {
  std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      D('a') +
      R"(","size":2},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",)"
      R"("digest":")" +
      D('b') + R"(","size":3,"urls":["https://example.com/x"]}]})";
  auto p = ParseManifest("application/vnd.docker.distribution.manifest.v2+json", m);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->RequiredBlobs().size(), 1u);
}

}  // namespace
}  // namespace dtr
