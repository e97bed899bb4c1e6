// HTTP/1.1 request head parsing, framing checks and chunk-size lines.
#include <cstdint>
#include <string>

#include "http/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  dtr::http::Request req;
  dtr::http::ParseError err;
  dtr::http::HeadLimits limits;
  if (dtr::http::ParseRequestHead(s, limits, &req, &err)) {
    // A request accepted here is never ambiguous about its body.
    if (req.headers.Has("Transfer-Encoding") && req.headers.Has("Content-Length")) __builtin_trap();
    dtr::http::FramingOf(req);
  } else if (err.status < 400 || err.status > 599) {
    __builtin_trap();
  }
  dtr::http::ParseChunkSizeLine(s);
  return 0;
}
