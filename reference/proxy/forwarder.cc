#include "proxy/forwarder.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/range.h"
#include "http/parser.h"

namespace dtr::proxy {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kCopyBuffer = 256 * 1024;
// Bodies up to this size are read before Forward returns, so their connection is free for
// the next request at once; larger ones stream.
constexpr uint64_t kSmallBody = 64 * 1024;

int Millis(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 1 << 30));
}

int MsUntil(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1 << 30));
}

// Waits until fd is ready for `events` (or has an error to report); false on timeout.
bool WaitFd(int fd, short events, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd p{fd, events, 0};
  while (true) {
    int r = ::poll(&p, 1, MsUntil(deadline));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

enum class Io { kOk, kEof, kTimeout, kError };

// One connection to the upstream and the bytes read from it but not consumed yet. Every
// wait is bounded by the timeout the caller passes.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() { ::close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Sends all of p[0, n). `more` says another piece follows at once (MSG_MORE).
  Io Send(const char* p, size_t n, int timeout_ms, bool more = false) {
    int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    while (n > 0) {
      ssize_t w = ::send(fd_, p, n, flags);
      if (w > 0) {
        p += w;
        n -= static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!WaitFd(fd_, POLLOUT, timeout_ms)) return Io::kTimeout;
        continue;
      }
      err = w < 0 ? errno : EPIPE;
      return Io::kError;
    }
    return Io::kOk;
  }

  // Reads up to n bytes into dst: buffered ones first, then what the socket has.
  Io Recv(char* dst, size_t n, int timeout_ms, size_t* got) {
    if (buf.empty()) return RecvSocket(dst, n, timeout_ms, got);
    *got = std::min(n, buf.size());
    std::memcpy(dst, buf.data(), *got);
    buf.erase(0, *got);
    return Io::kOk;
  }

  // Appends what arrives next from the socket to buf.
  Io Fill(int timeout_ms) {
    char tmp[64 * 1024];
    size_t got = 0;
    Io io = RecvSocket(tmp, sizeof tmp, timeout_ms, &got);
    if (io == Io::kOk) buf.append(tmp, got);
    return io;
  }

  // Makes the close a reset: the upstream learns at once that the request was aborted,
  // instead of waiting for body bytes that will not come.
  void Abort() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }

  // Whether the upstream closed it, or sent something nobody asked for, while it was idle.
  bool LooksClosed() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  std::string buf;      // received, not consumed yet
  bool reused = false;  // taken from the pool
  int err = 0;          // errno of the last Io::kError

 private:
  Io RecvSocket(char* dst, size_t n, int timeout_ms, size_t* got) {
    *got = 0;
    while (true) {
      ssize_t r = ::recv(fd_, dst, n, 0);
      if (r > 0) {
        *got = static_cast<size_t>(r);
        return Io::kOk;
      }
      if (r == 0) return Io::kEof;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFd(fd_, POLLIN, timeout_ms)) return Io::kTimeout;
        continue;
      }
      err = errno;
      return Io::kError;
    }
  }

  int fd_;
};

// Why the upstream could not give an answer; `status` is what the client gets.
struct Failure {
  int status = 502;
  std::string why;
};

Failure IoFailure(Io io, const Conn& c, const std::string& what, int timeout_ms) {
  switch (io) {
    case Io::kTimeout:
      return {504, what + ": timed out after " + std::to_string(timeout_ms) + " ms"};
    case Io::kEof:
      return {502, what + ": the upstream closed the connection"};
    default:
      return {502, what + ": " + std::strerror(c.err)};
  }
}

std::unique_ptr<Conn> Connect(const std::string& host, int port, int timeout_ms, Failure* f) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    *f = {502, std::string("cannot resolve the host: ") + gai_strerror(rc)};
    return nullptr;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  *f = {502, "cannot connect: no address"};
  std::unique_ptr<Conn> conn;
  for (addrinfo* ai = list; ai != nullptr && !conn; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      *f = {502, std::string("cannot connect: ") + std::strerror(errno)};
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) err = errno;
    if (err == EINPROGRESS || err == EINTR) {
      if (!WaitFd(fd, POLLOUT, MsUntil(deadline))) {
        ::close(fd);
        *f = {504, "cannot connect: timed out after " + std::to_string(timeout_ms) + " ms"};
        break;  // the time is spent; another address would not get any
      }
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err != 0) {
      ::close(fd);
      *f = {502, std::string("cannot connect: ") + std::strerror(err)};
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn = std::make_unique<Conn>(fd);
  }
  ::freeaddrinfo(list);
  return conn;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The header names listed in Connection: they belong to this hop only.
