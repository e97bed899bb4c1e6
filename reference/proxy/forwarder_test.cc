// The forwarder between a real front and a real upstream http::Server on loopback: bodies
// streamed both ways, headers, keep-alive, retries, and the ways an upstream fails. A
// scripted raw upstream gives the answers an http::Server never does (chunked, ended by
// close, malformed, a kept-alive connection closed under a request).
#include "proxy/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/digest.h"
#include "core/range.h"
#include "http/server.h"

namespace dtr::proxy {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1 << 20;

// A deterministic 1 MiB block; large bodies repeat it.
const std::string& Block() {
  static const std::string block = [] {
    std::string s(kMiB, '\0');
    uint32_t x = 2463534242u;
    for (auto& ch : s) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      ch = static_cast<char>(x & 0xff);
    }
    return s;
  }();
  return block;
}

std::string PatternSha(uint64_t size) {
  Hasher h(DigestAlgorithm::kSha256);
  for (uint64_t left = size; left > 0;) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(left, Block().size()));
    h.Update(Block().data(), k);
    left -= k;
  }
  return h.Finish().str();
}

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool SendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A blocking loopback connection whose reads and writes give up after 20 s, so a broken
// test fails instead of hanging.
int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;  // when kept
  uint64_t body_size = 0;
  std::string sha;        // of the body
  bool complete = false;  // all of the declared body arrived

  std::string Header(std::string_view name) const { return headers.GetOr(name); }
};

// A plain HTTP/1.1 client on one connection.
class Client {
 public:
  explicit Client(int port) : fd_(ConnectLoopback(port)) {}
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view s) { return SendAll(fd_, s); }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // Sends `size` bytes of the pattern, as they are or in chunks of at most 300000 bytes;
  // `finish` = false leaves a chunked body without its last chunk.
  bool SendPattern(uint64_t size, bool chunked, bool finish = true) {
    for (uint64_t off = 0; off < size;) {
      size_t pos = static_cast<size_t>(off % kMiB);
      size_t k = static_cast<size_t>(std::min<uint64_t>({size - off, kMiB - pos, 300000}));
      char line[32];
      int len = std::snprintf(line, sizeof line, "%zx\r\n", k);
      if (chunked && !Send(std::string_view(line, static_cast<size_t>(len)))) return false;
      if (!Send(std::string_view(Block()).substr(pos, k))) return false;
      if (chunked && !Send("\r\n")) return false;
      off += k;
    }
    return !chunked || !finish || Send("0\r\n\r\n");
  }

  // Waits until what arrived contains `marker`, without consuming it.
  bool Await(std::string_view marker, int timeout_ms = 5000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buf_.find(marker) == std::string::npos) {
      if (!Fill(deadline)) return false;
    }
    return true;
  }

  // Reads one response (skipping 1xx ones); the body is hashed, and kept when asked.
  Reply Read(bool head_request = false, bool keep_body = true, int timeout_ms = 20000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Reply r;
    while (true) {
      size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill(deadline)) return r;
      }
      ResponseHead head;
      std::string why;
      if (!ParseResponseHead(std::string_view(buf_).substr(0, end), 200, &head, &why)) {
        ADD_FAILURE() << "bad response head from the front: " << why;
        return r;
      }
      buf_.erase(0, end + 4);
      if (head.status >= 200) {
        r.status = head.status;
        r.headers = std::move(head.headers);
        break;
      }
    }
    uint64_t length = 0;
    if (!head_request && r.status != 204 && r.status != 304) {
      length = ParseUint(r.Header("Content-Length")).value_or(0);
    }
    Hasher h(DigestAlgorithm::kSha256);
    while (r.body_size < length) {
      if (buf_.empty() && !Fill(deadline)) break;
      size_t k = static_cast<size_t>(std::min<uint64_t>(buf_.size(), length - r.body_size));
      h.Update(buf_.data(), k);
      if (keep_body) r.body.append(buf_, 0, k);
      buf_.erase(0, k);
      r.body_size += k;
    }
    r.complete = r.body_size == length;
    r.sha = h.Finish().str();
    return r;
  }

  // Whether the server closed the connection within timeout_ms.
  bool Closed(int timeout_ms = 5000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Fill(deadline)) buf_.clear();
    return eof_;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    tmp_.resize(256 * 1024);
    ssize_t n = ::recv(fd_, tmp_.data(), tmp_.size(), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp_.data(), static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buf_;
  std::vector<char> tmp_;
  bool eof_ = false;
};

