#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/parser.h"

namespace dtr::http {

namespace {

using Clock = std::chrono::steady_clock;

int MsUntil(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

enum class Io { kOk, kEof, kWantRead, kWantWrite, kError };

// One client connection, its TLS state and its read buffer; owned by exactly one thread at
// a time (the epoll thread while parked, a worker while served).
struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;  // TLS ports: set when the first byte shows a TLS record
  bool tls_port = false;
  bool handshaken = false;  // always true on plain ports
  std::string peer;
  std::string peer_cn;  // verified client certificate CN
  std::string buf;      // bytes read (decrypted) but not yet consumed
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  bool head_started = false;  // part of a request head is in buf
  bool clean_end = false;     // ended between requests: keep its TLS session resumable
  bool lingering = false;     // answered and half-closed: discarding input until it closes
  size_t discarded = 0;       // bytes thrown away while lingering
  Clock::time_point head_deadline;
  Clock::time_point deadline;  // while parked: closed at this time

  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    if (ssl != nullptr) {
      // OpenSSL forgets sessions of connections closed without close_notify; one that
      // ended between two requests ended well.
      if (clean_end) SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      SSL_free(ssl);
    }
    if (fd >= 0) ::close(fd);
  }

  // One read attempt that never blocks.
  ssize_t RecvSome(char* dst, size_t n, Io* io) {
    if (ssl == nullptr) {
      while (true) {
        ssize_t r = ::recv(fd, dst, n, 0);
        if (r > 0) {
          bytes_in += static_cast<uint64_t>(r);
          *io = Io::kOk;
          return r;
        }
        if (r == 0) {
          *io = Io::kEof;
          return 0;
        }
        if (errno == EINTR) continue;
        *io = (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::kWantRead : Io::kError;
        return -1;
      }
    }
    ERR_clear_error();
    int r = SSL_read(ssl, dst, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (r > 0) {
      bytes_in += static_cast<uint64_t>(r);
      *io = Io::kOk;
      return r;
    }
    *io = SslIo(r);
    return *io == Io::kEof ? 0 : -1;
  }

  // One write attempt that never blocks.
  ssize_t SendSome(const char* p, size_t n, Io* io) {
    if (ssl == nullptr) {
      while (true) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) {
          bytes_out += static_cast<uint64_t>(w);
          *io = Io::kOk;
          return w;
        }
        if (errno == EINTR) continue;
        *io = (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::kWantWrite : Io::kError;
        return -1;
      }
    }
    ERR_clear_error();
    int w = SSL_write(ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (w > 0) {
      bytes_out += static_cast<uint64_t>(w);
      *io = Io::kOk;
      return w;
    }
    *io = SslIo(w);
    if (*io == Io::kEof) *io = Io::kError;
    return -1;
  }

  Io SslIo(int r) {
    switch (SSL_get_error(ssl, r)) {
      case SSL_ERROR_WANT_READ:
        return Io::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Io::kWantWrite;
      case SSL_ERROR_ZERO_RETURN:
        return Io::kEof;
      default:
        ERR_clear_error();
        return Io::kError;
    }
  }

  bool Wait(Io io, int timeout_ms) {
    return WaitFd(fd, io == Io::kWantWrite ? POLLOUT : POLLIN, timeout_ms);
  }

  // Whether TLS holds bytes already read from the socket (epoll would not report them).
  bool HasBuffered() const { return ssl != nullptr && SSL_has_pending(ssl) == 1; }

  // Reads up to `max` (at most 64 KiB) more bytes into buf, waiting at most timeout_ms.
  // Returns bytes read, 0 on EOF, -1 on error or timeout.
  ssize_t Fill(int timeout_ms, size_t max = 64 * 1024) {
    char tmp[64 * 1024];
    ssize_t n = ReadInto(tmp, std::min(max, sizeof tmp), timeout_ms, /*use_buf=*/false);
    if (n > 0) buf.append(tmp, static_cast<size_t>(n));
    return n;
  }

  // Reads from buf first, then from the connection (large bodies skip the copy).
  ssize_t ReadInto(char* dst, size_t n, int timeout_ms, bool use_buf = true) {
    if (use_buf && !buf.empty()) {
      size_t k = std::min(n, buf.size());
      std::memcpy(dst, buf.data(), k);
      buf.erase(0, k);
      return static_cast<ssize_t>(k);
    }
    while (true) {
      Io io;
      ssize_t r = RecvSome(dst, n, &io);
      if (io == Io::kOk) return r;
      if (io == Io::kEof) return 0;
      if (io == Io::kError || !Wait(io, timeout_ms)) return -1;
    }
  }

  bool SendAll(const char* p, size_t n, int timeout_ms) {
    while (n > 0) {
      Io io;
      ssize_t w = SendSome(p, n, &io);
      if (io == Io::kOk) {
        p += w;
        n -= static_cast<size_t>(w);
        continue;
      }
      if (io == Io::kError || !Wait(io, timeout_ms)) return false;
    }
    return true;
  }

  bool SendFileRange(int file, uint64_t offset, uint64_t length, int timeout_ms) {
    off_t off = static_cast<off_t>(offset);
    while (length > 0) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(length, 1u << 30));
      ssize_t w = ::sendfile(fd, file, &off, chunk);
      if (w > 0) {
        length -= static_cast<uint64_t>(w);
        bytes_out += static_cast<uint64_t>(w);
        continue;
      }
      if (w == 0) return false;  // file shorter than promised
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFd(fd, POLLOUT, timeout_ms)) return false;
        continue;
      }
      return false;
    }
    return true;
  }
};

