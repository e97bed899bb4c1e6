#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace dtrb {

namespace {

constexpr size_t kBufferSize = 256 * 1024;
constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kInlineBody = 64 * 1024;  // bodies up to this go out with the head
constexpr size_t kSendPiece = 1024 * 1024;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  // Comma-separated, case-insensitive.
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    if (item.size() == token.size()) {
      bool eq = true;
      for (size_t i = 0; i < item.size(); ++i) eq = eq && Lower(item[i]) == Lower(token[i]);
      if (eq) return true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

std::string Endpoint::Authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((tls && port == 443) || (!tls && port == 80)) return h;
  return h + ":" + std::to_string(port);
}

std::string Endpoint::Origin() const { return (tls ? "https://" : "http://") + Authority(); }

bool ParseUrl(std::string_view url, Endpoint* ep, std::string* path_prefix, std::string* err) {
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    ep->tls = false;
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    ep->tls = true;
    rest = url.substr(8);
  } else {
    *err = "URL must start with http:// or https://: " + std::string(url);
    return false;
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find('?') != std::string_view::npos || path.find('#') != std::string_view::npos) {
    *err = "URL must not have a query or fragment";
    return false;
  }
  if (authority.find('@') != std::string_view::npos) {
    *err = "put credentials in --user/--password, not in the URL";
    return false;
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *err = "bad IPv6 address in URL";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        *err = "bad authority in URL";
        return false;
      }
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    *err = "URL has no host";
    return false;
  }
  ep->host = std::string(host);
  ep->port = ep->tls ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) {
      *err = "bad port in URL: " + std::string(port);
      return false;
    }
    ep->port = p;
  }
  *path_prefix = std::string(path);
  return true;
}

bool ResolveEndpoint(const Endpoint& ep, bool loopback_only, sockaddr_storage* addr,
                     socklen_t* addr_len, std::string* err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(ep.port);
  int rc = getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *err = "cannot resolve " + ep.host + ": " + gai_strerror(rc);
    return false;
  }
  bool found = false;
  for (addrinfo* ai = res; ai != nullptr && !found; ai = ai->ai_next) {
    bool loopback = false;
    if (ai->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
      loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    } else {
      continue;
    }
    if (loopback_only && !loopback) continue;
    std::memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *addr_len = static_cast<socklen_t>(ai->ai_addrlen);
    found = true;
  }
  freeaddrinfo(res);
  if (!found) {
    *err = loopback_only ? ep.host +
                               " is not a loopback address: dtr-bench only loads 127.0.0.1/::1 "
                               "unless you pass --allow-remote"
                         : "no usable address for " + ep.host;
  }
  return found;
}

std::shared_ptr<TlsContext> TlsContext::Create(const std::string& ca_file, bool insecure,
                                               std::string* err) {
  std::shared_ptr<TlsContext> t(new TlsContext);
  t->insecure_ = insecure;
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (t->ctx_ == nullptr) {
    *err = "SSL_CTX_new: " + OpenSslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  if (insecure) {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
    int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(t->ctx_)
                             : SSL_CTX_load_verify_locations(t->ctx_, ca_file.c_str(), nullptr);
    if (ok != 1) {
      *err = "cannot load CA certificates " + (ca_file.empty() ? "" : ca_file + " ") + ": " +
             OpenSslError();
      return nullptr;
    }
  }
  return t;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::string_view Response::Get(std::string_view lower_name) const {
  for (const Header& h : headers) {
    if (h.name == lower_name) return h.value;
  }
  return {};
}

bool Response::Has(std::string_view lower_name) const {
  for (const Header& h : headers) {
    if (h.name == lower_name) return true;
  }
  return false;
}

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "none";
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kClosed:
      return "closed";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kTls:
      return "tls";
  }
  return "?";
}

HttpClient::HttpClient(Endpoint ep, const sockaddr_storage& addr, socklen_t addr_len,
                       ClientOptions opt)
    : ep_(std::move(ep)), addr_(addr), addr_len_(addr_len), opt_(std::move(opt)) {
  host_header_ = ep_.Authority();
  buf_.resize(kBufferSize);
  head_.reserve(2048);
}

HttpClient::~HttpClient() {
  Close();
  SSL_SESSION_free(session_);
}

