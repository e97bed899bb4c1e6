// The HTTP server on a TLS port, with certificates from the reference's CA: protocol
// versions, session resumption, certificate reload, client certificates, streamed bodies,
// and what hostile or confused clients get (plain HTTP, garbage, stalled handshakes,
// slowloris heads, too many connections).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "http/server.h"
#include "http/tls.h"
#include "proxy/ca.h"

namespace dtr::http {
namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};  // no test blocks forever
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// True when the peer closes fd (EOF or reset) within timeout_ms; discards what it sends.
bool ClosedWithin(int fd, int timeout_ms, std::string* got = nullptr) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    if (got) got->append(buf, static_cast<size_t>(n));
  }
  return false;
}

struct ClientOptions {
  std::string ca_file;
  std::string cert_file, key_file;  // client certificate
  int max_version = 0;
  SSL_SESSION* session = nullptr;
};

// A blocking TLS client that verifies the server as "localhost" against ca_file.
class TlsClient {
 public:
  TlsClient(int port, const ClientOptions& o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_file(ctx_, o.ca_file.c_str());
    if (o.max_version) {
      SSL_CTX_set_min_proto_version(ctx_, 0);
      SSL_CTX_set_security_level(ctx_, 0);  // let the client offer what the server refuses
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    }
    if (!o.cert_file.empty()) {
      SSL_CTX_use_certificate_file(ctx_, o.cert_file.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = Connect(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "localhost");
    if (o.session) SSL_set_session(ssl_, o.session);
    ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    // A client that closes without close_notify makes OpenSSL mark its session unusable.
    if (ok_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  bool reused() const { return SSL_session_reused(ssl_) == 1; }
  SSL_SESSION* session() { return SSL_get1_session(ssl_); }
  std::string PeerSerial() {
    X509* cert = SSL_get0_peer_certificate(ssl_);
    if (!cert) return "";
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string s = hex;
    OPENSSL_free(hex);
    BN_free(bn);
    return s;
  }
  void Send(const std::string& s) { ASSERT_TRUE(TrySend(s)); }
  bool TrySend(const std::string& s) {
    return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
  }
  std::string ReadUntil(const std::string& marker) {
    while (buf_.find(marker) == std::string::npos) {
      char tmp[65536];
      int n = SSL_read(ssl_, tmp, sizeof tmp);
      if (n <= 0) break;
      buf_.append(tmp, static_cast<size_t>(n));
    }
    std::string out;
    out.swap(buf_);
    return out;
  }
  // Reads a whole response with Content-Length; returns head + body.
  std::string ReadResponse() {
    std::string all = ReadUntil("\r\n\r\n");
    auto end = all.find("\r\n\r\n");
    if (end == std::string::npos) return all;
    auto cl = all.find("Content-Length: ");
    size_t want = cl == std::string::npos ? 0 : std::stoul(all.substr(cl + 16));
    while (all.size() < end + 4 + want) {
      char tmp[65536];
      int n = SSL_read(ssl_, tmp, sizeof tmp);
      if (n <= 0) break;
      all.append(tmp, static_cast<size_t>(n));
    }
    return all;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  std::string buf_;
};

void Echo(Request& req, Response& res) {
  std::string body;
  char buf[65536];
  while (true) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  res.body = req.method + " " + req.path + " tls=" + (req.tls ? "1" : "0") +
             " cn=" + req.client_cert_subject + " body=" + std::to_string(body.size());
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dtr-tls-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto ca = proxy::CertificateAuthority::LoadOrCreate(dir_ + "/ca");
    ASSERT_TRUE(ca.ok()) << ca.status().message();
    ca_ = std::make_unique<proxy::CertificateAuthority>(std::move(ca.value()));
    ASSERT_TRUE(ca_->IssueServerCert({"localhost", "127.0.0.1"}, cert(), key()).ok());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string cert() const { return dir_ + "/server.pem"; }
  std::string key() const { return dir_ + "/server-key.pem"; }
  ClientOptions Trusting() const { return ClientOptions{ca_->cert_path(), "", "", 0, nullptr}; }

  void Start(ServerOptions opt = {}, bool client_ca = false, Handler h = Echo) {
    TlsFiles files{cert(), key(), client_ca ? ca_->cert_path() : ""};
    auto tls = TlsContext::Create(files);
    ASSERT_TRUE(tls.ok()) << tls.status().message();
    opt.tls = tls.value();
    if (opt.workers == 64) opt.workers = 4;
    server_ = std::make_unique<Server>(opt, std::move(h));
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
  }
  int port() const { return server_->port(); }

  std::string dir_;
  std::unique_ptr<proxy::CertificateAuthority> ca_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, ServesHttpsWithKeepAliveAndPipelining) {
  Start();
  TlsClient c(port(), Trusting());
  ASSERT_TRUE(c.ok());
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("body=0").find("GET /a tls=1 cn= body=0"), std::string::npos);
  c.Send(
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  std::string both = c.ReadUntil("GET /c tls=1 cn= body=0");
  EXPECT_NE(both.find("POST /b tls=1 cn= body=3"), std::string::npos) << both;
  EXPECT_NE(both.find("GET /c tls=1"), std::string::npos) << both;
  EXPECT_EQ(server_->stats().handshakes.load(), 1u);
}

TEST_F(TlsServerTest, OnlyTls12AndTls13) {
  Start();
  ClientOptions old = Trusting();
  old.max_version = TLS1_1_VERSION;
  TlsClient refused(port(), old);
  EXPECT_FALSE(refused.ok());
  ClientOptions v12 = Trusting();
  v12.max_version = TLS1_2_VERSION;
  TlsClient ok12(port(), v12);
  EXPECT_TRUE(ok12.ok());
  TlsClient ok13(port(), Trusting());
  EXPECT_TRUE(ok13.ok());
}

TEST_F(TlsServerTest, ResumesSessionsWithTls13AndTls12) {
  Start();
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientOptions o = Trusting();
    o.max_version = version == TLS1_2_VERSION ? version : 0;
    SSL_SESSION* session = nullptr;
    {
      TlsClient first(port(), o);
      ASSERT_TRUE(first.ok());
      first.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      first.ReadUntil("body=0");  // TLS 1.3 tickets arrive after the handshake
      EXPECT_FALSE(first.reused());
      session = first.session();
    }
    o.session = session;
    TlsClient second(port(), o);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second.reused()) << "version " << version;
    SSL_SESSION_free(session);
  }
  // The server counts a resumption once its side of the handshake is done, which may be a
  // moment after the client's: wait for it (bounded).
  for (int i = 0; i < 500 && server_->stats().resumed.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().resumed.load(), 2u);
}

TEST_F(TlsServerTest, ResumesSessionsOfOneRequestConnections) {
  // What skopeo-like clients with a session cache do: Connection: close, read the answer
  // (the server closes after it), then offer the session on the next connection.
  Start();
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    ClientOptions o = Trusting();
    o.max_version = version == TLS1_2_VERSION ? version : 0;
    SSL_SESSION* session = nullptr;
    for (int i = 0; i < 3; ++i) {
      o.session = session;
      TlsClient c(port(), o);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(c.reused(), i > 0) << "version " << version << ", connection " << i;
      c.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      std::string answer = c.ReadResponse();
      EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
      SSL_SESSION_free(session);
      session = c.session();
    }
    SSL_SESSION_free(session);
  }
  for (int i = 0; i < 500 && server_->stats().resumed.load() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().resumed.load(), 4u);
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortGetsAClear400) {
  Start();
  int fd = Connect(port());
  std::string req = "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  auto start = Clock::now();
  EXPECT_TRUE(ClosedWithin(fd, 3000, &got));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << got;
  EXPECT_NE(got.find("speaks HTTPS"), std::string::npos) << got;
  ::close(fd);
}

TEST_F(TlsServerTest, GarbageIsCutOffQuickly) {
  Start();
  for (std::string junk : {std::string("\x00\x01\x02garbage\r\n\r\n", 14),
                           std::string("\x16\x03\x01\x00\x05hello-not-a-client-hello", 29)}) {
    int fd = Connect(port());
    ASSERT_EQ(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(junk.size()));
    auto start = Clock::now();
    EXPECT_TRUE(ClosedWithin(fd, 3000));
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
    ::close(fd);
  }
  EXPECT_GE(server_->stats().handshake_failures.load(), 2u);
  TlsClient after(port(), Trusting());
  EXPECT_TRUE(after.ok());
}

TEST_F(TlsServerTest, StalledHandshakesHoldNoWorkerAndAreCutOff) {
  ServerOptions opt;
  opt.workers = 2;
  opt.handshake_timeout_ms = 2000;
  Start(opt);
  std::vector<int> stalled;
  for (int i = 0; i < 10; ++i) {  // five times the workers
    int fd = Connect(port());
    if (i % 2 == 0) {
      // A record header announcing a ClientHello that never comes.
      std::string partial("\x16\x03\x01\x02\x00\x01\x00\x01", 8);
      ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    }  // the others send nothing at all
    stalled.push_back(fd);
  }
  auto start = Clock::now();
  {
    TlsClient c(port(), Trusting());
    ASSERT_TRUE(c.ok());
    c.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(c.ReadUntil("body=0").find("GET /ok"), std::string::npos);
  }
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1500)) << "served only after timeouts";
  for (int fd : stalled) {
    EXPECT_TRUE(ClosedWithin(fd, 5000));
    ::close(fd);
  }
  EXPECT_GE(server_->stats().timeouts.load(), 10u);
}

