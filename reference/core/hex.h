// Lowercase hexadecimal, the form digests, SigV4 signatures, TUF hashes and our secrets use.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dtr {

inline std::string HexLower(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

inline std::string HexLower(std::string_view data) {
  return HexLower(reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

}  // namespace dtr
