// Digest parsing and hashing: never crash, and what parses prints back the same.
#include <cstdint>
#include <string>

#include "core/digest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto d = dtr::Digest::Parse(s);
  if (d.ok() && d->str() != s) __builtin_trap();
  dtr::ComputeDigest(s);
  return 0;
}
