// The HTTP server on a real socket: framing, keep-alive, pipelining, 100-continue, limits
// and the timeouts that keep slow or hostile clients from holding it.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace dtr::http {
namespace {

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size());
  }
  // Reads until `marker` appears, EOF, or timeout; returns everything read.
  std::string ReadUntil(const std::string& marker, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buf_.find(marker) == std::string::npos) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) break;
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    std::string out = buf_;
    buf_.clear();
    return out;
  }
  // True when the server closed the connection within timeout_ms.
  bool ClosedWithin(int timeout_ms) {
    ReadUntil("\x01never\x01", timeout_ms);
    return eof_;
  }

 private:
  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

// Echoes the request body, or refuses without reading it when the path says so.
void Echo(Request& req, Response& res) {
  if (req.path == "/throw") throw std::runtime_error("secret detail");
  if (req.path == "/refuse") {
    res.status = 413;
    res.body = "no";
    return;
  }
  std::string body;
  char buf[4096];
  while (true) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n < 0) {
      res.status = 400;
      res.body = "body error: " + req.body->error();
      return;
    }
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  res.body = req.method + " " + req.path + " " + std::to_string(body.size()) + ":" + body;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions opt = {}) {
    opt.workers = 4;
    server_ = std::make_unique<Server>(opt, Echo);
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
  }
  int port() { return server_->port(); }
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveAndPipelining) {
  StartServer();
  Client c(port());
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("GET /a 0:").find("200 OK"), std::string::npos);
  c.Send(
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  std::string both = c.ReadUntil("GET /c 0:");
  EXPECT_NE(both.find("POST /b 3:abc"), std::string::npos) << both;
  EXPECT_NE(both.find("GET /c 0:"), std::string::npos) << both;
}