TEST_F(TlsServerTest, SlowHeadsAfterTheHandshakeAreCutOff) {
  ServerOptions opt;
  opt.workers = 2;
  opt.head_timeout_ms = 1500;
  Start(opt);
  std::vector<std::unique_ptr<TlsClient>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::make_unique<TlsClient>(port(), Trusting()));
    ASSERT_TRUE(slow.back()->ok());
    slow.back()->Send("GET / HTTP/1.1\r\nHo");
  }
  auto start = Clock::now();
  TlsClient ok(port(), Trusting());
  ok.Send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(ok.ReadUntil("body=0").find("GET /fine"), std::string::npos);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000)) << "served only after timeouts";
  for (auto& s : slow) {
    std::string r = s->ReadUntil("\r\n\r\n");  // the 408, then EOF
    EXPECT_NE(r.find("408"), std::string::npos) << r;
  }
}

TEST_F(TlsServerTest, OversizedHeadGets431) {
  ServerOptions opt;
  opt.max_head_bytes = 4096;
  Start(opt);
  TlsClient c(port(), Trusting());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("431"), std::string::npos);
}

TEST_F(TlsServerTest, ConnectionLimit) {
  ServerOptions opt;
  opt.max_connections = 2;
  Start(opt);
  TlsClient a(port(), Trusting()), b(port(), Trusting());
  ASSERT_TRUE(a.ok() && b.ok());
  int fd = Connect(port());
  EXPECT_TRUE(ClosedWithin(fd, 2000));
  ::close(fd);
  EXPECT_EQ(server_->stats().rejected.load(), 1u);
}

