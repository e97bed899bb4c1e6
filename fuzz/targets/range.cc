// Range and Content-Range parsing: resolved ranges always lie inside the content.
#include <cstdint>
#include <string>

#include "core/range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint64_t content = (uint64_t{data[0]} << 8 | data[1]) * 97;
  std::string s(reinterpret_cast<const char*>(data + 2), size - 2);
  auto r = dtr::ResolveRangeHeader(s, content);
  if (r.ok() && r->has_value()) {
    if ((*r)->first > (*r)->last || (*r)->last >= content) __builtin_trap();
  }
  auto c = dtr::ParseContentRange(s);
  if (c.ok() && c->first > c->last) __builtin_trap();
  return 0;
}