// A hand-written upstream: accepts connections one after another and runs `script` on each
// (index counting from 0), for answers an http::Server never gives.
class RawUpstream {
 public:
  using Script = std::function<void(RawUpstream& up, int fd, int index)>;

  explicit RawUpstream(Script script) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_, 16) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "raw upstream cannot listen";
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      for (int index = 0; !stop_.load();) {
        pollfd p{listen_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        accepted_.fetch_add(1);
        script(*this, fd, index++);
        ::close(fd);
      }
    });
  }
  ~RawUpstream() {
    stop_.store(true);
    thread_.join();
    ::close(listen_);
  }
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  // The next request head on fd; "" at EOF or when the upstream stops. Requests here have
  // no body, and the forwarder sends the next only after the answer to this one.
  std::string ReadHead(int fd) {
    std::string buf;
    auto deadline = Clock::now() + 10s;
    while (buf.find("\r\n\r\n") == std::string::npos) {
      if (stop_.load() || Clock::now() > deadline) return "";
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf.append(tmp, static_cast<size_t>(n));
    }
    return buf;
  }
  // Answers every request on fd with `response` until the forwarder closes it.
  void ServeAll(int fd, std::string_view response) {
    while (!ReadHead(fd).empty()) {
      if (!SendAll(fd, response)) return;
    }
  }

  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// What the upstream saw, and what lets a stalled answer go.
struct UpstreamLog {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;             // lets /stall answer
  std::vector<std::string> bodies;  // what /record made of each request body

  bool WaitBodies(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return bodies.size() >= n; });
  }
};

constexpr char kDigest[] =
    "sha256:6e3b1ee0b0f2c1f1a2c8a3e7e3d5d3c9a7c6b3e2f4a1b0c9d8e7f6a5b4c3d2e1";

