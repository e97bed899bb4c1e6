// Manifest and index parsing with each media type the registry accepts.
#include <cstdint>
#include <string>

#include "core/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"", "application/vnd.oci.image.manifest.v1+json",
                                 "application/vnd.oci.image.index.v1+json",
                                 "application/vnd.docker.distribution.manifest.v2+json",
                                 "application/vnd.docker.distribution.manifest.list.v2+json"};
  std::string type = kTypes[data[0] % 5];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto m = dtr::ParseManifest(type, body);
  if (m.ok()) {
    for (const auto& d : m->RequiredBlobs()) {
      if (d.empty()) __builtin_trap();  // every required blob has a valid digest
    }
  }
  return 0;
}
