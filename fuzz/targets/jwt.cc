// JWT verification: arbitrary tokens never verify against our key, and never crash.
#include <cstdint>
#include <string>

#include "auth/jwt.h"
#include "auth/signing_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dtr::auth::SigningKey key = dtr::auth::SigningKey::Generate().value();
  std::string token(reinterpret_cast<const char*>(data), size);
  dtr::auth::VerifyOptions opt;
  opt.issuer = "dtr-reference";
  opt.audience = "dtr";
  if (dtr::auth::Verify(token, key.public_key(), opt).ok()) __builtin_trap();
  dtr::auth::ParseUnverified(token);
  return 0;
}
