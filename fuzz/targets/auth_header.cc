// WWW-Authenticate challenges and Authorization headers.
#include <cstdint>
#include <string>

#include "auth/http_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  dtr::auth::ParseChallenges(s);
  dtr::auth::ParseAuthorization(s);
  return 0;
}