void Upstream(UpstreamLog* log, http::Request& req, http::Response& res) {
  if (req.path.rfind("/echo", 0) == 0) {
    // What arrived: method, target, base URL, every header, and the body's length and hash.
    Hasher h(DigestAlgorithm::kSha256);
    uint64_t size = 0;
    char buf[65536];
    while (true) {
      ssize_t n = req.body->Read(buf, sizeof buf);
      if (n < 0) {
        res.status = 400;
        res.body = "body error: " + req.body->error();
        return;
      }
      if (n == 0) break;
      h.Update(buf, static_cast<size_t>(n));
      size += static_cast<uint64_t>(n);
    }
    std::string out = "method: " + req.method + "\ntarget: " + req.target +
                      "\nbase: " + http::ExternalBaseUrl(req) +
                      "\nlength: " + std::to_string(size) + "\nsha256: " + h.Finish().str() + "\n";
    for (const auto& [k, v] : req.headers.items()) out += "header: " + k + ": " + v + "\n";
    res.headers.Set("Content-Type", "text/plain; charset=utf-8");
    res.body = out;
  } else if (req.path == "/blob") {
    uint64_t size = ParseUint(req.Query("size").value_or("0")).value_or(0);
    res.headers.Set("Content-Type", "application/octet-stream");
    res.headers.Set("Docker-Content-Digest", kDigest);
    res.SetStream(size, [size](http::BodyWriter& w) {
      for (uint64_t off = 0; off < size;) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(size - off, kMiB));
        if (!w.Write(Block().data(), k)) return false;
        off += k;
      }
      return true;
    });
  } else if (req.path == "/status") {
    res.status = static_cast<int>(ParseUint(req.Query("code").value_or("200")).value_or(200));
    if (res.status == 304) res.headers.Set("ETag", "\"v1\"");
  } else if (req.path == "/headers") {
    res.headers.Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json");
    res.headers.Set("Location", "/v2/library/alpine/blobs/uploads/0f2e?_state=a%2Fb%3D%3D&x=1");
    res.headers.Set("Range", "0-1048575");
    res.headers.Set("Docker-Content-Digest", kDigest);
    res.headers.Add("WWW-Authenticate",
                    "Bearer realm=\"https://dtr.example.com/auth/token\",service=\"dtr.example."
                    "com\",scope=\"repository:library/alpine:pull,push\"");
    res.headers.Add("WWW-Authenticate", "Basic realm=\"dtr\"");
    res.headers.Set("Keep-Alive", "timeout=5");
    res.headers.Set("Proxy-Authenticate", "Basic realm=\"proxy\"");
    res.body = "{}";
  } else if (req.path == "/stall") {
    std::unique_lock lock(log->mu);
    log->cv.wait_for(lock, 10s, [&] { return log->release; });
    res.body = "late";
  } else if (req.path == "/truncate") {
    // Promises 10 MiB, sends 1 MiB, then the server drops the connection.
    res.SetStream(10 * kMiB, [](http::BodyWriter& w) {
      w.Write(Block().data(), Block().size());
      return false;
    });
  } else if (req.path == "/record") {
    uint64_t size = 0;
    std::string outcome;
    char buf[65536];
    while (true) {
      ssize_t n = req.body->Read(buf, sizeof buf);
      if (n < 0) {
        outcome = "incomplete after " + std::to_string(size) + ": " + req.body->error();
        break;
      }
      if (n == 0) {
        outcome = "complete " + std::to_string(size);
        break;
      }
      size += static_cast<uint64_t>(n);
    }
    {
      std::lock_guard lock(log->mu);
      log->bodies.push_back(outcome);
    }
    log->cv.notify_all();
    res.status = 201;
  } else if (req.path == "/refuse") {
    // Answers before reading the body, as an auth check does.
    res.status = 401;
    res.headers.Set("WWW-Authenticate", "Bearer realm=\"https://dtr.example.com/auth/token\"");
    res.headers.Set("Content-Type", "application/json");
    res.body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
  } else {
    res.status = 404;
  }
}

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: dtr.test\r\n" + extra + "\r\n";
}

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// The peak resident set size of this process in KiB, and a way to start measuring it anew
// (false where the kernel does not allow it).
bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return f.good();
}
int64_t PeakRssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

class ForwarderTest : public ::testing::Test {
 protected:
  void StartUpstream(http::ServerOptions opt = {}) {
    opt.workers = 16;
    upstream_ = std::make_unique<http::Server>(
        opt, [this](http::Request& req, http::Response& res) { Upstream(&log_, req, res); });
    ASSERT_TRUE(upstream_->Start("127.0.0.1", 0).ok());
  }
  // A front whose every request goes to the upstream at `port` (default: upstream_).
  void StartFront(ForwarderOptions opt = {}, int port = 0) {
    if (port == 0) port = upstream_->port();
    forwarder_ = std::make_unique<Forwarder>("registry", "127.0.0.1", port, opt);
    http::ServerOptions so;
    so.workers = 16;
    front_ = std::make_unique<http::Server>(
        so, [this](http::Request& req, http::Response& res) { forwarder_->Forward(req, res); });
    ASSERT_TRUE(front_->Start("127.0.0.1", 0).ok());
  }
  void TearDown() override {
    {
      std::lock_guard lock(log_.mu);
      log_.release = true;
    }
    log_.cv.notify_all();
    if (front_) front_->Stop();
    if (upstream_) upstream_->Stop();
  }
  int front_port() const { return front_->port(); }
  uint64_t upstream_connections() const { return upstream_->stats().accepted.load(); }

  // Waits for the forwarder to have `n` idle connections (a streamed body returns its
  // connection just after its last byte went out).
  bool WaitIdle(size_t n) {
    for (int i = 0; i < 200 && forwarder_->idle_connections() != n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return forwarder_->idle_connections() == n;
  }

  UpstreamLog log_;
  std::unique_ptr<http::Server> upstream_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<http::Server> front_;
};

TEST_F(ForwarderTest, GetKeepsTargetAndQueryAsSent) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/echo/library%2Falpine/tags?n=10&last=a%2Bb&empty=&x")));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(
      Has(r.body, "method: GET\ntarget: /echo/library%2Falpine/tags?n=10&last=a%2Bb&empty=&x\n"))
      << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; charset=utf-8");
  // A GET without a body goes without framing headers.
  EXPECT_FALSE(Has(r.body, "header: Content-Length")) << r.body;
  EXPECT_FALSE(Has(r.body, "header: Transfer-Encoding")) << r.body;
}

