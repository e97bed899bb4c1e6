#include "core/range.h"

#include <string>

namespace dtr {

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

Result<std::optional<ByteRange>> ResolveRangeHeader(std::string_view header, uint64_t size) {
  header = Trim(header);
  if (header.empty()) return std::optional<ByteRange>();
  if (header.substr(0, 6) != "bytes=") return std::optional<ByteRange>();
  std::string_view spec = Trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return InvalidArgument("Range must be bytes=<first>-<last>");
  std::string_view a = Trim(spec.substr(0, dash));
  std::string_view b = Trim(spec.substr(dash + 1));
  ByteRange r;
  if (a.empty()) {  // suffix range: the last N bytes
    auto n = ParseUint(b);
    if (!n) return InvalidArgument("Range suffix length is not a number");
    if (*n == 0 || size == 0) return Status(Code::kOutOfRange, "empty suffix range");
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
    return std::optional<ByteRange>(r);
  }
  auto first = ParseUint(a);
  if (!first) return InvalidArgument("Range start is not a number");
  r.first = *first;
  if (b.empty()) {
    r.last = size == 0 ? 0 : size - 1;
  } else {
    auto last = ParseUint(b);
    if (!last) return InvalidArgument("Range end is not a number");
    if (*last < *first) return InvalidArgument("Range end is before its start");
    r.last = *last >= size ? size - 1 : *last;
  }
  if (r.first >= size) {
    return Status(Code::kOutOfRange, "Range starts at byte " + std::to_string(r.first) +
                                         " but the content has " + std::to_string(size) + " bytes");
  }
  return std::optional<ByteRange>(r);
}

Result<ByteRange> ParseContentRange(std::string_view header) {
  std::string_view s = Trim(header);
  if (s.substr(0, 6) == "bytes ") s = Trim(s.substr(6));
  if (s.substr(0, 6) == "bytes=") s = Trim(s.substr(6));
  if (auto slash = s.find('/'); slash != std::string_view::npos) s = s.substr(0, slash);
  auto dash = s.find('-');
  if (dash == std::string_view::npos) {
    return InvalidArgument("Content-Range must be <start>-<end>");
  }
  auto first = ParseUint(Trim(s.substr(0, dash)));
  auto last = ParseUint(Trim(s.substr(dash + 1)));
  if (!first || !last) return InvalidArgument("Content-Range must be <start>-<end> in bytes");
  if (*last < *first) return InvalidArgument("Content-Range end is before its start");
  return ByteRange{*first, *last};
}

}  // namespace dtr