TEST_F(TlsServerTest, ReloadsReplacedCertificatesAndKeepsResuming) {
  ServerOptions opt;
  opt.tls_reload_check_ms = 50;
  std::vector<std::string> events;
  std::mutex mu;
  opt.on_event = [&](const std::string& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  };
  Start(opt);
  std::string first_serial;
  SSL_SESSION* session = nullptr;
  {
    TlsClient c(port(), Trusting());
    ASSERT_TRUE(c.ok());
    first_serial = c.PeerSerial();
    c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    c.ReadUntil("body=0");
    session = c.session();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a different mtime
  ASSERT_TRUE(ca_->IssueServerCert({"localhost", "127.0.0.1"}, cert(), key()).ok());
  std::string second_serial;
  for (int i = 0; i < 100 && (second_serial.empty() || second_serial == first_serial); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    TlsClient c(port(), Trusting());
    ASSERT_TRUE(c.ok());
    second_serial = c.PeerSerial();
  }
  EXPECT_NE(second_serial, first_serial);
  ClientOptions o = Trusting();
  o.session = session;
  TlsClient resumed(port(), o);
  EXPECT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed.reused()) << "ticket keys should survive a reload";
  SSL_SESSION_free(session);

  // Broken files: the old certificate stays in use and the problem is reported.
  { std::ofstream(cert()) << "not a certificate"; }
  bool reported = false;
  for (int i = 0; i < 100 && !reported; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lock(mu);
    for (const auto& e : events)
      reported = reported || e.find("cannot be used") != std::string::npos;
  }
  EXPECT_TRUE(reported);
  TlsClient still(port(), Trusting());
  EXPECT_TRUE(still.ok());
  EXPECT_EQ(still.PeerSerial(), second_serial);
}