TEST_F(ForwarderTest, StreamsLargeRequestBodiesByteForByte) {
  StartUpstream();
  StartFront();
  const uint64_t size = 50 * kMiB;
  const std::string sha = PatternSha(size);
  bool measure = ResetPeakRss();
  int64_t rss_before = PeakRssKiB();
  Client c(front_port());
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    for (bool chunked : {false, true}) {
      SCOPED_TRACE(std::string(method) + (chunked ? " chunked" : " with Content-Length"));
      std::string framing = chunked ? "Transfer-Encoding: chunked\r\n"
                                    : "Content-Length: " + std::to_string(size) + "\r\n";
      ASSERT_TRUE(c.Send(std::string(method) + " /echo/upload HTTP/1.1\r\nHost: dtr.test\r\n" +
                         framing + "\r\n"));
      ASSERT_TRUE(c.SendPattern(size, chunked));
      Reply r = c.Read();
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(Has(r.body, "method: " + std::string(method) + "\n")) << r.body;
      EXPECT_TRUE(Has(r.body, "length: " + std::to_string(size) + "\n")) << r.body;
      EXPECT_TRUE(Has(r.body, "sha256: " + sha + "\n")) << r.body;
      EXPECT_TRUE(Has(r.body, chunked ? "header: Transfer-Encoding: chunked\n"
                                      : "header: Content-Length: " + std::to_string(size)))
          << r.body;
    }
  }
  if (measure && rss_before > 0) {
    // Six 50 MiB bodies passed through this process (client, front and upstream): none of
    // them was held whole.
    int64_t grown_kib = PeakRssKiB() - rss_before;
    EXPECT_LT(grown_kib, 25 * 1024) << "peak RSS grew by " << grown_kib << " KiB";
  }
  EXPECT_EQ(upstream_connections(), 1u);
}

TEST_F(ForwarderTest, StreamsLargeResponseAndReusesItsConnection) {
  StartUpstream();
  StartFront();
  const uint64_t size = 100 * kMiB;
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/blob?size=" + std::to_string(size))));
  Reply r = c.Read(false, /*keep_body=*/false);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body_size, size);
  EXPECT_EQ(r.sha, PatternSha(size));
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(size));
  EXPECT_EQ(r.Header("Docker-Content-Digest"), kDigest);
  EXPECT_EQ(r.Header("Content-Type"), "application/octet-stream");

  ASSERT_TRUE(WaitIdle(1));
  ASSERT_TRUE(c.Send(Get("/echo")));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_EQ(upstream_connections(), 1u);
}

TEST_F(ForwarderTest, SetsForwardedHeadersOrKeepsAProxysOwn) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\nHost: registry.example.com:8443\r\n\r\n"));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "header: Host: registry.example.com:8443\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-For: 127.0.0.1\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-Proto: http\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-Host: registry.example.com:8443\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "base: http://registry.example.com:8443\n")) << r.body;

  // nginx in front of us: its view of the client wins, and the client's address is added.
  ASSERT_TRUE(c.Send(Get("/echo",
                         "X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\n"
                         "X-Forwarded-Proto: https\r\nX-Forwarded-Host: dtr.example.com\r\n")));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-For: 203.0.113.7, 10.0.0.2, 127.0.0.1\n")) << r.body;
  EXPECT_EQ(Count(r.body, "X-Forwarded-For"), 1u) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-Proto: https\n")) << r.body;
  EXPECT_EQ(Count(r.body, "X-Forwarded-Proto"), 1u) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-Host: dtr.example.com\n")) << r.body;
  EXPECT_EQ(Count(r.body, "X-Forwarded-Host"), 1u) << r.body;
  EXPECT_TRUE(Has(r.body, "base: https://dtr.example.com\n")) << r.body;
}

