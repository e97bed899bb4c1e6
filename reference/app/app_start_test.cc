// App::Start: what holds once a listener answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "app/app.h"
#include "tests/test_registry.h"

namespace dtr::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

bool Connects(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Scripts and operators take "the HTTP listener answers" to mean the reference is up, and
// then hand its TLS certificate to nginx or a client. So the certificate the reference's CA
// issues must be on disk before the first listener accepts a connection (it used to be
// issued after the plain listener had started).
TEST(AppStartTest, TlsCertificateExistsBeforeAnyListenerAccepts) {
  TempDir dir;
  app::Settings s = NoAuth();
  s.data_dir = dir.path() + "/data";
  s.access_log = false;
  int port = FreePort();
  int tls_port = FreePort();
  ASSERT_NE(port, 0);
  ASSERT_NE(tls_port, 0);
  s.listen = "127.0.0.1:" + std::to_string(port);
  s.tls_listen = "127.0.0.1:" + std::to_string(tls_port);
  auto opened = app::App::Open(s);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  const std::string cert = s.data_dir + "/ca/server.pem";
  ASSERT_FALSE(std::filesystem::exists(cert));

  // Polls the plain port until it accepts (bounded: 20 s), then looks for the certificate.
  std::atomic<bool> connected{false};
  std::atomic<bool> cert_seen{false};
  std::thread watcher([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Connects(port)) {
        cert_seen = std::filesystem::exists(cert);
        connected = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  Status started = opened.value()->Start();
  watcher.join();
  ASSERT_TRUE(started.ok()) << started.message();
  ASSERT_TRUE(connected) << "the plain listener never accepted";
  EXPECT_TRUE(cert_seen) << "the plain listener accepted before " << cert << " existed";
  EXPECT_TRUE(Connects(opened.value()->tls_port()));
  opened.value()->Stop();
}

}  // namespace
}  // namespace dtr::testing
