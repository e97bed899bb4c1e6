// Byte encodings TUF metadata uses, with Go's decoding rules: standard base64 with padding
// (line breaks inside are skipped, as Go's decoder does), lowercase hex, and PEM blocks
// (Go's encoding/pem: the first block wins; encoding writes 64-column lines).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::tuf {

std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);
Result<std::string> HexDecode(std::string_view text);

struct PemBlock {
  std::string type;
  std::string bytes;
};

// Every PEM block in `text`, in order. Text between blocks is ignored.
std::vector<PemBlock> PemDecodeAll(std::string_view text);
std::string PemEncode(std::string_view type, std::string_view der);

}  // namespace dtr::tuf