TEST_F(ForwarderTest, StripsHopByHopRequestHeaders) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/echo",
                         "Connection: keep-alive, X-Private\r\nX-Private: secret\r\n"
                         "Keep-Alive: timeout=5\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                         "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\n"
                         "Upgrade: websocket\r\nX-Kept: yes\r\nAuthorization: Bearer t\r\n")));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200);
  for (const char* gone :
       {"Connection", "X-Private", "Keep-Alive", "Proxy-", "TE:", "Trailer", "Upgrade", "secret"}) {
    EXPECT_FALSE(Has(r.body, gone)) << gone << " reached the upstream:\n" << r.body;
  }
  EXPECT_TRUE(Has(r.body, "header: X-Kept: yes\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: Authorization: Bearer t\n")) << r.body;

  // Host goes end to end whatever Connection claims.
  ASSERT_TRUE(c.Send(Get("/echo", "Connection: Host\r\n")));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "header: Host: dtr.test\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: X-Forwarded-Host: dtr.test\n")) << r.body;
}

TEST_F(ForwarderTest, ExpectIsAnsweredByTheFrontNotTheUpstream) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send(
      "PUT /echo HTTP/1.1\r\nHost: dtr.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  ASSERT_TRUE(c.Await("HTTP/1.1 100 Continue\r\n\r\n"));
  ASSERT_TRUE(c.Send("hello"));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "length: 5\n")) << r.body;
  EXPECT_TRUE(Has(r.body, "header: Content-Length: 5\n")) << r.body;
  EXPECT_FALSE(Has(r.body, "Expect")) << r.body;
}

TEST_F(ForwarderTest, KeepsEndToEndResponseHeadersExactly) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/headers")));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(r.Header("Location"), "/v2/library/alpine/blobs/uploads/0f2e?_state=a%2Fb%3D%3D&x=1");
  EXPECT_EQ(r.Header("Range"), "0-1048575");
  EXPECT_EQ(r.Header("Docker-Content-Digest"), kDigest);
  auto auth = r.headers.GetAll("WWW-Authenticate");
  ASSERT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth[0],
            "Bearer realm=\"https://dtr.example.com/auth/token\",service=\"dtr.example.com\","
            "scope=\"repository:library/alpine:pull,push\"");
  EXPECT_EQ(auth[1], "Basic realm=\"dtr\"");
  EXPECT_FALSE(r.headers.Has("Keep-Alive"));
  EXPECT_FALSE(r.headers.Has("Proxy-Authenticate"));
  EXPECT_EQ(r.body, "{}");
}

TEST_F(ForwarderTest, StripsHopByHopResponseHeaders) {
  RawUpstream up([](RawUpstream& u, int fd, int) {
    u.ServeAll(fd,
               "HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
               "Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nTrailer: X-T\r\n"
               "Content-Type: text/plain\r\nX-End: kept\r\nContent-Length: 2\r\n\r\nok");
  });
  StartFront({}, up.port());
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/")));
  Reply r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.Header("X-End"), "kept");
  EXPECT_EQ(r.Header("Content-Type"), "text/plain");
  for (const char* gone :
       {"Connection", "X-Hop", "Keep-Alive", "Proxy-Authenticate", "Upgrade", "Trailer"}) {
    EXPECT_FALSE(r.headers.Has(gone)) << gone;
  }
}

TEST_F(ForwarderTest, HeadNoContentAndNotModifiedHaveNoBody) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send("HEAD /blob?size=12345 HTTP/1.1\r\nHost: dtr.test\r\n\r\n"));
  Reply r = c.Read(/*head_request=*/true);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Length"), "12345");  // the upstream's, for the body not sent
  EXPECT_EQ(r.Header("Docker-Content-Digest"), kDigest);

  ASSERT_TRUE(c.Send(Get("/status?code=204")));
  r = c.Read();
  EXPECT_EQ(r.status, 204);
  ASSERT_TRUE(c.Send(Get("/status?code=304", "If-None-Match: \"v1\"\r\n")));
  r = c.Read();
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.Header("ETag"), "\"v1\"");

  // Both hops are still in step: no body byte was expected or left behind.
  ASSERT_TRUE(c.Send(Get("/echo?after")));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "target: /echo?after\n")) << r.body;
  EXPECT_EQ(upstream_connections(), 1u);
}