std::vector<std::string_view> ConnectionTokens(const http::Headers& h) {
  std::vector<std::string_view> out;
  for (std::string_view v : h.GetAll("Connection")) {
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view token = TrimOws(v.substr(0, comma));
      if (!token.empty()) out.push_back(token);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool IsHopByHop(std::string_view name, const std::vector<std::string_view>& named) {
  static constexpr std::string_view kHop[] = {"Connection", "Keep-Alive",        "TE",
                                              "Trailer",    "Transfer-Encoding", "Upgrade"};
  for (auto h : kHop) {
    if (http::EqualsIgnoreCase(name, h)) return true;
  }
  if (name.size() >= 6 && http::EqualsIgnoreCase(name.substr(0, 6), "Proxy-")) return true;
  for (auto n : named) {
    if (http::EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

// How the request body goes upstream: not at all, with Content-Length, or chunked.
struct BodyPlan {
  bool present = false;
  std::optional<uint64_t> length;  // nullopt: chunked
};

BodyPlan PlanBody(const http::Request& req) {
  if (req.body == nullptr) return {};
  auto length = req.body->declared_length();
  if (!length) return {true, std::nullopt};
  if (*length > 0 || req.headers.Has("Content-Length")) return {true, length};
  return {};
}

void AddField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

std::string RequestHead(const http::Request& req, const BodyPlan& plan,
                        const std::string& authority) {
  auto named = ConnectionTokens(req.headers);
  std::string out;
  out.reserve(512 + req.target.size() + req.headers.size() * 48);
  out += req.method;
  out += ' ';
  out += req.target;
  out += " HTTP/1.1\r\n";
  std::string forwarded_for;
  std::optional<std::string_view> host;
  bool has_proto = false, has_host = false;  // X-Forwarded-Proto, -Host
  for (const auto& [k, v] : req.headers.items()) {
    bool is_host = http::EqualsIgnoreCase(k, "Host");  // end to end, whatever Connection says
    // Expect is answered by our own server; the upstream simply gets the body.
    if ((!is_host && IsHopByHop(k, named)) || http::EqualsIgnoreCase(k, "Expect") ||
        http::EqualsIgnoreCase(k, "Content-Length")) {
      continue;
    }
    if (http::EqualsIgnoreCase(k, "X-Forwarded-For")) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for += v;
      continue;
    }
    if (is_host && !host) host = v;
    has_proto = has_proto || http::EqualsIgnoreCase(k, "X-Forwarded-Proto");
    has_host = has_host || http::EqualsIgnoreCase(k, "X-Forwarded-Host");
    AddField(&out, k, v);
  }
  if (!req.remote_addr.empty()) {
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for += req.remote_addr;
  }
  if (!forwarded_for.empty()) AddField(&out, "X-Forwarded-For", forwarded_for);
  // A proxy in front of us (nginx, a load balancer) knows better what the client used.
  if (!has_proto) AddField(&out, "X-Forwarded-Proto", req.tls ? "https" : "http");
  if (host && !has_host) AddField(&out, "X-Forwarded-Host", *host);
  if (!host) AddField(&out, "Host", authority);
  if (plan.present) {
    if (plan.length) {
      AddField(&out, "Content-Length", std::to_string(*plan.length));
    } else {
      AddField(&out, "Transfer-Encoding", "chunked");
    }
  }
  out += "\r\n";
  return out;
}

// Streams the client's body to the upstream through one buffer, framed as `plan` says.
// Returns the upstream side's outcome; a body the client could not complete sets
// *client_error instead (and returns kOk).
Io SendBody(Conn& c, http::BodyReader& body, const BodyPlan& plan, int timeout_ms,
            uint64_t* consumed, std::optional<std::string>* client_error) {
  uint64_t left = plan.length.value_or(0);
  if (plan.length && left == 0) return Io::kOk;
  size_t cap =
      plan.length ? static_cast<size_t>(std::min<uint64_t>(left, kCopyBuffer)) : kCopyBuffer;
  std::unique_ptr<char[]> buf(new char[cap]);
  while (!plan.length || left > 0) {
    size_t want = plan.length ? static_cast<size_t>(std::min<uint64_t>(left, cap)) : cap;
    ssize_t n = body.Read(buf.get(), want);
    if (n < 0) {
      *client_error = body.error().empty() ? "the request body could not be read" : body.error();
      return Io::kOk;
    }
    if (n == 0) {
      if (!plan.length) return c.Send("0\r\n\r\n", 5, timeout_ms);
      *client_error = "request body ended after " + std::to_string(*plan.length - left) + " of " +
                      std::to_string(*plan.length) + " bytes";
      return Io::kOk;
    }
    auto got = static_cast<size_t>(n);
    *consumed += got;
    Io io;
    if (plan.length) {
      left -= got;
      io = c.Send(buf.get(), got, timeout_ms);
    } else {
      char size_line[32];
      int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", got);
      io = c.Send(size_line, static_cast<size_t>(len), timeout_ms, /*more=*/true);
      if (io == Io::kOk) io = c.Send(buf.get(), got, timeout_ms, /*more=*/true);
      if (io == Io::kOk) io = c.Send("\r\n", 2, timeout_ms);
    }
    if (io != Io::kOk) return io;
  }
  return Io::kOk;
}

// Reads the head of the final response, skipping interim (1xx) ones. *nothing says the
// upstream closed without sending a byte: what a pooled connection it had given up does.
bool ReadResponseHead(Conn& c, int timeout_ms, ResponseHead* out, bool* nothing, Failure* f) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool received = !c.buf.empty();
  size_t scanned = 0;
  while (true) {
    auto end = c.buf.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
    if (end != std::string::npos && end <= kMaxHeadBytes) {
      std::string why;
      ResponseHead head;
      if (!ParseResponseHead(std::string_view(c.buf).substr(0, end), kMaxHeaderFields, &head,
                             &why)) {
        *f = {502, "malformed response: " + why};
        return false;
      }
      c.buf.erase(0, end + 4);
      scanned = 0;
      if (head.status == 101) {
        *f = {502, "the upstream switched protocols, which the front does not relay"};
        return false;
      }
      if (head.status < 200) continue;  // 100 Continue, 103 Early Hints
      *out = std::move(head);
      return true;
    }
    if (c.buf.size() > kMaxHeadBytes) {
      *f = {502,
            "malformed response: head larger than " + std::to_string(kMaxHeadBytes) + " bytes"};
      return false;
    }
    scanned = c.buf.size();
    Io io = c.Fill(MsUntil(deadline));
    if (io == Io::kOk) {
      received = true;
      continue;
    }
    bool closed = io == Io::kEof || (io == Io::kError && (c.err == ECONNRESET || c.err == EPIPE));
    *nothing = closed && !received;
    *f = IoFailure(io, c, received ? "reading the response head" : "waiting for the response",
                   timeout_ms);
    return false;
  }
}

enum class Framing { kNone, kLength, kChunked, kUntilClose };

// RFC 9112 6.3, for a head ParseResponseHead accepted.
Framing FramingOf(const ResponseHead& h, bool head_request, uint64_t* length) {
  if (head_request || h.status < 200 || h.status == 204 || h.status == 304) return Framing::kNone;
  if (h.headers.Has("Transfer-Encoding")) return Framing::kChunked;
  if (auto cl = h.headers.Get("Content-Length")) {
    *length = ParseUint(TrimOws(*cl)).value_or(0);
    return Framing::kLength;
  }
  return Framing::kUntilClose;
}

bool KeepAlive(const ResponseHead& h) {
  bool close = false, keep_alive = false;
  for (auto token : ConnectionTokens(h.headers)) {
    close = close || http::EqualsIgnoreCase(token, "close");
    keep_alive = keep_alive || http::EqualsIgnoreCase(token, "keep-alive");
  }
  return !close && (h.version_minor == 1 || keep_alive);
}

void CopyResponseHeaders(const ResponseHead& h, Framing framing, http::Headers* out) {
  auto named = ConnectionTokens(h.headers);
  // Our server writes Content-Length from the body it is given; only an answer without one
  // (HEAD, 304) keeps the upstream's, which describes the body it would have had.
  bool keep_length = framing == Framing::kNone && h.status >= 200 && h.status != 204;
  for (const auto& [k, v] : h.headers.items()) {
    if (IsHopByHop(k, named)) continue;
    if (!keep_length && http::EqualsIgnoreCase(k, "Content-Length")) continue;
    out->Add(k, v);
  }
}

bool ReadExactly(Conn& c, uint64_t length, int timeout_ms, std::string* out, Failure* f) {
  while (c.buf.size() < length) {
    Io io = c.Fill(timeout_ms);
    if (io != Io::kOk) {
      *f = IoFailure(io, c, "reading the response body", timeout_ms);
      return false;
    }
  }
  out->assign(c.buf, 0, static_cast<size_t>(length));
  c.buf.erase(0, static_cast<size_t>(length));
  return true;
}

Failure TooLarge(size_t limit) {
  return {502, "response body without Content-Length is larger than " + std::to_string(limit) +
                   " bytes"};
}

// Makes c.buf hold a line; returns its length without CRLF.
bool ChunkedLine(Conn& c, size_t max, int timeout_ms, size_t* len, Failure* f) {
  size_t scanned = 0;
  while (true) {
    auto eol = c.buf.find("\r\n", scanned > 0 ? scanned - 1 : 0);
    if (eol != std::string::npos) {
      *len = eol;
      return true;
    }
    if (c.buf.size() > max) {
      *f = {502, "malformed chunked response body: line too long"};
      return false;
    }
    scanned = c.buf.size();
    Io io = c.Fill(timeout_ms);
    if (io != Io::kOk) {
      *f = IoFailure(io, c, "reading the chunked response body", timeout_ms);
      return false;
    }
  }
}

// Decodes a chunked body into *out, at most `limit` bytes of it. Trailer fields are
// dropped: the client gets a Content-Length body, which has no place for them.
bool ReadChunked(Conn& c, size_t limit, int timeout_ms, std::string* out, Failure* f) {
  size_t len = 0;
  while (true) {
    if (!ChunkedLine(c, 4096, timeout_ms, &len, f)) return false;
    auto size = http::ParseChunkSizeLine(std::string_view(c.buf).substr(0, len));
    if (!size) {
      *f = {502, "malformed chunked response body: bad chunk size line"};
      return false;
    }
    c.buf.erase(0, len + 2);
    if (*size == 0) break;
    if (*size > limit - out->size()) {
      *f = TooLarge(limit);
      return false;
    }
    uint64_t left = *size;
    while (left > 0) {
      if (c.buf.empty()) {
        Io io = c.Fill(timeout_ms);
        if (io != Io::kOk) {
          *f = IoFailure(io, c, "reading the chunked response body", timeout_ms);
          return false;
        }
      }
      size_t k = static_cast<size_t>(std::min<uint64_t>(left, c.buf.size()));
      out->append(c.buf, 0, k);
      c.buf.erase(0, k);
      left -= k;
    }
    if (!ChunkedLine(c, 2, timeout_ms, &len, f)) return false;
    if (len != 0) {
      *f = {502, "malformed chunked response body: no CRLF after chunk data"};
      return false;
    }
    c.buf.erase(0, 2);
  }
  size_t trailers = 0;
  do {
    if (!ChunkedLine(c, kMaxHeadBytes, timeout_ms, &len, f)) return false;
    c.buf.erase(0, len + 2);
    trailers += len + 2;
    if (trailers > kMaxHeadBytes) {
      *f = {502, "malformed chunked response body: trailers too large"};
      return false;
    }
  } while (len > 0);
  return true;
}

bool ReadUntilClose(Conn& c, size_t limit, int timeout_ms, std::string* out, Failure* f) {
  while (true) {
    if (c.buf.size() > limit) {
      *f = TooLarge(limit);
      return false;
    }
    Io io = c.Fill(timeout_ms);
    if (io == Io::kEof) break;
    if (io != Io::kOk) {
      *f = IoFailure(io, c, "reading the response body", timeout_ms);
      return false;
    }
  }
  *out = std::move(c.buf);
  c.buf.clear();
  return true;
}

void RenderError(http::Response& res, int status, const std::string& code,
                 const std::string& message) {
  using nlohmann::json;
  res = http::Response();
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  json error = {{"code", code}, {"message", message}};
  json body = {{"errors", json::array({error})}};
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

bool ParseResponseHead(std::string_view head, size_t max_headers, ResponseHead* out,
                       std::string* why) {
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  // HTTP-version SP 3DIGIT SP [reason-phrase]; the reason is for people and not used.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
      (line.size() > 12 && line[12] != ' ')) {
    *why = "malformed status line";
    return false;
  }
  if (line[7] != '0' && line[7] != '1') {
    *why = "unsupported HTTP version";
    return false;
  }
  int status = 0;
  for (char ch : line.substr(9, 3)) {
    if (ch < '0' || ch > '9') {
      *why = "malformed status code";
      return false;
    }
    status = status * 10 + (ch - '0');
  }
  if (status < 100 || status > 599) {
    *why = "status code out of range";
    return false;
  }
  // The header fields follow the same rules as a request's, and the same framing checks
  // keep a response from being read two ways; so they go through the request parser behind
  // a stand-in request line (HTTP/1.0: no Host needed).
  http::Request fields;
  http::ParseError err;
  std::string stand_in = "GET / HTTP/1.0";
  if (eol != std::string_view::npos) stand_in.append(head.substr(eol));
  if (!http::ParseRequestHead(stand_in, http::HeadLimits{8192, max_headers}, &fields, &err)) {
    *why = err.message;
    return false;
  }
  out->status = status;
  out->version_minor = line[7] - '0';
  out->headers = std::move(fields.headers);
  return true;
}

struct Forwarder::Pool {
  explicit Pool(size_t max) : max_idle(max) {}

  // A pooled connection that still looks open, or null.
  std::unique_ptr<Conn> Take() {
    while (true) {
      std::unique_ptr<Conn> c;
      {
        std::lock_guard lock(mu);
        if (idle.empty()) return nullptr;
        c = std::move(idle.back());  // the most recently used is the likeliest alive
        idle.pop_back();
      }
      if (!c->LooksClosed()) {
        c->reused = true;
        return c;
      }
    }
  }

  // Keeps c for another request; it must be between two exchanges.
  void Put(std::unique_ptr<Conn> c) {
    if (!c->buf.empty()) return;  // bytes past the response: out of step, not reusable
    std::unique_ptr<Conn> evicted;
    std::lock_guard lock(mu);
    idle.push_back(std::move(c));
    if (idle.size() > max_idle) {
      evicted = std::move(idle.front());
      idle.erase(idle.begin());
    }
  }

  std::mutex mu;
  std::vector<std::unique_ptr<Conn>> idle;
  const size_t max_idle;
};

namespace {

// A Content-Length body on its way from the upstream to the client, as the server writes
// the response. Its connection returns to the pool only when all of it was read.
struct BodyStream {
  std::unique_ptr<Conn> conn;
  std::shared_ptr<Forwarder::Pool> pool;
  uint64_t length = 0;
  bool reusable = false;
  int timeout_ms = 0;

  bool Copy(http::BodyWriter& w) {
    std::unique_ptr<Conn> c = std::move(conn);
    if (!c) return false;
    uint64_t left = length;
    size_t cap = static_cast<size_t>(std::min<uint64_t>(left, kCopyBuffer));
    std::unique_ptr<char[]> buf(new char[cap]);
    while (left > 0) {
      size_t got = 0;
      Io io =
          c->Recv(buf.get(), static_cast<size_t>(std::min<uint64_t>(left, cap)), timeout_ms, &got);
      // A short body: the server cuts the client's connection, so it cannot take it whole.
      if (io != Io::kOk) return false;
      if (!w.Write(buf.get(), got)) return false;
      left -= got;
    }
    if (reusable) pool->Put(std::move(c));
    return true;
  }
};

// Fills `res` from the answer whose head is `head`; its body waits in c.
bool Relay(std::unique_ptr<Conn> c, const ResponseHead& head, bool head_request, bool reusable,
           const std::shared_ptr<Forwarder::Pool>& pool, const ForwarderOptions& opt,
           http::Response& res, Failure* f) {
  int timeout_ms = Millis(opt.io_timeout);
  reusable = reusable && KeepAlive(head);
  uint64_t length = 0;
  Framing framing = FramingOf(head, head_request, &length);
  res.status = head.status;
  CopyResponseHeaders(head, framing, &res.headers);
  switch (framing) {
    case Framing::kNone:
      break;
    case Framing::kLength:
      if (length > kSmallBody) {
        auto stream = std::make_shared<BodyStream>(
            BodyStream{std::move(c), pool, length, reusable, timeout_ms});
        res.SetStream(length, [stream](http::BodyWriter& w) { return stream->Copy(w); });
        return true;
      }
      if (!ReadExactly(*c, length, timeout_ms, &res.body, f)) return false;
      break;
    case Framing::kChunked:
      if (!ReadChunked(*c, opt.max_buffered_chunked, timeout_ms, &res.body, f)) return false;
      break;
    case Framing::kUntilClose:
      if (!ReadUntilClose(*c, opt.max_buffered_chunked, timeout_ms, &res.body, f)) return false;
      reusable = false;
      break;
  }
  if (reusable) pool->Put(std::move(c));
  return true;
}

}  // namespace

Forwarder::Forwarder(std::string name, std::string host, int port, ForwarderOptions opt)
    : name_(std::move(name)),
      host_(std::move(host)),
      port_(port),
      opt_(opt),
      pool_(std::make_shared<Pool>(opt.max_idle)) {}

Forwarder::~Forwarder() = default;

size_t Forwarder::idle_connections() const {
  std::lock_guard lock(pool_->mu);
  return pool_->idle.size();
}

void Forwarder::Forward(http::Request& req, http::Response& res) {
  const int io_ms = Millis(opt_.io_timeout);
  std::string authority = host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]";
  authority += ":" + std::to_string(port_);
  auto unavailable = [&](const Failure& f) {
    RenderError(res, f.status, "UNAVAILABLE", name_ + " at " + authority + ": " + f.why);
  };

  BodyPlan plan = PlanBody(req);
  std::string head = RequestHead(req, plan, authority);
  uint64_t consumed = 0;  // body bytes taken from the client: once any are, no second try
  for (int attempt = 1;; ++attempt) {
    Failure f;
    std::unique_ptr<Conn> c = attempt == 1 ? pool_->Take() : nullptr;
    if (!c && !(c = Connect(host_, port_, Millis(opt_.connect_timeout), &f))) {
      return unavailable(f);
    }
    // A pooled connection the upstream has closed fails before it could use any of this
    // request; one more try on a new connection is then safe.
    bool may_retry = c->reused && attempt == 1;

    Io io = c->Send(head.data(), head.size(), io_ms);
    if (io == Io::kError && may_retry) continue;
    if (io != Io::kOk) return unavailable(IoFailure(io, *c, "sending the request", io_ms));

    if (plan.present) {
      std::optional<std::string> client_error;
      io = SendBody(*c, *req.body, plan, io_ms, &consumed, &client_error);
      if (client_error) {
        c->Abort();
        return RenderError(res, 400, "BAD_REQUEST",
                           "the request body could not be read (" + *client_error +
                               "); it was not forwarded to " + name_);
      }
      if (io != Io::kOk) {
        // An upstream may answer without reading the whole body (401, 413) and then stop
        // reading or close: that answer, if it came, is what the client needs. It arrived
        // before the close, so it is already here or nearly.
        Failure sending = IoFailure(io, *c, "sending the request body", io_ms);
        ResponseHead early;
        bool nothing = false;
        if (ReadResponseHead(*c, std::min(io_ms, 100), &early, &nothing, &f) &&
            Relay(std::move(c), early, req.method == "HEAD", /*reusable=*/false, pool_, opt_, res,
                  &f)) {
          return;
        }
        return unavailable(sending);
      }
    }

    ResponseHead answer;
    bool nothing = false;
    if (!ReadResponseHead(*c, io_ms, &answer, &nothing, &f)) {
      if (may_retry && nothing && consumed == 0 && Idempotent(req.method)) continue;
      return unavailable(f);
    }
    if (!Relay(std::move(c), answer, req.method == "HEAD", /*reusable=*/true, pool_, opt_, res,
               &f)) {
      return unavailable(f);
    }
    return;
  }
}

}  // namespace dtr::proxy
