// Byte ranges: the `Range` request header of blob GETs (RFC 9110, one range) and the
// `Content-Range` header of chunked upload PATCHes (the OCI spec's `<start>-<end>`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace dtr {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

// Resolves a `Range` header against content of `size` bytes.
//   nullopt value: the header is absent, not a bytes range, or asks for several ranges;
//                  serve the whole content (RFC 9110 lets a server ignore Range).
//   kOutOfRange:   no part of the range is satisfiable (answer 416).
//   kInvalidArgument: syntactically broken.
Result<std::optional<ByteRange>> ResolveRangeHeader(std::string_view header, uint64_t size);

// Parses an upload chunk's `Content-Range`: "<start>-<end>", also "bytes <start>-<end>" and
// an optional "/<total>" suffix, as clients send both.
Result<ByteRange> ParseContentRange(std::string_view header);

// Parses a non-negative decimal integer that fits in 63 bits; nullopt otherwise.
std::optional<uint64_t> ParseUint(std::string_view s);

}  // namespace dtr