TEST_F(ForwarderTest, BuffersChunkedResponseAndReusesTheConnection) {
  RawUpstream up([](RawUpstream& u, int fd, int) {
    u.ServeAll(fd,
               "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
               "\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  });
  StartFront({}, up.port());
  Client c(front_port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/")));
    Reply r = c.Read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello world");
    EXPECT_EQ(r.Header("Content-Length"), "11");
    EXPECT_EQ(r.Header("Content-Type"), "text/plain");
    EXPECT_FALSE(r.headers.Has("Transfer-Encoding"));
    EXPECT_FALSE(r.headers.Has("X-Trailer"));
  }
  EXPECT_EQ(up.accepted(), 1);
}

TEST_F(ForwarderTest, ChunkedResponseOverTheLimitIs502) {
  RawUpstream up([](RawUpstream& u, int fd, int) {
    u.ServeAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                       std::string(2048, 'x') + "\r\n0\r\n\r\n");
  });
  ForwarderOptions opt;
  opt.max_buffered_chunked = 1024;
  StartFront(opt, up.port());
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/")));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(Has(r.body, "larger than 1024 bytes")) << r.body;
}

TEST_F(ForwarderTest, RelaysResponseEndedByClose) {
  RawUpstream up([](RawUpstream& u, int fd, int) {
    if (!u.ReadHead(fd).empty()) {
      SendAll(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    }
  });
  StartFront({}, up.port());
  Client c(front_port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.Send(Get("/")));
    Reply r = c.Read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "until the end");
    EXPECT_EQ(r.Header("Content-Length"), "13");
  }
  EXPECT_EQ(up.accepted(), 2);  // such a connection cannot be reused
}

TEST_F(ForwarderTest, MalformedResponseIs502) {
  const std::vector<std::string> answers = {
      "SSH-2.0-OpenSSH_9.0\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
  };
  RawUpstream up([&](RawUpstream& u, int fd, int index) {
    auto i = static_cast<size_t>(index);
    if (i < answers.size() && !u.ReadHead(fd).empty()) SendAll(fd, answers[i]);
  });
  StartFront({}, up.port());
  for (size_t i = 0; i < answers.size(); ++i) {
    SCOPED_TRACE(answers[i].substr(0, 60));
    Client c(front_port());
    ASSERT_TRUE(c.Send(Get("/")));
    Reply r = c.Read();
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_TRUE(
        Has(r.body, R"({"errors":[{"code":"UNAVAILABLE","message":"registry at 127.0.0.1:)"))
        << r.body;
  }
}

TEST_F(ForwarderTest, UpstreamDownIs502NamingIt) {
  // A bound socket that does not listen: connections to its port are refused.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  int port = ntohs(a.sin_port);
  StartFront({}, port);
  Client c(front_port());
  auto start = Clock::now();
  ASSERT_TRUE(c.Send(Get("/v2/")));
  Reply r = c.Read();
  EXPECT_LT(MillisSince(start), 2000);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"errors":[{"code":"UNAVAILABLE","message":"registry at 127.0.0.1:)" +
                        std::to_string(port) + R"(: cannot connect: Connection refused"}]})");
  ::close(fd);
}

TEST_F(ForwarderTest, ConnectTimeoutIs504) {
  // A listener that never accepts, its queue full: the kernel drops further SYNs.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)::connect(f, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(f);
  }
  std::this_thread::sleep_for(50ms);
  ForwarderOptions opt;
  opt.connect_timeout = 300ms;
  StartFront(opt, ntohs(a.sin_port));
  Client c(front_port());
  auto start = Clock::now();
  ASSERT_TRUE(c.Send(Get("/v2/")));
  Reply r = c.Read();
  int64_t took = MillisSince(start);
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_TRUE(Has(r.body, "cannot connect: timed out after 300 ms")) << r.body;
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 2000);
  for (int f : fillers) ::close(f);
  ::close(fd);
}

