// Image manifests and indexes: the media types the registry accepts, and a parser that
// extracts what the registry must check (referenced blobs and child manifests) and index
// (subject, artifact type, annotations). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace dtr {

namespace media {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
}  // namespace media

inline constexpr size_t kMaxManifestSize = 4 * 1024 * 1024;

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::string artifact_type;
  std::string annotations_json;  // serialized object, empty when absent
  bool has_urls = false;         // foreign / non-distributable content
};

enum class ManifestKind { kImage, kIndex };

struct Manifest {
  ManifestKind kind = ManifestKind::kImage;
  std::string media_type;
  std::optional<Descriptor> config;   // image manifests
  std::vector<Descriptor> layers;     // image manifests
  std::vector<Descriptor> manifests;  // indexes
  std::optional<Descriptor> subject;
  std::string artifact_type;  // as the referrers API reports it
  std::string annotations_json;

  // Blobs the registry must hold before accepting the manifest (config and layers, less
  // foreign layers that live elsewhere).
  std::vector<Digest> RequiredBlobs() const;
};

// Parses `body` uploaded with Content-Type `content_type` (may be empty). Errors:
// kInvalidArgument (MANIFEST_INVALID) with a message saying what is wrong,
// kUnsupported for schema 1 and unknown media types.
Result<Manifest> ParseManifest(std::string_view content_type, std::string_view body);

bool IsManifestMediaType(std::string_view media_type);

}  // namespace dtr