TEST_F(TlsServerTest, ClientCertificatesNameTheUser) {
  Start({}, /*client_ca=*/true);
  ASSERT_TRUE(ca_->IssueClientCert("alice", dir_ + "/alice.pem", dir_ + "/alice-key.pem").ok());
  ClientOptions o = Trusting();
  o.cert_file = dir_ + "/alice.pem";
  o.key_file = dir_ + "/alice-key.pem";
  {
    TlsClient alice(port(), o);
    ASSERT_TRUE(alice.ok());
    alice.Send("GET /me HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(alice.ReadUntil("body=0").find("cn=alice "), std::string::npos);
  }
  {
    TlsClient anonymous(port(), Trusting());  // a certificate is optional
    ASSERT_TRUE(anonymous.ok());
    anonymous.Send("GET /me HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(anonymous.ReadUntil("body=0").find("cn= "), std::string::npos);
  }
  // A certificate from another CA is refused.
  auto other = proxy::CertificateAuthority::LoadOrCreate(dir_ + "/other-ca");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(
      other->IssueClientCert("admin", dir_ + "/mallory.pem", dir_ + "/mallory-key.pem").ok());
  ClientOptions m = Trusting();
  m.cert_file = dir_ + "/mallory.pem";
  m.key_file = dir_ + "/mallory-key.pem";
  TlsClient mallory(port(), m);
  bool refused = !mallory.ok();
  if (!refused) {  // TLS 1.3: the server's verdict arrives after the client's Finished
    refused = !mallory.TrySend("GET /me HTTP/1.1\r\nHost: x\r\n\r\n") ||
              mallory.ReadUntil("body=").find("cn=admin") == std::string::npos;
  }
  EXPECT_TRUE(refused);
}

TEST_F(TlsServerTest, StreamsFilesAndLargeBodies) {
  std::string path = dir_ + "/blob";
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 23);
  { std::ofstream(path, std::ios::binary) << content; }
  Start({}, false, [&](Request& req, Response& res) {
    if (req.path == "/file") {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      res.SetStream(content.size(), [fd, n = content.size()](BodyWriter& w) {
        bool ok = w.SendFile(fd, 0, n);
        ::close(fd);
        return ok;
      });
      return;
    }
    Echo(req, res);
  });
  TlsClient c(port(), Trusting());
  c.Send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadResponse();
  auto end = r.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(r.substr(end + 4), content);
  std::string big(5 << 20, 'z');
  c.Send("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
         "\r\n\r\n" + big);
  std::string want = "PUT /up tls=1 cn= body=" + std::to_string(big.size());
  EXPECT_NE(c.ReadUntil(want).find(want), std::string::npos);
}

TEST(TlsContextTest, ErrorsNameTheFile) {
  auto missing = TlsContext::Create({"/nonexistent/cert.pem", "/nonexistent/key.pem", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace dtr::http