void HttpClient::Close() {
  if (ssl_ != nullptr) {
    // SSL_free takes a connection that was not shut down for a truncated one and marks its
    // session not resumable, also as session_, which is the same object. One that ended
    // between exchanges ended well: say so (without sending close_notify).
    if (!mid_exchange_ && SSL_is_init_finished(ssl_)) {
      SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  start_ = end_ = 0;
  requests_on_conn_ = 0;
  mid_exchange_ = false;
  session_kept_ = false;
}

void HttpClient::KeepSession() {
  if (ssl_ == nullptr || !opt_.tls_resume || session_kept_) return;
  SSL_SESSION* s = SSL_get1_session(ssl_);
  if (s == nullptr) return;
  if (SSL_SESSION_is_resumable(s) != 1) {
    SSL_SESSION_free(s);
    return;
  }
  SSL_SESSION_free(session_);
  session_ = s;
  session_kept_ = true;
}

void HttpClient::SetError(Error* err, ErrorKind kind, std::string detail) {
  err->kind = kind;
  err->detail = std::move(detail);
}

bool HttpClient::Connect(Error* err) {
  Close();
  fd_ = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    SetError(err, ErrorKind::kConnect, std::string("socket: ") + std::strerror(errno));
    return false;
  }
  timeval tv{};
  tv.tv_sec = opt_.timeout_ms / 1000;
  tv.tv_usec = (opt_.timeout_ms % 1000) * 1000;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect(2)
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
    int e = errno;
    Close();
    if (e == EINPROGRESS || e == EAGAIN) {
      SetError(err, ErrorKind::kTimeout, "connect timed out");
    } else {
      SetError(err, ErrorKind::kConnect, std::strerror(e));
    }
    return false;
  }
  ++connections_;
  if (ep_.tls) {
    ssl_ = SSL_new(opt_.tls->get());
    if (ssl_ == nullptr) {
      Close();
      SetError(err, ErrorKind::kTls, "SSL_new: " + OpenSslError());
      return false;
    }
    SSL_set_fd(ssl_, fd_);
    in6_addr a6;
    in_addr a4;
    bool is_ip = inet_pton(AF_INET, ep_.host.c_str(), &a4) == 1 ||
                 inet_pton(AF_INET6, ep_.host.c_str(), &a6) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl_, ep_.host.c_str());
    if (!opt_.tls->insecure()) SSL_set1_host(ssl_, ep_.host.c_str());
    if (opt_.tls_resume && session_ != nullptr) SSL_set_session(ssl_, session_);
    if (SSL_connect(ssl_) != 1) {
      std::string why = OpenSslError();
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK)
        why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      Close();
      SetError(err, ErrorKind::kTls, "TLS handshake: " + why);
      return false;
    }
    ++tls_handshakes_;
    if (SSL_session_reused(ssl_) == 1) ++tls_resumed_;
  }
  return true;
}

bool HttpClient::SendAll(const char* data, size_t n, Error* err) {
  while (n > 0) {
    ssize_t w;
    if (ssl_ != nullptr) {
      int r = SSL_write(ssl_, data, static_cast<int>(n > (1u << 30) ? (1u << 30) : n));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          SetError(err, ErrorKind::kTimeout, "send timed out");
        } else {
          SetError(err, ErrorKind::kClosed, "TLS write failed: " + OpenSslError());
        }
        return false;
      }
      w = r;
    } else {
      w = ::send(fd_, data, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          SetError(err, ErrorKind::kTimeout, "send timed out");
        } else {
          SetError(err, ErrorKind::kClosed, std::string("send: ") + std::strerror(errno));
        }
        return false;
      }
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

ssize_t HttpClient::RawRecv(char* buf, size_t n, Error* err) {
  for (;;) {
    if (ssl_ != nullptr) {
      int r = SSL_read(ssl_, buf, static_cast<int>(n));
      if (r > 0) return r;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if (e == SSL_ERROR_SYSCALL) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          SetError(err, ErrorKind::kTimeout, "receive timed out");
          return -1;
        }
        if (r == 0 || errno == 0) return 0;  // EOF without close_notify
        SetError(err, ErrorKind::kClosed, std::string("TLS read: ") + std::strerror(errno));
        return -1;
      }
      SetError(err, ErrorKind::kTls, "TLS read: " + OpenSslError());
      return -1;
    }
    ssize_t r = ::recv(fd_, buf, n, 0);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      SetError(err, ErrorKind::kTimeout, "receive timed out");
    } else {
      SetError(err, ErrorKind::kClosed, std::string("recv: ") + std::strerror(errno));
    }
    return -1;
  }
}

