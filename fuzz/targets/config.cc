// The YAML configuration file (distribution's config.yml format).
#include <cstdint>
#include <string>

#include "app/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  dtr::app::Settings settings;
  dtr::app::ApplyYaml(s, &settings);
  dtr::app::ParseDuration(s);
  std::string host;
  int port;
  dtr::app::SplitHostPort(s, &host, &port);
  return 0;
}
