// An HTTP/1.1 server: one epoll thread watches the listening socket and idle keep-alive
// connections, a fixed pool of workers runs requests. Connections waiting between requests
// hold no worker, every read and write has a deadline, and the number of connections and
// the size of request heads are bounded, so slow or idle clients cannot starve others.
// A connection that is waiting for more bytes of a request head or of a TLS handshake is
// parked in epoll too, with a deadline, so a slowloris client holds no worker either.
//
// With ServerOptions::tls the port speaks HTTPS: the handshake runs without blocking a
// worker and must finish within handshake_timeout_ms; a plain HTTP request there gets a
// plain-text 400 naming the mistake, and anything else that is not TLS is cut off.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/message.h"
#include "http/tls.h"

namespace dtr::http {

struct ServerOptions {
  int workers = 64;
  int max_connections = 4096;
  size_t max_head_bytes = 64 * 1024;
  size_t max_target_bytes = 8192;
  size_t max_header_fields = 100;
  // From the first byte of a request to the end of its head; also how long a new
  // connection may wait before sending anything.
  int head_timeout_ms = 10000;
  int body_idle_timeout_ms = 60000;  // longest silence inside a body, either direction
  int keepalive_timeout_ms = 30000;  // idle connection between requests
  // After a response that closes the connection, how long input is still read and thrown
  // away (so that closing does not reset the connection before the client has the answer).
  int linger_ms = 500;
  // HTTPS when set. The context can be reloaded while the server runs.
  std::shared_ptr<TlsContext> tls;
  int handshake_timeout_ms = 10000;  // from accept to the end of the TLS handshake
  // How often to look for changed certificate files (0: never; Reload is still possible).
  int tls_reload_check_ms = 1000;
  // Notable events for the log (certificate reloaded, reload failed, a handler that threw).
  std::function<void(const std::string&)> on_event;
  // Renders an error the server itself detected (malformed request, limits) into `res`.
  std::function<void(int status, const std::string& message, Response& res)> error_renderer;
  // Called after each response is written (access logs, metrics).
  std::function<void(const Request&, const Response&, uint64_t bytes_in, uint64_t bytes_out,
                     double seconds)>
      on_complete;
};

struct ServerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rejected{0};    // refused: too many connections
  std::atomic<uint64_t> waiting{0};     // parked in epoll (idle, or between bytes of a head)
  std::atomic<uint64_t> timeouts{0};    // closed by a head, handshake or keep-alive deadline
  std::atomic<uint64_t> handshakes{0};  // TLS handshakes completed
  std::atomic<uint64_t> resumed{0};     // ... of which resumed a session
  std::atomic<uint64_t> handshake_failures{0};  // not TLS, bad TLS, or a refused certificate
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0 picks a free one) and starts serving in background threads.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // Stops accepting, lets running requests finish, closes connections.
  void Stop();
  const ServerStats& stats() const { return stats_; }
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  ServerStats stats_;
};

}  // namespace dtr::http
