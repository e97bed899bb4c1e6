#include "core/manifest.h"

#include <nlohmann/json.hpp>

namespace dtr {

using nlohmann::json;

namespace {

bool IsForeignLayer(const Descriptor& d) {
  return d.media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
         d.media_type.rfind("application/vnd.oci.image.layer.nondistributable.", 0) == 0;
}

Result<Descriptor> ParseDescriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + " must be a JSON object");
  Descriptor d;
  auto mt = j.find("mediaType");
  if (mt == j.end() || !mt->is_string() || mt->get_ref<const std::string&>().empty()) {
    return InvalidArgument(where + ".mediaType must be a non-empty string");
  }
  d.media_type = mt->get<std::string>();
  auto dg = j.find("digest");
  if (dg == j.end() || !dg->is_string()) {
    return InvalidArgument(where + ".digest must be a string");
  }
  auto parsed = Digest::Parse(dg->get_ref<const std::string&>());
  if (!parsed.ok()) return InvalidArgument(where + ".digest: " + parsed.status().message());
  d.digest = parsed.value();
  auto sz = j.find("size");
  if (sz == j.end() || !sz->is_number_integer() || sz->get<int64_t>() < 0) {
    return InvalidArgument(where + ".size must be a non-negative integer");
  }
  d.size = sz->get<int64_t>();
  if (auto at = j.find("artifactType"); at != j.end()) {
    if (!at->is_string()) return InvalidArgument(where + ".artifactType must be a string");
    d.artifact_type = at->get<std::string>();
  }
  if (auto an = j.find("annotations"); an != j.end() && !an->is_null()) {
    if (!an->is_object()) return InvalidArgument(where + ".annotations must be an object");
    d.annotations_json = an->dump();
  }
  if (auto urls = j.find("urls"); urls != j.end() && urls->is_array() && !urls->empty()) {
    d.has_urls = true;
  }
  return d;
}

Status ParseDescriptorList(const json& body, const char* field, bool required,
                           std::vector<Descriptor>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return required ? InvalidArgument(std::string(field) + " is required") : Status::Ok();
  }
  if (!it->is_array()) return InvalidArgument(std::string(field) + " must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    auto d = ParseDescriptor((*it)[i], std::string(field) + "[" + std::to_string(i) + "]");
    if (!d.ok()) return d.status();
    out->push_back(std::move(d.value()));
  }
  return Status::Ok();
}

}  // namespace

bool IsManifestMediaType(std::string_view m) {
  return m == media::kOciManifest || m == media::kOciIndex || m == media::kDockerManifest ||
         m == media::kDockerManifestList;
}

std::vector<Digest> Manifest::RequiredBlobs() const {
  std::vector<Digest> out;
  if (config) out.push_back(config->digest);
  for (const auto& l : layers) {
    if (!IsForeignLayer(l)) out.push_back(l.digest);
  }
  return out;
}

Result<Manifest> ParseManifest(std::string_view content_type, std::string_view body) {
  if (body.size() > kMaxManifestSize) {
    return Status(Code::kTooLarge, "manifest is " + std::to_string(body.size()) +
                                       " bytes; the limit is 4 MiB (4194304 bytes)");
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("manifest is not valid JSON");
  if (!j.is_object()) return InvalidArgument("manifest must be a JSON object");

  auto sv = j.find("schemaVersion");
  if (sv == j.end() || !sv->is_number_integer()) {
    return InvalidArgument("manifest schemaVersion must be an integer");
  }
  if (sv->get<int64_t>() == 1 || content_type == media::kDockerSchema1 ||
      content_type == media::kDockerSchema1Signed) {
    return Status(Code::kUnsupported,
                  "Docker schema 1 manifests are not supported; push schema 2 or OCI "
                  "(for example with skopeo copy --format v2s2)");
  }
  if (sv->get<int64_t>() != 2) return InvalidArgument("manifest schemaVersion must be 2");

  std::string body_type;
  if (auto mt = j.find("mediaType"); mt != j.end()) {
    if (!mt->is_string()) return InvalidArgument("manifest mediaType must be a string");
    body_type = mt->get<std::string>();
  }
  // The Content-Type decides when it names a manifest type; the body's mediaType, when
  // present, must agree with it.
  std::string type(content_type);
  if (!IsManifestMediaType(type)) {
    if (!body_type.empty()) {
      type = body_type;
    } else if (j.contains("manifests")) {
      type = media::kOciIndex;
    } else {
      type = media::kOciManifest;
    }
  }
  if (!IsManifestMediaType(type)) {
    return Status(Code::kUnsupported, "unsupported manifest media type '" + type + "'");
  }
  if (!body_type.empty() && body_type != type) {
    return InvalidArgument("manifest mediaType '" + body_type + "' does not match Content-Type '" +
                           type + "'");
  }

  Manifest m;
  m.media_type = type;
  if (type == media::kOciIndex || type == media::kDockerManifestList) {
    m.kind = ManifestKind::kIndex;
    if (Status s = ParseDescriptorList(j, "manifests", true, &m.manifests); !s.ok()) return s;
  } else {
    m.kind = ManifestKind::kImage;
    auto cfg = j.find("config");
    if (cfg == j.end()) return InvalidArgument("image manifest has no config descriptor");
    auto d = ParseDescriptor(*cfg, "config");
    if (!d.ok()) return d.status();
    m.config = std::move(d.value());
    if (Status s = ParseDescriptorList(j, "layers", true, &m.layers); !s.ok()) return s;
  }
  if (auto sub = j.find("subject"); sub != j.end() && !sub->is_null()) {
    auto d = ParseDescriptor(*sub, "subject");
    if (!d.ok()) return d.status();
    m.subject = std::move(d.value());
  }
  if (auto at = j.find("artifactType"); at != j.end()) {
    if (!at->is_string()) return InvalidArgument("artifactType must be a string");
    m.artifact_type = at->get<std::string>();
  }
  if (m.artifact_type.empty() && m.kind == ManifestKind::kImage && m.config) {
    m.artifact_type = m.config->media_type;
  }
  if (auto an = j.find("annotations"); an != j.end() && !an->is_null()) {
    if (!an->is_object()) return InvalidArgument("annotations must be an object");
    m.annotations_json = an->dump();
  }
  return m;
}

}  // namespace dtr