bool HttpClient::Fill(Error* err, bool* got_bytes) {
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (end_ == buf_.size()) {
    if (start_ == 0) {
      SetError(err, ErrorKind::kProtocol, "response line or header too long");
      return false;
    }
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  ssize_t r = RawRecv(buf_.data() + end_, buf_.size() - end_, err);
  if (r < 0) return false;
  if (r == 0) {
    SetError(err, ErrorKind::kClosed, "connection closed by the server");
    return false;
  }
  if (got_bytes != nullptr) *got_bytes = true;
  end_ += static_cast<size_t>(r);
  return true;
}

bool HttpClient::Do(const Request& req, Response* resp, Error* err) {
  *err = Error{};
  bool reused = fd_ >= 0 && requests_on_conn_ > 0;
  bool got_bytes = false;
  if (Attempt(req, resp, err, &got_bytes)) return true;
  if (reused && !got_bytes && err->kind == ErrorKind::kClosed) {
    // The server closed the idle connection under us (between exchanges, as far as it
    // is concerned): once more on a fresh one.
    *err = Error{};
    got_bytes = false;
    mid_exchange_ = false;
    Close();
    return Attempt(req, resp, err, &got_bytes);
  }
  return false;
}

bool HttpClient::Attempt(const Request& req, Response* resp, Error* err, bool* got_bytes) {
  resp->status = 0;
  resp->headers.clear();
  resp->body.clear();
  resp->body_bytes = 0;
  resp->sent_body_bytes = 0;
  if (opt_.close && fd_ >= 0) Close();
  if (fd_ < 0 && !Connect(err)) return false;

  head_.clear();
  head_.append(req.method);
  head_ += ' ';
  head_ += req.target;
  head_ += " HTTP/1.1\r\nHost: ";
  head_ += host_header_;
  head_ += "\r\nUser-Agent: ";
  head_ += opt_.user_agent;
  head_ += "\r\n";
  if (opt_.close) head_ += "Connection: close\r\n";
  for (const Header& h : req.headers) {
    head_ += h.name;
    head_ += ": ";
    head_ += h.value;
    head_ += "\r\n";
  }
  uint64_t body_size = req.body != nullptr ? req.body->size() : 0;
  if (req.body != nullptr && req.chunked) {
    head_ += "Transfer-Encoding: chunked\r\n";
  } else if (req.body != nullptr || req.method == "POST" || req.method == "PUT" ||
             req.method == "PATCH") {
    head_ += "Content-Length: ";
    head_ += std::to_string(body_size);
    head_ += "\r\n";
  }
  head_ += "\r\n";
  mid_exchange_ = true;
  if (req.body != nullptr && !req.chunked && body_size <= kInlineBody) {
    uint64_t off = 0;
    while (off < body_size) {
      std::string_view piece = req.body->Read(off, static_cast<size_t>(body_size - off));
      head_.append(piece);
      off += piece.size();
    }
    if (!SendAll(head_.data(), head_.size(), err)) return false;
    resp->sent_body_bytes = body_size;
  } else {
    if (!SendAll(head_.data(), head_.size(), err)) return false;
    if (req.body != nullptr && !SendBody(req, resp, err)) {
      // The server may have answered early (e.g. 401 or 413) and closed: read that answer.
      Error send_err = *err;
      bool keep = false;
      if (ReadHead(resp, err, got_bytes, &keep)) {
        Close();
        return true;
      }
      *err = send_err;
      return false;
    }
  }
  ++requests_on_conn_;
  bool keep_alive = true;
  if (!ReadHead(resp, err, got_bytes, &keep_alive)) return false;
  if (!ReadBody(req, resp, err, &keep_alive)) return false;
  mid_exchange_ = false;
  KeepSession();
  if (!keep_alive || opt_.close) Close();
  return true;
}

bool HttpClient::SendBody(const Request& req, Response* resp, Error* err) {
  uint64_t size = req.body->size();
  uint64_t off = 0;
  while (off < size) {
    std::string_view piece =
        req.body->Read(off, static_cast<size_t>(size - off < kSendPiece ? size - off : kSendPiece));
    if (req.chunked) {
      char line[32];
      int len = std::snprintf(line, sizeof line, "%zx\r\n", piece.size());
      if (ssl_ == nullptr) {
        iovec iov[3] = {{line, static_cast<size_t>(len)},
                        {const_cast<char*>(piece.data()), piece.size()},
                        {const_cast<char*>("\r\n"), 2}};
        size_t total = static_cast<size_t>(len) + piece.size() + 2;
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = 3;
        ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        if (w < 0 && errno != EINTR) {
          SetError(err, errno == EAGAIN ? ErrorKind::kTimeout : ErrorKind::kClosed,
                   std::string("send: ") + std::strerror(errno));
          return false;
        }
        size_t sent = w < 0 ? 0 : static_cast<size_t>(w);
        // Finish a partial sendmsg piece by piece.
        size_t boundaries[3] = {static_cast<size_t>(len), static_cast<size_t>(len) + piece.size(),
                                total};
        const char* parts[3] = {line, piece.data(), "\r\n"};
        size_t part_start = 0;
        for (int i = 0; i < 3; ++i) {
          size_t part_end = boundaries[i];
          if (sent < part_end) {
            size_t from = sent > part_start ? sent - part_start : 0;
            if (!SendAll(parts[i] + from, part_end - part_start - from, err)) return false;
            sent = part_end;
          }
          part_start = part_end;
        }
      } else {
        if (!SendAll(line, static_cast<size_t>(len), err) ||
            !SendAll(piece.data(), piece.size(), err) || !SendAll("\r\n", 2, err)) {
          return false;
        }
      }
    } else if (!SendAll(piece.data(), piece.size(), err)) {
      return false;
    }
    off += piece.size();
    resp->sent_body_bytes = off;
  }
  if (req.chunked && !SendAll("0\r\n\r\n", 5, err)) return false;
  return true;
}

bool HttpClient::ReadHead(Response* resp, Error* err, bool* got_bytes, bool* keep_alive) {
  for (;;) {             // loops over 1xx interim responses
    size_t scanned = 0;  // bytes after start_ already searched (Fill keeps that offset valid)
    size_t head_end = 0;
    for (;;) {
      std::string_view avail(buf_.data() + start_, end_ - start_);
      size_t pos = avail.find("\r\n\r\n", scanned >= 3 ? scanned - 3 : 0);
      if (pos != std::string_view::npos) {
        head_end = start_ + pos + 4;
        break;
      }
      if (avail.size() > kMaxHead) {
        SetError(err, ErrorKind::kProtocol, "response head larger than 64 KiB");
        return false;
      }
      scanned = avail.size();
      if (!Fill(err, got_bytes)) return false;
    }
    std::string_view head(buf_.data() + start_, head_end - start_ - 4);
    start_ = head_end;
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
      SetError(err, ErrorKind::kProtocol,
               "bad status line: " + std::string(status_line.substr(0, 80)));
      return false;
    }
    resp->version_minor = status_line[7] - '0';
    int status = 0;
    auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    if (ec != std::errc() || p != status_line.data() + 12 || status < 100 || status > 999) {
      SetError(err, ErrorKind::kProtocol,
               "bad status code: " + std::string(status_line.substr(0, 80)));
      return false;
    }
    resp->status = status;
    resp->headers.clear();
    std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        SetError(err, ErrorKind::kProtocol, "bad header line: " + std::string(line.substr(0, 80)));
        return false;
      }
      resp->headers.push_back(
          {LowerCopy(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1)))});
    }
    if (status >= 100 && status < 200) continue;  // 100 Continue and friends
    std::string_view conn = resp->Get("connection");
    if (resp->version_minor == 0) {
      *keep_alive = ContainsToken(conn, "keep-alive");
    } else {
      *keep_alive = !ContainsToken(conn, "close");
    }
    return true;
  }
}