TEST_F(ForwarderTest, StalledUpstreamIs504WithinTheTimeout) {
  StartUpstream();
  ForwarderOptions opt;
  opt.io_timeout = 300ms;
  StartFront(opt);
  Client c(front_port());
  auto start = Clock::now();
  ASSERT_TRUE(c.Send(Get("/stall")));
  Reply r = c.Read();
  int64_t took = MillisSince(start);
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_TRUE(Has(r.body, "registry at 127.0.0.1:" + std::to_string(upstream_->port()) +
                              ": waiting for the response: timed out after 300 ms"))
      << r.body;
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 2000);
}

TEST_F(ForwarderTest, ReusesUpstreamConnections) {
  StartUpstream();
  StartFront();
  for (int client = 0; client < 4; ++client) {
    Client c(front_port());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(c.Send(Get("/echo?i=" + std::to_string(i))));
      EXPECT_EQ(c.Read().status, 200);
    }
  }
  EXPECT_EQ(upstream_->stats().requests.load(), 20u);
  EXPECT_EQ(upstream_connections(), 1u);
  EXPECT_EQ(forwarder_->idle_connections(), 1u);
}

TEST_F(ForwarderTest, ConcurrentRequestsShareThePool) {
  StartUpstream();
  StartFront();
  constexpr int kThreads = 8, kRequests = 20;
  const std::string sha = PatternSha(kMiB);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client c(front_port());
      for (int i = 0; i < kRequests; ++i) {
        bool blob = (i + t) % 2 == 0;  // a streamed body, or a small one read at once
        std::string target = blob ? "/blob?size=1048576" : "/echo?t=" + std::to_string(t);
        if (!c.Send(Get(target))) return;
        Reply r = c.Read(false, !blob);
        bool good =
            r.status == 200 && (blob ? r.sha == sha : Has(r.body, "target: " + target + "\n"));
        if (good) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  // At most one connection per client in flight, and one a streamed body has not yet
  // returned while its client already asks again.
  EXPECT_LE(upstream_connections(), static_cast<uint64_t>(2 * kThreads));
}

TEST_F(ForwarderTest, ReplacesAConnectionTheUpstreamClosedWhileIdle) {
  http::ServerOptions opt;
  opt.keepalive_timeout_ms = 100;
  StartUpstream(opt);
  StartFront();
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/echo?1")));
  EXPECT_EQ(c.Read().status, 200);
  std::this_thread::sleep_for(400ms);  // the upstream closes the pooled connection
  ASSERT_TRUE(c.Send(Get("/echo?2")));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_EQ(upstream_connections(), 2u);
}

TEST_F(ForwarderTest, RetriesWhenAPooledConnectionDiesUnderARequest) {
  // The first connection answers once, then takes the next request and closes without a
  // word: the race between reusing a connection and the upstream giving it up.
  RawUpstream up([](RawUpstream& u, int fd, int index) {
    if (index == 0) {
      if (u.ReadHead(fd).empty()) return;
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
      u.ReadHead(fd);
      return;
    }
    u.ServeAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
  });
  StartFront({}, up.port());
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/")));
  EXPECT_EQ(c.Read().body, "first");
  ASSERT_TRUE(c.Send(Get("/")));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "fresh");
  EXPECT_EQ(up.accepted(), 2);
}