// The request body as read from the connection: Content-Length or chunked framing.
class ConnBodyReader : public BodyReader {
 public:
  ConnBodyReader(Conn* c, BodyFraming framing, bool expect_continue, int timeout_ms)
      : c_(c),
        framing_(framing),
        remaining_(framing.length),
        expect_continue_(expect_continue),
        timeout_ms_(timeout_ms) {
    done_ = !framing.chunked && framing.length == 0;
  }

  ssize_t Read(char* dst, size_t n) override {
    if (!error_.empty()) return -1;
    if (done_ || n == 0) return 0;
    if (expect_continue_) {
      expect_continue_ = false;
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!c_->SendAll(kContinue, sizeof kContinue - 1, timeout_ms_)) {
        return Fail("client went away before sending the body");
      }
    }
    return framing_.chunked ? ReadChunked(dst, n) : ReadFixed(dst, n);
  }
  std::optional<uint64_t> declared_length() const override {
    if (framing_.chunked) return std::nullopt;
    return framing_.length;
  }
  const std::string& error() const override { return error_; }
  bool finished() const override { return done_; }
  // Whether the client was told to send a body it has not sent (no 100 Continue yet).
  bool body_never_requested() const { return expect_continue_; }

 private:
  ssize_t Fail(std::string why) {
    error_ = std::move(why);
    return -1;
  }

  ssize_t ReadFixed(char* dst, size_t n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    ssize_t r = c_->ReadInto(dst, want, timeout_ms_);
    if (r <= 0) {
      return Fail("request body ended after " + std::to_string(framing_.length - remaining_) +
                  " of " + std::to_string(framing_.length) + " bytes");
    }
    remaining_ -= static_cast<uint64_t>(r);
    if (remaining_ == 0) done_ = true;
    return r;
  }

  // Makes sure buf holds a full line; returns its length without CRLF, or -1.
  ssize_t Line(size_t limit) {
    while (true) {
      auto eol = c_->buf.find("\r\n");
      if (eol != std::string::npos) return static_cast<ssize_t>(eol);
      if (c_->buf.size() > limit) return -1;
      if (c_->Fill(timeout_ms_, line_read_) <= 0) return -1;
    }
  }

  ssize_t ReadChunked(char* dst, size_t n) {
    if (remaining_ == 0) {
      if (in_chunk_) {  // CRLF after the previous chunk's data
        ssize_t len = Line(2);
        if (len != 0) return Fail("malformed chunked body: missing CRLF after chunk data");
        c_->buf.erase(0, 2);
        in_chunk_ = false;
      }
      ssize_t len = Line(1024);
      if (len < 0) return Fail("malformed or truncated chunked body");
      auto size = ParseChunkSizeLine(std::string_view(c_->buf).substr(0, len));
      if (!size) return Fail("malformed chunk size line in chunked body");
      c_->buf.erase(0, static_cast<size_t>(len) + 2);
      if (*size == 0) {
        // Trailers, then an empty line.
        while (true) {
          ssize_t tl = Line(8192);
          if (tl < 0) return Fail("malformed trailer section in chunked body");
          c_->buf.erase(0, static_cast<size_t>(tl) + 2);
          if (tl == 0) break;
        }
        done_ = true;
        return 0;
      }
      remaining_ = *size;
      in_chunk_ = true;
      // Whatever a line read brings beyond the line is copied once more on its way out,
      // where the rest of a chunk goes straight from the socket to the caller. Clients send
      // chunks of 32-64 KiB (Go's net/http, curl): reading 64 KiB for each chunk-size line
      // copied nearly every byte twice and cost ~40 % more CPU than a Content-Length body.
      // After a big chunk, read just enough for the next line; after small ones, read
      // ahead so that many small chunks come in one read.
      line_read_ = *size >= 4096 ? 64 : 64 * 1024;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    ssize_t r = c_->ReadInto(dst, want, timeout_ms_);
    if (r <= 0) return Fail("chunked request body ended early");
    remaining_ -= static_cast<uint64_t>(r);
    return r;
  }

  Conn* c_;
  BodyFraming framing_;
  uint64_t remaining_;
  bool expect_continue_;
  int timeout_ms_;
  bool in_chunk_ = false;
  bool done_ = false;
  size_t line_read_ = 64 * 1024;  // how much a read for a chunk-size line asks for
  std::string error_;
};