// After answering with Connection: close the server reads and discards for linger_ms so
// the client gets the answer, not a reset; that waiting must not hold a worker. Every
// worker (4 here) answers a client that then keeps its end open and sends more; another
// client is still served at once, and each lingering one is closed once it is time.
TEST_F(ServerTest, LingeringAfterCloseHoldsNoWorker) {
  ServerOptions opt;
  opt.linger_ms = 3000;
  StartServer(opt);
  std::vector<std::unique_ptr<Client>> stay;
  for (int i = 0; i < 4; ++i) {
    stay.push_back(std::make_unique<Client>(port()));
    stay.back()->Send("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(stay.back()->ReadUntil("GET /bye 0:").find("200 OK"), std::string::npos);
    stay.back()->Send(std::string(100000, 'z'));  // discarded, not answered with a reset
  }
  auto asked = std::chrono::steady_clock::now();
  Client next(port());
  next.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(next.ReadUntil("GET /next 0:").find("200 OK"), std::string::npos);
  // Served while all four still linger (they are closed 3 s after their answers).
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(1500));
  EXPECT_EQ(server_->stats().active.load(), 5u);
  for (int i = 0; i < 80 && server_->stats().active.load() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(server_->stats().active.load(), 1u);    // the four are closed, `next` stays
  EXPECT_EQ(server_->stats().timeouts.load(), 0u);  // lingering is not a timeout
}

TEST_F(ServerTest, ChunkedRequestBody) {
  StartServer();
  Client c(port());
  c.Send(
      "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("world").find("PATCH /up 11:hello world"), std::string::npos);
}

TEST_F(ServerTest, ChunkedBodySplitAtAwkwardBoundaries) {
  StartServer();
  Client c(port());
  std::string big(100000, 'a'), mid(70001, 'b');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('c' + i % 13);
  std::string body = big + "x" + mid + "END!";
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx", mid.size() + 4);
  // Every send ends somewhere awkward: in a size line, between CR and LF, in chunk data,
  // before the CRLF after the data, inside the last chunk and the trailers.
  std::vector<std::string> sends = {
      "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1",
      "86a0\r",
      "\n" + big.substr(0, 65535),
      big.substr(65535),
      "\r",
      "\n1\r\nx",
      "\r\n" + std::string(size_line).substr(0, 2),
      std::string(size_line).substr(2) + ";ext=1\r\n" + mid.substr(0, 3),
      mid.substr(3) + "END!\r\n0",
      "\r\nTrailer: y\r",
      "\n\r\n"};
  for (const auto& piece : sends) {
    c.Send(piece);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string r = c.ReadUntil("END!", 5000);
  EXPECT_NE(r.find("200 OK"), std::string::npos) << r.substr(0, 200);
  auto at = r.find("PATCH /up " + std::to_string(body.size()) + ":");
  ASSERT_NE(at, std::string::npos) << r.substr(0, 200);
  EXPECT_EQ(r.substr(r.find(':', at) + 1), body);
}

// Big and tiny chunks in turn, all sent at once and followed by a second request on the
// same connection: after a big chunk the server reads only a little for the next size line,
// after small ones it reads ahead; neither may lose or take bytes of the next request.
TEST_F(ServerTest, MixedChunkSizesAndAPipelinedRequestArriveIntact) {
  StartServer();
  Client c(port());
  std::string wire = "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body;
  const size_t sizes[] = {1, 70000, 3, 2, 65536, 4096, 5, 4095, 100000, 7, 1, 40000, 9};
  char line[32];
  for (size_t k = 0; k < std::size(sizes); ++k) {
    std::string chunk(sizes[k], static_cast<char>('A' + k));
    for (size_t i = 0; i < chunk.size(); i += 61) chunk[i] = static_cast<char>('a' + i % 26);
    std::snprintf(line, sizeof line, k == 4 ? "%zX;name=v\r\n" : "%zx\r\n", sizes[k]);
    wire += line + chunk + "\r\n";
    body += chunk;
  }
  wire += "0\r\n\r\nPATCH /second HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nEND!";
  c.Send(wire);
  std::string r = c.ReadUntil("/second 4:END!", 5000);
  auto at = r.find("PATCH /up " + std::to_string(body.size()) + ":");
  ASSERT_NE(at, std::string::npos) << r.substr(0, 200);
  EXPECT_EQ(r.substr(r.find(':', at) + 1, body.size()), body);
  EXPECT_NE(r.find("PATCH /second 4:END!"), std::string::npos);
}

// A handler that throws: 500 to the caller without the exception's text, which goes to
// on_event (the log), and the connection still serves the next request.
TEST_F(ServerTest, AHandlerThatThrowsIsA500AndALogLine) {
  std::mutex mu;
  std::vector<std::string> events;
  ServerOptions opt;
  opt.on_event = [&](const std::string& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  };
  StartServer(opt);
  Client c(port());
  c.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadUntil("GET /after 0:");
  EXPECT_EQ(r.rfind("HTTP/1.1 500", 0), 0u) << r;
  EXPECT_EQ(r.find("secret detail"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /after 0:"), std::string::npos) << r;
  std::lock_guard lock(mu);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("GET /throw: secret detail"), std::string::npos) << events[0];
}

TEST_F(ServerTest, MalformedChunkIsAnError) {
  StartServer();
  Client c(port());
  c.Send(
      "PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
  EXPECT_NE(c.ReadUntil("body error").find("400"), std::string::npos);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredWhenTheBodyIsRead) {
  StartServer();
  Client c(port());
  c.Send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(c.ReadUntil("100 Continue\r\n\r\n", 2000).find("HTTP/1.1 100 Continue"),
            std::string::npos);
  c.Send("data");
  EXPECT_NE(c.ReadUntil("4:data").find("200 OK"), std::string::npos);
}

TEST_F(ServerTest, ExpectContinueRefusedWithoutReadingTheBody) {
  StartServer();
  Client c(port());
  c.Send(
      "PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
  std::string r = c.ReadUntil("no");
  EXPECT_NE(r.find("413"), std::string::npos);
  EXPECT_EQ(r.find("100 Continue"), std::string::npos);
  EXPECT_TRUE(c.ClosedWithin(1000));
}

TEST_F(ServerTest, BadFramingIsRefused) {
  StartServer();
  for (const char* req :
       {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n"}) {
    Client c(port());
    c.Send(req);
    std::string r = c.ReadUntil("\r\n\r\n");
    EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << req << " -> " << r;
  }
  Client c(port());
  c.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("501"), std::string::npos);
  Client v(port());
  v.Send("GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  EXPECT_NE(v.ReadUntil("\r\n\r\n").find("505"), std::string::npos);
}

TEST_F(ServerTest, OversizedHeadAndTarget) {
  ServerOptions opt;
  opt.max_head_bytes = 4096;
  StartServer(opt);
  Client c(port());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("431"), std::string::npos);
  Client t(port());
  t.Send("GET /" + std::string(3000, 'a') + std::string(3000, 'b') +
         " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = t.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(r.find("414") != std::string::npos || r.find("431") != std::string::npos) << r;
}

TEST_F(ServerTest, TlsHelloOnPlainPortGetsAQuick400) {
  StartServer();
  Client c(port());
  c.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  auto start = std::chrono::steady_clock::now();
  std::string r = c.ReadUntil("\r\n\r\n", 2000);
  EXPECT_NE(r.find("400"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(ServerTest, SlowHeadIsCutOffAndOthersAreServed) {
  ServerOptions opt;
  opt.head_timeout_ms = 300;
  StartServer(opt);
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 8; ++i) {  // more than the 4 workers
    slow.push_back(std::make_unique<Client>(port()));
    slow.back()->Send("GET / HTTP/1.1\r\nHo");
  }
  Client ok(port());
  ok.Send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(ok.ReadUntil("GET /fine 0:", 3000).find("200"), std::string::npos);
  for (auto& s : slow) EXPECT_TRUE(s->ClosedWithin(3000));
}

TEST_F(ServerTest, IdleKeepAliveConnectionsAreClosed) {
  ServerOptions opt;
  opt.keepalive_timeout_ms = 200;
  StartServer(opt);
  Client c(port());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("GET / 0:");
  EXPECT_TRUE(c.ClosedWithin(3000));
}

TEST_F(ServerTest, BodyThatStopsEarlyIsAnErrorForTheHandler) {
  ServerOptions opt;
  opt.body_idle_timeout_ms = 200;
  StartServer(opt);
  Client c(port());
  c.Send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part");
  std::string r = c.ReadUntil("bytes", 3000);
  EXPECT_NE(r.find("400"), std::string::npos) << r;
  EXPECT_NE(r.find("ended after 9 of 100 bytes"), std::string::npos) << r;
}

TEST_F(ServerTest, ConnectionLimit) {
  ServerOptions opt;
  opt.max_connections = 2;
  StartServer(opt);
  Client a(port()), b(port());
  a.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  b.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  a.ReadUntil("GET / 0:");
  b.ReadUntil("GET / 0:");
  Client c(port());
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("503"), std::string::npos);
}

TEST_F(ServerTest, StreamedResponseAndHead) {
  server_ = std::make_unique<Server>(ServerOptions{}, [](Request& req, Response& res) {
    res.SetStream(10, [](BodyWriter& w) { return w.Write("0123456789", 10); });
    (void)req;
  });
  ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
  Client c(port());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadUntil("0123456789");
  EXPECT_NE(r.find("Content-Length: 10"), std::string::npos);
  c.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string h = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(h.find("Content-Length: 10"), std::string::npos);
  c.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string last = c.ReadUntil("0123456789");
  EXPECT_NE(last.find("Connection: close"), std::string::npos) << last;
  EXPECT_EQ(h.find("0123456789"), std::string::npos);
  EXPECT_TRUE(c.ClosedWithin(1000));
}

}  // namespace
}  // namespace dtr::http
