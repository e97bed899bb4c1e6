// Parsing of an HTTP/1.1 request head (request line and header fields), and of chunked
// transfer coding. Pure functions over bytes, so the fuzzers can reach them without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace dtr::http {

struct ParseError {
  int status = 400;  // the HTTP status to answer with
  std::string message;
};

struct HeadLimits {
  size_t max_target = 8192;
  size_t max_headers = 100;
};

// Parses `head` (everything before the blank line that ends it) into `req`: method,
// target, path, query, version and headers. Also checks the framing headers
// (Content-Length, Transfer-Encoding). Returns false and fills `err` on bad input.
bool ParseRequestHead(std::string_view head, const HeadLimits& limits, Request* req,
                      ParseError* err);

// How the request body is framed.
struct BodyFraming {
  bool chunked = false;
  uint64_t length = 0;  // when not chunked
};
BodyFraming FramingOf(const Request& req);

// Parses a chunk-size line (without CRLF): hex size, optional extensions.
std::optional<uint64_t> ParseChunkSizeLine(std::string_view line);

// Splits a target into path and query and percent-decodes both.
void SplitTarget(std::string_view target, Request* req);

}  // namespace dtr::http
