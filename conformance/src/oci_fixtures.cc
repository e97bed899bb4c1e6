#include "oci_fixtures.h"

#include <nlohmann/json.hpp>

#include "digest.h"

namespace dtrc {
namespace {

using nlohmann::json;

json descriptor_json(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (!d.platform_os.empty()) {
    j["platform"] = {{"architecture", d.platform_arch}, {"os", d.platform_os}};
  }
  return j;
}

}  // namespace

const std::vector<std::string>& client_accept_types() {
  static const std::vector<std::string> kTypes = {
      kOciManifest,
      kDockerManifest,
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
      "application/vnd.docker.distribution.manifest.v1+json",
      kDockerList,
      kOciIndex,
  };
  return kTypes;
}

Descriptor describe(const std::string& media_type, const std::string& bytes) {
  Descriptor d;
  d.media_type = media_type;
  d.digest = sha256_digest(bytes);
  d.size = bytes.size();
  return d;
}

std::string make_config() {
  json j = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", json::object()},
      {"rootfs", {{"type", "layers"}, {"diff_ids", json::array({sha256_digest(random_hex(32))})}}},
      {"history", json::array({{{"created_by", "dtr-conformance " + random_hex(16)}}})},
  };
  return j.dump();
}

std::string make_layer(std::size_t size) { return random_bytes(size); }

std::string build_manifest(const ManifestSpec& spec) {
  json j;
  j["schemaVersion"] = 2;
  j["mediaType"] = spec.media_type;
  if (!spec.artifact_type.empty()) j["artifactType"] = spec.artifact_type;
  j["config"] = descriptor_json(spec.config);
  j["layers"] = json::array();
  for (const auto& l : spec.layers) j["layers"].push_back(descriptor_json(l));
  if (spec.subject) j["subject"] = descriptor_json(*spec.subject);
  auto annotations = spec.annotations;
  if (spec.padding > 0)
    annotations["org.example.conformance.padding"] = std::string(spec.padding, 'p');
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

std::string build_index(const IndexSpec& spec) {
  json j;
  j["schemaVersion"] = 2;
  j["mediaType"] = spec.media_type;
  if (!spec.artifact_type.empty()) j["artifactType"] = spec.artifact_type;
  j["manifests"] = json::array();
  for (const auto& m : spec.manifests) j["manifests"].push_back(descriptor_json(m));
  if (spec.subject) j["subject"] = descriptor_json(*spec.subject);
  if (!spec.annotations.empty()) j["annotations"] = spec.annotations;
  return j.dump();
}

}  // namespace dtrc
