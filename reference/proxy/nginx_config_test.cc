// The generated nginx configuration carries what registry traffic needs, and refuses
// options that would make a broken or injectable file. (The CI test
// reference/tests/integration/nginx_test.sh runs the real nginx with it.)
#include "proxy/nginx_config.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace dtr::proxy {
namespace {

TEST(NginxConfigTest, RegistryEssentials) {
  NginxOptions o;
  o.upstreams = {"127.0.0.1:5001", "127.0.0.1:5002"};
  o.listen = "127.0.0.1:8080";
  auto conf = RenderNginxConfig(o);
  ASSERT_TRUE(conf.ok()) << conf.status().message();
  for (const char* want :
       {"server 127.0.0.1:5001 max_fails=3 fail_timeout=10s;", "server 127.0.0.1:5002",
        "listen 127.0.0.1:8080;", "client_max_body_size 0;", "proxy_request_buffering off;",
        "proxy_buffering off;", "proxy_http_version 1.1;", "proxy_set_header Connection \"\";",
        "proxy_set_header Host $http_host;", "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $http_host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_read_timeout 900s;",
        "proxy_send_timeout 900s;", "location = /_ping {", "stub_status;", "keepalive 64;",
        "pid nginx.pid;", "client_body_temp_path temp/"}) {
    EXPECT_NE(conf->find(want), std::string::npos) << want;
  }
  EXPECT_EQ(conf->find("ssl"), std::string::npos);
  // Balanced braces.
  EXPECT_EQ(std::count(conf->begin(), conf->end(), '{'),
            std::count(conf->begin(), conf->end(), '}'));
}

TEST(NginxConfigTest, Tls) {
  NginxOptions o;
  o.upstreams = {"127.0.0.1:5001"};
  o.tls_cert = "/etc/dtr/cert.pem";
  o.tls_key = "/etc/dtr/key.pem";
  auto conf = RenderNginxConfig(o);
  ASSERT_TRUE(conf.ok());
  for (const char* want :
       {"listen 0.0.0.0:443 ssl;", "listen 0.0.0.0:80;", "ssl_certificate /etc/dtr/cert.pem;",
        "ssl_certificate_key /etc/dtr/key.pem;", "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_session_cache shared:dtr_tls:10m;", "ssl_session_tickets on;"}) {
    EXPECT_NE(conf->find(want), std::string::npos) << want;
  }
}

TEST(NginxConfigTest, RefusesBadOptions) {
  NginxOptions none;
  EXPECT_FALSE(RenderNginxConfig(none).ok());
  NginxOptions o;
  o.upstreams = {"127.0.0.1:5001;} server { listen 1"};
  EXPECT_FALSE(RenderNginxConfig(o).ok());
  o.upstreams = {"127.0.0.1"};
  EXPECT_FALSE(RenderNginxConfig(o).ok());
  o.upstreams = {"127.0.0.1:5001"};
  o.tls_cert = "/a.pem";
  EXPECT_FALSE(RenderNginxConfig(o).ok());  // no key
  o.tls_key = "/a key.pem";
  EXPECT_FALSE(RenderNginxConfig(o).ok());
  o.tls_cert.clear();
  o.tls_key.clear();
  o.tls_listen = "0.0.0.0:443";
  EXPECT_FALSE(RenderNginxConfig(o).ok());  // TLS listener without a certificate
}

TEST(NginxConfigTest, Arguments) {
  NginxOptions o;
  std::string out;
  ASSERT_TRUE(ParseNginxConfigArgs(
                  {"--upstream", "127.0.0.1:1,127.0.0.1:2", "--upstream", "10.0.0.1:5000",
                   "--listen", "none", "--tls-listen", "127.0.0.1:8443", "--tls-cert", "c.pem",
                   "--tls-key", "k.pem", "--timeout", "60", "--out", "nginx.conf"},
                  &o, &out)
                  .ok());
  EXPECT_EQ(o.upstreams, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2", "10.0.0.1:5000"}));
  EXPECT_EQ(o.listen, "");
  EXPECT_EQ(o.tls_listen, "127.0.0.1:8443");
  EXPECT_EQ(o.upstream_timeout_s, 60);
  EXPECT_EQ(out, "nginx.conf");
  auto conf = RenderNginxConfig(o);
  ASSERT_TRUE(conf.ok());
  EXPECT_EQ(conf->find("listen 0.0.0.0:80"), std::string::npos);
  EXPECT_FALSE(ParseNginxConfigArgs({"--bogus"}, &o, &out).ok());
  EXPECT_FALSE(ParseNginxConfigArgs({"--upstream"}, &o, &out).ok());
  EXPECT_FALSE(ParseNginxConfigArgs({"--timeout", "soon"}, &o, &out).ok());
}

}  // namespace
}  // namespace dtr::proxy