bool HttpClient::Deliver(const Request& req, Response* resp, const char* data, size_t n,
                         Error* err) {
  resp->body_bytes += n;
  if (req.keep_body) {
    if (resp->body.size() + n > req.max_kept) {
      SetError(err, ErrorKind::kProtocol, "response body larger than expected");
      return false;
    }
    resp->body.append(data, n);
  } else if (req.keep_error_body && resp->status >= 400 && resp->body.size() < 4096) {
    resp->body.append(data, std::min(n, 4096 - resp->body.size()));
  }
  if (req.sink != nullptr) req.sink->Data(data, n);
  return true;
}

bool HttpClient::ReadLine(std::string* line, Error* err) {
  for (;;) {
    std::string_view avail(buf_.data() + start_, end_ - start_);
    size_t pos = avail.find("\r\n");
    if (pos != std::string_view::npos) {
      line->assign(avail.substr(0, pos));
      start_ += pos + 2;
      return true;
    }
    if (avail.size() > 4096) {
      SetError(err, ErrorKind::kProtocol, "chunk-size line too long");
      return false;
    }
    if (!Fill(err, nullptr)) return false;
  }
}

bool HttpClient::ReadBody(const Request& req, Response* resp, Error* err, bool* keep_alive) {
  int s = resp->status;
  if (req.method == "HEAD" || s == 204 || s == 304) return true;
  std::string_view te = resp->Get("transfer-encoding");
  if (!te.empty() && ContainsToken(te, "chunked")) return ReadChunked(req, resp, err);
  std::string_view cl = resp->Get("content-length");
  if (cl.empty()) {
    // Body runs to the end of the connection.
    *keep_alive = false;
    for (;;) {
      if (start_ < end_) {
        if (!Deliver(req, resp, buf_.data() + start_, end_ - start_, err)) return false;
        start_ = end_ = 0;
      }
      ssize_t r = RawRecv(buf_.data(), buf_.size(), err);
      if (r < 0) return false;
      if (r == 0) return true;
      end_ = static_cast<size_t>(r);
    }
  }
  uint64_t left = 0;
  auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), left);
  if (ec != std::errc() || p != cl.data() + cl.size()) {
    SetError(err, ErrorKind::kProtocol, "bad Content-Length: " + std::string(cl.substr(0, 40)));
    return false;
  }
  while (left > 0) {
    if (start_ == end_) {
      start_ = end_ = 0;
      size_t want = left < buf_.size() ? static_cast<size_t>(left) : buf_.size();
      ssize_t r = RawRecv(buf_.data(), want, err);
      if (r < 0) return false;
      if (r == 0) {
        SetError(err, ErrorKind::kClosed,
                 "connection closed with " + std::to_string(left) + " body bytes missing");
        return false;
      }
      end_ = static_cast<size_t>(r);
    }
    size_t n = end_ - start_;
    if (n > left) n = static_cast<size_t>(left);
    if (!Deliver(req, resp, buf_.data() + start_, n, err)) return false;
    start_ += n;
    left -= n;
  }
  return true;
}

