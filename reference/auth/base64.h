// Base64 as RFC 4648 defines it: the standard alphabet with padding (HTTP Basic auth, password
// hashes) and the URL-safe alphabet without padding (JWT segments, random tokens). Decoding is
// strict: it rejects characters outside the alphabet, wrong padding and non-zero trailing bits,
// so every value has exactly one accepted encoding.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::auth {

// Bytes travel in std::string; they need not be text.
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::string_view data);
// Rejects '=' padding: JOSE (RFC 7515 section 2) forbids it.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace dtr::auth
