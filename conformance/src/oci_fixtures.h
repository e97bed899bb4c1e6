// Content the suite pushes: random blobs, and OCI / Docker manifests and indexes built
// around them with correct digests and sizes. Every call makes unique content, so runs
// never collide and cleanup never deletes anyone else's blob.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dtrc {

inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// The six Accept lines skopeo sends on a manifest GET, as separate headers.
const std::vector<std::string>& client_accept_types();

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::size_t size = 0;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  std::string platform_os;  // set for index entries
  std::string platform_arch;
};

Descriptor describe(const std::string& media_type, const std::string& bytes);

// A unique image config (JSON) and a unique layer (random bytes).
std::string make_config();
std::string make_layer(std::size_t size = 1536);

struct ManifestSpec {
  std::string media_type = kOciManifest;  // or kDockerManifest
  Descriptor config{};
  std::vector<Descriptor> layers{};
  std::optional<Descriptor> subject{};
  std::string artifact_type{};
  std::map<std::string, std::string> annotations{};
  std::size_t padding = 0;  // an annotation of this many bytes, for large manifests
};
std::string build_manifest(const ManifestSpec& spec);

struct IndexSpec {
  std::string media_type = kOciIndex;  // or kDockerList
  std::vector<Descriptor> manifests{};
  std::optional<Descriptor> subject{};
  std::string artifact_type{};
  std::map<std::string, std::string> annotations{};
};
std::string build_index(const IndexSpec& spec);

}  // namespace dtrc