bool HttpClient::ReadChunked(const Request& req, Response* resp, Error* err) {
  std::string line;
  for (;;) {
    if (!ReadLine(&line, err)) return false;
    std::string_view sv = line;
    size_t semi = sv.find(';');
    sv = Trim(sv.substr(0, semi));
    uint64_t size = 0;
    auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), size, 16);
    if (sv.empty() || ec != std::errc() || p != sv.data() + sv.size()) {
      SetError(err, ErrorKind::kProtocol, "bad chunk size line: " + line.substr(0, 40));
      return false;
    }
    if (size == 0) break;
    uint64_t left = size;
    while (left > 0) {
      if (start_ == end_ && !Fill(err, nullptr)) return false;
      size_t n = end_ - start_;
      if (n > left) n = static_cast<size_t>(left);
      if (!Deliver(req, resp, buf_.data() + start_, n, err)) return false;
      start_ += n;
      left -= n;
    }
    if (!ReadLine(&line, err)) return false;
    if (!line.empty()) {
      SetError(err, ErrorKind::kProtocol, "chunk not followed by CRLF");
      return false;
    }
  }
  // Trailer fields, up to the empty line.
  for (;;) {
    if (!ReadLine(&line, err)) return false;
    if (line.empty()) return true;
  }
}

}  // namespace dtrb
