// The front's way to a DTR component running as its own process (`dtr registry`, `dtr api`,
// ...): a streaming HTTP/1.1 reverse proxy to one upstream host:port, what nginx's
// proxy_pass is to the dtr-nginx container.
//
// It promises: request bodies stream to the upstream and large response bodies stream back,
// each through one bounded buffer (layers are GBs); hop-by-hop headers stay on their hop;
// the upstream learns the client's address, scheme and host from X-Forwarded-*; idle
// upstream connections are reused; and an upstream that is down, slow or broken gets the
// client a JSON error naming the component within the timeouts, never a hang.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.h"

namespace dtr::proxy {

struct ForwarderOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // Longest wait for any one read or write on the upstream socket, and for a response head.
  std::chrono::milliseconds io_timeout{300000};
  size_t max_idle = 32;  // idle keep-alive connections kept for reuse
  // A response without Content-Length (chunked, or ended by close) is buffered to learn its
  // length; one larger than this is answered with 502.
  size_t max_buffered_chunked = 64 << 20;
};

// An upstream's response head (status line and header fields).
struct ResponseHead {
  int status = 0;
  int version_minor = 1;  // HTTP/1.x
  http::Headers headers;
};

// Parses `head` (everything before the blank line that ends it) of an HTTP/1.x response,
// with at most `max_headers` fields, and checks its framing headers. Returns false with
// `why` on input that could be read more than one way. Pure, for tests and fuzzers.
bool ParseResponseHead(std::string_view head, size_t max_headers, ResponseHead* out,
                       std::string* why);

class Forwarder {
 public:
  // `name` names the component in error messages ("registry at 10.0.0.5:5000: ...").
  Forwarder(std::string name, std::string host, int port, ForwarderOptions opt = {});
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Sends `req` to the upstream and fills `res` with its answer. Safe to call from many
  // threads at once. A large response body is left in res.stream, reading from the upstream
  // as the server writes it; it may outlive this Forwarder.
  void Forward(http::Request& req, http::Response& res);

  const std::string& name() const { return name_; }
  // Idle connections in the pool now (for /metrics and tests).
  size_t idle_connections() const;

  // Idle connections, shared with the response streams that return theirs (forwarder.cc).
  struct Pool;

 private:
  std::string name_;
  std::string host_;
  int port_;
  ForwarderOptions opt_;
  std::shared_ptr<Pool> pool_;
};

}  // namespace dtr::proxy