TEST_F(ForwarderTest, NeverRetriesOnceBodyBytesWereTaken) {
  RawUpstream up([](RawUpstream& u, int fd, int index) {
    if (index == 0) {
      if (u.ReadHead(fd).empty()) return;
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
      u.ReadHead(fd);
      return;
    }
    u.ServeAll(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  StartFront({}, up.port());
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/")));
  EXPECT_EQ(c.Read().body, "first");
  ASSERT_TRUE(
      c.Send("POST /upload HTTP/1.1\r\nHost: dtr.test\r\nContent-Length: 10\r\n\r\n"
             "0123456789"));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_TRUE(Has(r.body, "registry at 127.0.0.1:")) << r.body;
  EXPECT_EQ(up.accepted(), 1);
}

TEST_F(ForwarderTest, ClientBodyEndingEarlyNeverReachesTheUpstreamWhole) {
  StartUpstream();
  StartFront();
  for (bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "with Content-Length");
    Client c(front_port());
    std::string framing = chunked ? "Transfer-Encoding: chunked\r\n"
                                  : "Content-Length: " + std::to_string(10 * kMiB) + "\r\n";
    ASSERT_TRUE(c.Send("PUT /record HTTP/1.1\r\nHost: dtr.test\r\n" + framing + "\r\n"));
    // 2 MiB of the body; a chunked one in whole chunks but without its last one.
    ASSERT_TRUE(c.SendPattern(2 * kMiB, chunked, /*finish=*/false));
    c.ShutdownWrite();
    Reply r = c.Read();
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Has(r.body, "the request body could not be read")) << r.body;
    EXPECT_TRUE(Has(r.body, "it was not forwarded to registry")) << r.body;
  }
  ASSERT_TRUE(log_.WaitBodies(2, 5s));
  std::lock_guard lock(log_.mu);
  for (const auto& b : log_.bodies) EXPECT_EQ(b.rfind("incomplete", 0), 0u) << b;
}

TEST_F(ForwarderTest, UpstreamClosingMidBodyCutsTheClientOff) {
  StartUpstream();
  StartFront();
  {
    Client c(front_port());
    ASSERT_TRUE(c.Send(Get("/truncate")));
    Reply r = c.Read(false, /*keep_body=*/false, 5000);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(10 * kMiB));
    EXPECT_FALSE(r.complete);
    EXPECT_LT(r.body_size, 10 * kMiB);
    EXPECT_TRUE(c.Closed());
  }
  EXPECT_EQ(forwarder_->idle_connections(), 0u);
  Client c(front_port());
  ASSERT_TRUE(c.Send(Get("/echo")));
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(ForwarderTest, RelaysAnAnswerGivenBeforeTheBodyWasRead) {
  StartUpstream();
  StartFront();
  Client c(front_port());
  const uint64_t size = 16 * kMiB;
  std::thread sender([&] {
    if (c.Send("PUT /refuse HTTP/1.1\r\nHost: dtr.test\r\nContent-Length: " + std::to_string(size) +
               "\r\n\r\n")) {
      c.SendPattern(size, false);  // the front stops reading part way: a failure is fine
    }
  });
  Reply r = c.Read();
  sender.join();
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"https://dtr.example.com/auth/token\"");
  EXPECT_TRUE(Has(r.body, "UNAUTHORIZED")) << r.body;
}

TEST(ParseResponseHead, AcceptsWellFormedHeads) {
  ResponseHead h;
  std::string why;
  ASSERT_TRUE(ParseResponseHead("HTTP/1.1 201 Created\r\nLocation: /v2/x\r\nContent-Length: 0", 100,
                                &h, &why))
      << why;
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.headers.GetOr("location"), "/v2/x");

  ASSERT_TRUE(ParseResponseHead("HTTP/1.0 204", 100, &h, &why)) << why;
  EXPECT_EQ(h.status, 204);
  EXPECT_EQ(h.version_minor, 0);
  ASSERT_TRUE(ParseResponseHead("HTTP/1.1 404 \r\nX:  padded  ", 100, &h, &why)) << why;
  EXPECT_EQ(h.headers.GetOr("X"), "padded");
}

TEST(ParseResponseHead, RejectsWhatCouldBeReadTwoWays) {
  for (const char* bad : {
           "",
           "HTTP/1.1",
           "HTTP/1.1 20 OK",
           "HTTP/1.1 2000 OK",
           "HTTP/1.1 099 Low",
           "HTTP/1.1 600 High",
           "HTTP/2.0 200 OK",
           "HTTP/1.1  200 OK",
           "http/1.1 200 OK",
           "HTTP/1.1 200 OK\r\n folded: x",
           "HTTP/1.1 200 OK\r\nNo-Colon",
           "HTTP/1.1 200 OK\r\nX: a\x01",
           "HTTP/1.1 200 OK\r\nContent-Length: -1",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3",
       }) {
    ResponseHead h;
    std::string why;
    EXPECT_FALSE(ParseResponseHead(bad, 100, &h, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  ResponseHead h;
  std::string why;
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3", 2, &h, &why));
}

}  // namespace
}  // namespace dtr::proxy
