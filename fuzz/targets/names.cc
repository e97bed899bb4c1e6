// Repository name and tag validation.
#include <cstdint>
#include <string>

#include "core/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto ok = dtr::ValidateRepositoryName(s).ok();
  // Accepted names are lowercase, bounded, and never hold "..", "//" or a leading '/'.
  if (ok && (s.size() > 255 || s.find("..") != std::string::npos ||
             s.find("//") != std::string::npos || s.front() == '/')) {
    __builtin_trap();
  }
  dtr::ValidateTag(s);
  return 0;
}
