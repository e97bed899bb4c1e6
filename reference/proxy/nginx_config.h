// `dtr nginx-config`: an nginx configuration for the production layout, where nginx is
// the front door and one or more `dtr serve` replicas are its upstreams. It carries what
// registry traffic needs (see spec/real-backends.md): request and response bodies streamed
// both ways (no buffering, no size limit), HTTP/1.1 with keep-alive to the upstreams, long
// timeouts for big layers, X-Forwarded-Proto/Host/For so the reference builds absolute
// Location headers and token realms that point at nginx, and /_ping for load balancers.
// Paths (pid, logs, temp files) are relative to nginx's prefix (-p), so it runs without
// touching /etc or /var.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::proxy {

struct NginxOptions {
  std::vector<std::string> upstreams;  // host:port of each replica's plain HTTP listener
  std::string listen = "0.0.0.0:80";   // plain HTTP; "" for none
  std::string tls_listen;              // HTTPS; defaults to 0.0.0.0:443 with a certificate
  std::string tls_cert, tls_key;       // PEM files nginx presents
  std::string server_name = "_";
  int worker_connections = 4096;
  int upstream_timeout_s = 900;  // read and send timeouts: a slow client pushing a big layer
  bool stub_status = true;       // nginx's own /nginx_status, from 127.0.0.1 only
};

// Checks the options (at least one upstream, certificate and key together, addresses
// well formed) and renders nginx.conf.
Result<std::string> RenderNginxConfig(const NginxOptions& options);

// Parses `dtr nginx-config` flags into options and the output path ("" = stdout).
Status ParseNginxConfigArgs(const std::vector<std::string>& args, NginxOptions* options,
                            std::string* out_path);

extern const char kNginxConfigUsage[];

}  // namespace dtr::proxy