class ConnBodyWriter : public BodyWriter {
 public:
  ConnBodyWriter(Conn* c, int timeout_ms) : c_(c), timeout_ms_(timeout_ms) {}
  bool Write(const char* data, size_t n) override {
    written_ += n;
    return c_->SendAll(data, n, timeout_ms_);
  }
  bool SendFile(int fd, uint64_t offset, uint64_t length) override {
    // TLS encrypts in user space: pread into a buffer and SSL_write it (Write counts it).
    if (c_->ssl != nullptr) return BodyWriter::SendFile(fd, offset, length);
    written_ += length;
    return c_->SendFileRange(fd, offset, length, timeout_ms_);
  }
  uint64_t written() const { return written_; }

 private:
  Conn* c_;
  int timeout_ms_;
  uint64_t written_ = 0;
};

bool WantsClose(const Request& req) {
  auto conn = req.headers.Get("Connection");
  if (req.version_minor == 0) return !(conn && EqualsIgnoreCase(*conn, "keep-alive"));
  if (!conn) return false;
  // "Connection: close" possibly among other tokens.
  std::string v(*conn);
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return v.find("close") != std::string::npos;
}

std::string RenderHead(const Response& res, bool head_request, bool close) {
  std::string out;
  out.reserve(256 + res.headers.size() * 48);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += StatusText(res.status);
  out += "\r\n";
  bool has_length = false;
  for (const auto& [k, v] : res.headers.items()) {
    if (EqualsIgnoreCase(k, "Content-Length")) has_length = true;
    if (EqualsIgnoreCase(k, "Connection")) continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  bool bodyless_status = res.status == 204 || res.status == 304 || res.status < 200;
  if (!has_length && !bodyless_status) {
    uint64_t len = res.stream ? res.stream_length : res.body.size();
    out += "Content-Length: ";
    out += std::to_string(len);
    out += "\r\n";
  }
  (void)head_request;
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions opt;
  Handler handler;
  ServerStats* stats;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  std::thread loop_thread;
  std::vector<std::thread> workers;

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Conn*> queue;

  std::mutex idle_mu;
  std::unordered_map<Conn*, Clock::time_point> idle;  // parked in epoll, with deadlines

  // What a worker does with a connection after serving it.
  enum class Next { kPark, kClose };

  void RenderError(int status, const std::string& message, Response& res) {
    res.status = status;
    if (opt.error_renderer) {
      opt.error_renderer(status, message, res);
    } else {
      res.headers.Set("Content-Type", "text/plain; charset=utf-8");
      res.body = message + "\n";
    }
  }

  void CloseConn(Conn* c) {
    stats->active.fetch_sub(1);
    delete c;
  }

  // Hands c to epoll until it is readable or c->deadline passes. The lock is held while
  // arming epoll so that neither the sweep nor an early event can take c half parked.
  void Park(Conn* c, bool add) {
    std::unique_lock lock(idle_mu);
    idle[c] = c->deadline;
    stats->waiting.fetch_add(1);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = c;
    if (::epoll_ctl(epoll_fd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      idle.erase(c);
      stats->waiting.fetch_sub(1);
      lock.unlock();
      CloseConn(c);
    }
  }

  // True when c was parked (and now is not).
  bool Unpark(Conn* c) {
    std::lock_guard lock(idle_mu);
    if (idle.erase(c) == 0) return false;
    stats->waiting.fetch_sub(1);
    return true;
  }

  void Loop() {
    std::vector<epoll_event> events(256);
    auto last_sweep = Clock::now();
    auto last_tls_check = Clock::now();
    while (!stopping.load()) {
      int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        void* p = events[i].data.ptr;
        if (p == nullptr) {
          AcceptAll();
        } else if (p == &wake_fd) {
          uint64_t v;
          (void)!::read(wake_fd, &v, sizeof v);
        } else {
          Conn* c = static_cast<Conn*>(p);
          if (Unpark(c)) Enqueue(c);
        }
      }
      auto now = Clock::now();
      if (now - last_sweep > std::chrono::milliseconds(100)) {
        last_sweep = now;
        SweepExpired(now);
      }
      if (opt.tls && opt.tls_reload_check_ms > 0 &&
          now - last_tls_check > std::chrono::milliseconds(opt.tls_reload_check_ms)) {
        last_tls_check = now;
        CheckTlsFiles();
      }
    }
  }

  void CheckTlsFiles() {
    auto changed = opt.tls->ReloadIfChanged();
    if (!opt.on_event) return;
    if (!changed.ok()) {
      opt.on_event(
          "TLS certificate files changed but cannot be used (still serving the old "
          "certificate): " +
          changed.status().message());
    } else if (*changed) {
      opt.on_event("TLS certificate reloaded from " + opt.tls->files().cert_file);
    }
  }

  void SweepExpired(Clock::time_point now) {
    std::vector<Conn*> expired;
    {
      std::lock_guard lock(idle_mu);
      for (auto it = idle.begin(); it != idle.end();) {
        if (now >= it->second) {
          expired.push_back(it->first);
          it = idle.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Conn* c : expired) {
      c->clean_end = c->handshaken && !c->head_started;
      stats->waiting.fetch_sub(1);
      if (!c->lingering) stats->timeouts.fetch_add(1);  // a lingering one was answered
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
      if (c->handshaken && c->head_started && !c->lingering) {
        // Best effort and never blocking: this is the epoll thread.
        Response res;
        RenderError(408, "request head not received in time", res);
        std::string out = RenderHead(res, false, true) + res.body;
        Io io;
        c->SendSome(out.data(), out.size(), &io);
      }
      CloseConn(c);
    }
  }

  void AcceptAll() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      stats->accepted.fetch_add(1);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (stats->active.load() >= static_cast<uint64_t>(opt.max_connections)) {
        stats->rejected.fetch_add(1);
        if (!opt.tls) {  // a TLS client could not read a plain-text answer
          Response res;
          RenderError(503, "too many connections; try again later", res);
          std::string out = RenderHead(res, false, true) + res.body;
          (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        ::close(fd);
        continue;
      }
      stats->active.fetch_add(1);
      Conn* c = new Conn;
      c->fd = fd;
      c->tls_port = opt.tls != nullptr;
      c->handshaken = !c->tls_port;
      char host[INET6_ADDRSTRLEN] = "";
      if (addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
      } else if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof host);
      }
      c->peer = host;
      c->deadline = Clock::now() + std::chrono::milliseconds(c->tls_port ? opt.handshake_timeout_ms
                                                                         : opt.head_timeout_ms);
      Park(c, /*add=*/true);
    }
  }

  void Enqueue(Conn* c) {
    {
      std::lock_guard lock(queue_mu);
      queue.push_back(c);
    }
    queue_cv.notify_one();
  }

  void Work() {
    while (true) {
      Conn* c;
      {
        std::unique_lock lock(queue_mu);
        queue_cv.wait(lock, [&] { return stopping.load() || !queue.empty(); });
        if (queue.empty()) return;
        c = queue.front();
        queue.pop_front();
      }
      if (Serve(c) == Next::kPark && !stopping.load()) {
        Park(c, /*add=*/false);
      } else {
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
        CloseConn(c);
      }
    }
  }

  // Advances the TLS handshake without blocking on the client. kPark: waiting for the
  // client (c->deadline set); kClose: failed; otherwise it completed (returns nullopt).
  std::optional<Next> Handshake(Conn* c) {
    auto deadline = c->deadline;  // set at accept
    if (c->ssl == nullptr) {
      // The first byte decides: a TLS handshake record starts with 0x16.
      unsigned char first = 0;
      ssize_t n = ::recv(c->fd, &first, 1, MSG_PEEK);
      if (n == 0) return Next::kClose;
      if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? Next::kPark : Next::kClose;
      if (first != 0x16) {
        stats->handshake_failures.fetch_add(1);
        if (first >= 'A' && first <= 'Z') {  // looks like an HTTP method
          return WriteSimple(c, 400,
                             "this port speaks HTTPS, but the client sent plain HTTP; use "
                             "https:// or the plain HTTP port");
        }
        return Next::kClose;
      }
      std::shared_ptr<SSL_CTX> ctx = opt.tls->Get();
      c->ssl = SSL_new(ctx.get());  // holds its own reference to ctx
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, c->fd) != 1) return Next::kClose;
      SSL_set_accept_state(c->ssl);
    }
    while (true) {
      ERR_clear_error();
      int r = SSL_do_handshake(c->ssl);
      if (r == 1) break;
      Io io = c->SslIo(r);
      // The client's next flight is usually a round trip away: waiting a moment is cheaper
      // than parking the connection and handing it to another worker.
      if (io == Io::kWantRead && c->Wait(io, std::min(2, MsUntil(deadline)))) continue;
      if (io == Io::kWantRead) return Next::kPark;
      if (io == Io::kWantWrite && c->Wait(io, MsUntil(deadline))) continue;
      stats->handshake_failures.fetch_add(1);
      return Next::kClose;
    }
    c->handshaken = true;
    stats->handshakes.fetch_add(1);
    if (SSL_session_reused(c->ssl)) stats->resumed.fetch_add(1);
    c->peer_cn = VerifiedPeerCommonName(c->ssl);
    c->deadline = Clock::now() + std::chrono::milliseconds(opt.head_timeout_ms);
    return std::nullopt;
  }

  // Outcomes of reading a request head.
  static constexpr int kHeadOk = 0, kHeadClose = -1, kHeadWait = -2, kHeadTlsOnPlain = 1;

  // Reads a request head into `head_len` bytes of c->buf without blocking: kHeadOk,
  // kHeadWait (park until more arrives), kHeadClose, kHeadTlsOnPlain, or a status to answer.
  int ReadHead(Conn* c, size_t* head_len) {
    size_t scanned = 0;
    while (true) {
      // Tolerate blank lines before a request (RFC 9112 2.2).
      while (c->buf.size() >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n') c->buf.erase(0, 2);
      if (!c->buf.empty() && !c->head_started) {
        c->head_started = true;
        c->head_deadline = Clock::now() + std::chrono::milliseconds(opt.head_timeout_ms);
      }
      if (!c->tls_port && !c->buf.empty() && c->buf[0] == 0x16) return kHeadTlsOnPlain;
      auto end = c->buf.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
      if (end != std::string::npos) {
        if (end > opt.max_head_bytes) return 431;
        *head_len = end;
        return kHeadOk;
      }
      scanned = c->buf.size();
      if (c->buf.size() > opt.max_head_bytes) return 431;
      if (c->head_started && Clock::now() >= c->head_deadline) return 408;
      char tmp[16 * 1024];
      Io io;
      ssize_t r = c->RecvSome(tmp, sizeof tmp, &io);
      if (io == Io::kOk) {
        c->buf.append(tmp, static_cast<size_t>(r));
      } else if (io == Io::kWantRead) {
        return kHeadWait;
      } else if (io == Io::kEof) {
        c->clean_end = c->handshaken && c->buf.empty();
        return kHeadClose;
      } else if (io == Io::kWantWrite) {  // TLS housekeeping mid-read
        if (!c->Wait(io, MsUntil(c->head_started ? c->head_deadline : c->deadline))) {
          return kHeadClose;
        }
      } else {
        return kHeadClose;
      }
    }
  }

  Next WriteSimple(Conn* c, int status, const std::string& message) {
    Response res;
    RenderError(status, message, res);
    std::string out = RenderHead(res, false, true) + res.body;
    if (c->SendAll(out.data(), out.size(), opt.body_idle_timeout_ms)) return LingerClose(c);
    return Next::kClose;
  }

  // Before closing a connection whose client may still be sending, stop writing and
  // discard what arrives for opt.linger_ms: closing with unread input sends a reset that
  // can destroy the response before the client reads it. The waiting happens parked in
  // epoll, not on a worker (a worker used to sit out the 500 ms of every client that kept
  // its end open after a Connection: close answer).
  Next LingerClose(Conn* c) {
    if (c->ssl != nullptr && c->handshaken) {
      ERR_clear_error();
      SSL_shutdown(c->ssl);  // close_notify, best effort
    }
    ::shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->deadline = Clock::now() + std::chrono::milliseconds(opt.linger_ms);
    return Linger(c);
  }

  // Discards what has arrived. kPark to wait for more; kClose once the client has closed,
  // the time is up or 4 MiB were thrown away.
  static Next Linger(Conn* c) {
    char sink[16384];
    while (c->discarded < (4u << 20)) {
      ssize_t n = ::recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0) {
        c->discarded += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Clock::now() < c->deadline) {
        return Next::kPark;
      }
      break;
    }
    return Next::kClose;
  }

  // Serves what c has to offer: finishes its handshake, then requests while they arrive
  // back to back. kPark: wait in epoll until c->deadline for more.
  Next Serve(Conn* c) {
    if (c->lingering) return Linger(c);
    if (!c->handshaken) {
      if (auto next = Handshake(c)) return *next;
    }
    while (true) {
      size_t head_len = 0;
      int hs = ReadHead(c, &head_len);
      if (hs == kHeadWait) {
        if (c->head_started) c->deadline = c->head_deadline;
        return Next::kPark;
      }
      if (hs == kHeadTlsOnPlain) {
        return WriteSimple(c, 400,
                           "this port speaks plain HTTP, but the client started a TLS "
                           "handshake; use http:// or the TLS port");
      }
      if (hs == 431) {
        return WriteSimple(
            c, 431, "request head is larger than " + std::to_string(opt.max_head_bytes) + " bytes");
      }
      if (hs == 408) {
        stats->timeouts.fetch_add(1);
        return WriteSimple(c, 408, "request head not received in time");
      }
      if (hs != kHeadOk) return Next::kClose;

      auto started = Clock::now();
      uint64_t in0 = c->bytes_in - c->buf.size(), out0 = c->bytes_out;
      Request req;
      req.remote_addr = c->peer;
      req.tls = c->ssl != nullptr;
      req.client_cert_subject = c->peer_cn;
      ParseError perr;
      HeadLimits limits{opt.max_target_bytes, opt.max_header_fields};
      bool parsed =
          ParseRequestHead(std::string_view(c->buf).substr(0, head_len), limits, &req, &perr);
      c->buf.erase(0, head_len + 4);
      c->head_started = false;
      if (!parsed) return WriteSimple(c, perr.status, perr.message);

      stats->requests.fetch_add(1);
      bool expect = false;
      if (auto e = req.headers.Get("Expect")) {
        if (!EqualsIgnoreCase(*e, "100-continue")) {
          return WriteSimple(c, 417, "only Expect: 100-continue is supported");
        }
        expect = req.version_minor == 1;
      }
      ConnBodyReader body(c, FramingOf(req), expect, opt.body_idle_timeout_ms);
      req.body = &body;
      Response res;
      try {
        handler(req, res);
      } catch (const std::exception& e) {
        // The details are for the operator's log, not for the caller.
        if (opt.on_event) {
          opt.on_event("internal error answering " + req.method + " " + req.path + ": " + e.what());
        }
        res = Response();
        RenderError(500, "internal error; the server log has the details", res);
      }
      bool close = res.close_connection || WantsClose(req) || stopping.load();
      if (!body.finished()) {
        // The handler did not consume the body. Without a 100 Continue the client may not
        // have sent it; otherwise drain a little so the connection can be reused.
        if (body.body_never_requested() || !body.error().empty()) {
          close = true;
        } else {
          char sink[16384];
          uint64_t drained = 0;
          while (!body.finished() && drained < (1u << 20)) {
            ssize_t r = body.Read(sink, sizeof sink);
            if (r <= 0) break;
            drained += static_cast<uint64_t>(r);
          }
          if (!body.finished()) close = true;
        }
      }
      bool head_req = req.method == "HEAD";
      std::string head = RenderHead(res, head_req, close);
      bool ok;
      if (head_req || !res.stream) {
        if (!head_req) head += res.body;
        ok = c->SendAll(head.data(), head.size(), opt.body_idle_timeout_ms);
      } else {
        ok = c->SendAll(head.data(), head.size(), opt.body_idle_timeout_ms);
        if (ok) {
          ConnBodyWriter w(c, opt.body_idle_timeout_ms);
          ok = res.stream(w) && w.written() == res.stream_length;
        }
      }
      if (opt.on_complete) {
        double secs = std::chrono::duration<double>(Clock::now() - started).count();
        opt.on_complete(req, res, c->bytes_in - c->buf.size() - in0, c->bytes_out - out0, secs);
      }
      if (ok && close) return LingerClose(c);
      if (!ok || close) return Next::kClose;
      if (c->buf.empty() && !c->HasBuffered()) {
        // Nothing pipelined: park until the next request.
        c->deadline = Clock::now() + std::chrono::milliseconds(opt.keepalive_timeout_ms);
        return Next::kPark;
      }
    }
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(new Impl) {
  impl_->opt = std::move(options);
  impl_->handler = std::move(handler);
  impl_->stats = &stats_;
}

Server::~Server() { Stop(); }

bool Server::tls() const { return impl_->opt.tls != nullptr; }

Status Server::Start(const std::string& host, int port) {
  if (impl_->opt.tls && !impl_->opt.tls->Get()) {
    return Status(Code::kInvalidArgument, "TLS requested without a certificate");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
      rc != 0) {
    return Status(Code::kInvalidArgument,
                  "cannot resolve listen address '" + host + "': " + gai_strerror(rc));
  }
  int fd = -1;
  std::string err;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return Status(Code::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + err);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  Impl& m = *impl_;
  m.listen_fd = fd;
  m.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  m.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  ev.data.ptr = &m.wake_fd;
  ::epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.wake_fd, &ev);
  for (int i = 0; i < std::max(1, m.opt.workers); ++i) {
    m.workers.emplace_back([&m] { m.Work(); });
  }
  m.loop_thread = std::thread([&m] { m.Loop(); });
  return Status::Ok();
}

void Server::Stop() {
  Impl& m = *impl_;
  if (m.listen_fd < 0 || m.stopping.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(m.wake_fd, &one, sizeof one);
  if (m.loop_thread.joinable()) m.loop_thread.join();
  m.queue_cv.notify_all();
  for (auto& t : m.workers) t.join();
  m.workers.clear();
  for (auto& [c, t] : m.idle) {
    (void)t;
    delete c;
  }
  m.idle.clear();
  for (Conn* c : m.queue) delete c;
  m.queue.clear();
  ::close(m.listen_fd);
  ::close(m.epoll_fd);
  ::close(m.wake_fd);
  m.listen_fd = -1;
}

}  // namespace dtr::http
