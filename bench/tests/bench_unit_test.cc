// Unit tests of dtr-bench's parts: the histogram's accuracy, content digests, challenge
// parsing, and the HTTP client's framing against a scripted loopback server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "auth.h"
#include "content.h"
#include "http_client.h"
#include "stats.h"

namespace dtrb {
namespace {

TEST(Histogram, IndexRoundTrips) {
  for (uint64_t v :
       std::vector<uint64_t>{0, 1, 255, 256, 257, 1000, 123456789, uint64_t{1} << 40, UINT64_MAX}) {
    size_t i = Histogram::IndexOf(v);
    EXPECT_LE(Histogram::LowerBound(i), v) << v;
    EXPECT_GE(Histogram::UpperBound(i), v) << v;
  }
}

TEST(Histogram, QuantilesWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(13, 1.0);  // ~0.5 ms median, long tail
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto exact = static_cast<double>(values[static_cast<size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(static_cast<double>(h.Quantile(q)), exact, exact * 0.01) << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  Histogram merged;
  merged.Merge(h);
  merged.Merge(h);
  EXPECT_EQ(merged.count(), 2 * h.count());
  EXPECT_EQ(merged.Quantile(0.5), h.Quantile(0.5));
}

std::string ReadAll(const Body& b) {
  std::string out;
  while (out.size() < b.size()) out += b.Read(out.size(), 100000);
  return out;
}

TEST(BlobBody, DigestMatchesContentAndIsUnique) {
  Rng rng = SeededRng();
  for (uint64_t size : std::vector<uint64_t>{0, 1, 32, 33, 1000, (uint64_t{4} << 20) + 77}) {
    BlobBody a(size, rng), b(size, rng);
    std::string ca = ReadAll(a);
    ASSERT_EQ(ca.size(), size);
    EXPECT_EQ(Sha256Digest(ca), a.digest()) << size;
    if (size > 0) {
      EXPECT_NE(a.digest(), b.digest()) << size;
    }
    SliceBody slice(a, size / 3, size - size / 3);
    EXPECT_EQ(ReadAll(slice), ca.substr(size / 3));
  }
}

TEST(Auth, ParsesChallenges) {
  auto c = ParseChallenge(
      R"(Bearer realm="https://auth.example.com/token",service="registry",scope="repository:a/b:pull,push")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->Param("realm"), "https://auth.example.com/token");
  EXPECT_EQ(c->Param("scope"), "repository:a/b:pull,push");
  EXPECT_EQ(
      TokenUrl(*c, {"repository:a/b:pull,push"}),
      "https://auth.example.com/token?service=registry&scope=repository%3Aa%2Fb%3Apull%2Cpush");
  auto basic = ParseChallenge("Basic realm=\"Registry Realm\"");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_FALSE(ParseChallenge("Bearer realm=\"unterminated"));
  EXPECT_EQ(Base64("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(Base64("ab"), "YWI=");
}

TEST(Url, Parses) {
  Endpoint ep;
  std::string prefix, err;
  ASSERT_TRUE(ParseUrl("http://127.0.0.1:5000", &ep, &prefix, &err)) << err;
  EXPECT_EQ(ep.port, 5000);
  EXPECT_EQ(prefix, "");
  ASSERT_TRUE(ParseUrl("https://[::1]/registry/", &ep, &prefix, &err)) << err;
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, 443);
  EXPECT_EQ(prefix, "/registry");
  EXPECT_FALSE(ParseUrl("ftp://x", &ep, &prefix, &err));
  EXPECT_FALSE(ParseUrl("http://u:p@host", &ep, &prefix, &err));
  sockaddr_storage addr{};
  socklen_t len = 0;
  ASSERT_TRUE(ParseUrl("http://192.0.2.1:80", &ep, &prefix, &err));
  EXPECT_FALSE(ResolveEndpoint(ep, true, &addr, &len, &err));
  EXPECT_NE(err.find("--allow-remote"), std::string::npos);
}

// A loopback server that answers each request on a connection with the next canned answer.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  const std::vector<std::string>& requests() const { return requests_; }
  const std::vector<size_t>& body_sizes() const { return body_sizes_; }

 private:
  void Serve() {
    size_t next = 0;
    while (next < answers_.size()) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[65536];
      while (next < answers_.size()) {
        // Read one request head plus its Content-Length body.
        size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos) {
          ssize_t r = ::recv(c, buf, sizeof buf, 0);
          if (r <= 0) break;
          in.append(buf, static_cast<size_t>(r));
        }
        if (end == std::string::npos) break;
        auto more = [&]() {
          ssize_t r = ::recv(c, buf, sizeof buf, 0);
          if (r <= 0) return false;
          in.append(buf, static_cast<size_t>(r));
          return true;
        };
        size_t consumed = end + 4;
        if (in.find("Transfer-Encoding: chunked") < end) {
          body_sizes_.push_back(0);
          for (;;) {
            size_t eol;
            while ((eol = in.find("\r\n", consumed)) == std::string::npos) {
              if (!more()) return;
            }
            size_t n = std::stoul(in.substr(consumed, eol - consumed), nullptr, 16);
            while (in.size() < eol + 2 + n + 2) {
              if (!more()) return;
            }
            consumed = eol + 2 + n + 2;
            body_sizes_.back() += n;
            if (n == 0) break;
          }
        } else {
          size_t body = 0;
          if (auto p = in.find("Content-Length: "); p != std::string::npos && p < end) {
            body = std::stoul(in.substr(p + 16));
          }
          while (in.size() < end + 4 + body) {
            if (!more()) return;
          }
          consumed = end + 4 + body;
          body_sizes_.push_back(body);
        }
        requests_.push_back(in.substr(0, std::min<size_t>(consumed, end + 4 + 4096)));
        in.erase(0, consumed);
        const std::string& a = answers_[next++];
        EXPECT_EQ(::send(c, a.data(), a.size(), MSG_NOSIGNAL), static_cast<ssize_t>(a.size()));
        if (a.find("Connection: close") != std::string::npos) break;
      }
      ::close(c);
    }
  }
  std::vector<std::string> answers_;
  std::vector<std::string> requests_;
  std::vector<size_t> body_sizes_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

HttpClient MakeClient(int port, bool close = false) {
  Endpoint ep;
  std::string prefix, err;
  EXPECT_TRUE(ParseUrl("http://127.0.0.1:" + std::to_string(port), &ep, &prefix, &err));
  sockaddr_storage addr{};
  socklen_t len = 0;
  EXPECT_TRUE(ResolveEndpoint(ep, true, &addr, &len, &err));
  return HttpClient(ep, addr, len, ClientOptions{close, 5000, nullptr, "test", false});
}

TEST(HttpClient, FramesBodiesOnOneConnection) {
  ScriptedServer server({
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",  // HEAD: no body follows
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n",
      "HTTP/1.1 201 Created\r\nLocation: /v2/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  });
  HttpClient c = MakeClient(server.port());
  Response r;
  Error e;
  Request get;
  get.target = "/a";
  get.keep_body = true;
  ASSERT_TRUE(c.Do(get, &r, &e)) << e.detail;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  Request head;
  head.method = "HEAD";
  head.target = "/b";
  ASSERT_TRUE(c.Do(head, &r, &e)) << e.detail;
  EXPECT_EQ(r.body_bytes, 0u);
  EXPECT_EQ(r.Get("content-length"), "99");
  ASSERT_TRUE(c.Do(get, &r, &e)) << e.detail;
  EXPECT_EQ(r.body, "abcde");
  Request put;
  put.method = "PUT";
  put.target = "/c?digest=x";
  StringBody body("0123456789");
  put.body = &body;
  ASSERT_TRUE(c.Do(put, &r, &e)) << e.detail;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.Get("location"), "/v2/x");
  EXPECT_EQ(c.connections_opened(), 1u);
  ASSERT_EQ(server.requests().size(), 4u);
  EXPECT_NE(server.requests()[3].find("Content-Length: 10\r\n\r\n0123456789"), std::string::npos);
}

TEST(HttpClient, ChunkedUploadAndCloseMode) {
  ScriptedServer server({
      "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
  });
  HttpClient c = MakeClient(server.port(), true);
  Rng rng = SeededRng();
  BlobBody blob(3000000, rng);
  Request patch;
  patch.method = "PATCH";
  patch.target = "/u";
  patch.body = &blob;
  patch.chunked = true;
  Response r;
  Error e;
  ASSERT_TRUE(c.Do(patch, &r, &e)) << e.detail;
  EXPECT_EQ(r.sent_body_bytes, 3000000u);
  Request get;
  get.target = "/x";
  ASSERT_TRUE(c.Do(get, &r, &e)) << e.detail;
  EXPECT_EQ(c.connections_opened(), 2u);  // a new connection per request
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.body_sizes()[0], 3000000u);
  EXPECT_NE(server.requests()[1].find("Connection: close"), std::string::npos);
}

}  // namespace
}  // namespace dtrb
