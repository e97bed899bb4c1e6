// Token-spec scopes and the access claim: what parses formats and parses back the same.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/scope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto scopes = dtr::auth::ParseScopes({s});
  if (scopes.ok()) {
    auto again = dtr::auth::ParseScopes({dtr::auth::FormatScopes(*scopes)});
    if (!again.ok() || *again != *scopes) __builtin_trap();
  }
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_discarded()) dtr::auth::ParseAccessClaim(j);
  return 0;
}
