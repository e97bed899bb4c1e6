// A small, fast HTTP/1.1 client for load generation: blocking sockets, one connection per
// client object, TCP_NODELAY, keep-alive by default or one connection per request
// (`Connection: close`, what skopeo and the notary client do). It parses the status line,
// headers and Content-Length or chunked bodies, streams request bodies from a replayable
// source and response bodies into a sink, so neither is ever held whole unless asked.
// TLS through OpenSSL when the endpoint is https; optionally resuming the previous
// connection's session on the next (what a client with a session cache does).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

namespace dtrb {

struct Endpoint {
  bool tls = false;
  std::string host;  // as written in the URL, without brackets
  int port = 0;
  // host[:port] as the Host header wants it.
  std::string Authority() const;
  // scheme://authority
  std::string Origin() const;
};

// Parses "http[s]://host[:port][/prefix]" into the endpoint and a path prefix without a
// trailing slash ("" for none).
bool ParseUrl(std::string_view url, Endpoint* ep, std::string* path_prefix, std::string* err);

// Resolves the endpoint's host. With `loopback_only`, refuses any address outside
// 127.0.0.0/8 and ::1.
bool ResolveEndpoint(const Endpoint& ep, bool loopback_only, sockaddr_storage* addr,
                     socklen_t* addr_len, std::string* err);

class TlsContext {
 public:
  // `ca_file` empty: the system's trust store. `insecure`: no verification at all.
  static std::shared_ptr<TlsContext> Create(const std::string& ca_file, bool insecure,
                                            std::string* err);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ssl_ctx_st* get() const { return ctx_; }
  bool insecure() const { return insecure_; }

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  bool insecure_ = false;
};

struct Header {
  std::string name;
  std::string value;
};

// A request body that can be read again from any offset (for retries and chunked sends).
class Body {
 public:
  virtual ~Body() = default;
  virtual uint64_t size() const = 0;
  // Up to `max` bytes from `offset` (offset < size()); never empty.
  virtual std::string_view Read(uint64_t offset, size_t max) const = 0;
};

class StringBody : public Body {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  std::string_view Read(uint64_t offset, size_t max) const override {
    return std::string_view(data_).substr(offset, max);
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

// `length` bytes of another body from `offset`: one chunk of a chunked upload.
class SliceBody : public Body {
 public:
  SliceBody(const Body& base, uint64_t offset, uint64_t length)
      : base_(base), offset_(offset), length_(length) {}
  uint64_t size() const override { return length_; }
  std::string_view Read(uint64_t offset, size_t max) const override {
    uint64_t left = length_ - offset;
    return base_.Read(offset_ + offset, max < left ? max : static_cast<size_t>(left));
  }

 private:
  const Body& base_;
  uint64_t offset_, length_;
};

// Receives response body bytes as they arrive (hashing, verification).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void Data(const char* data, size_t n) = 0;
};

struct Request {
  std::string_view method = "GET";
  std::string target;  // origin-form: "/v2/..." with query
  std::vector<Header> headers;
  const Body* body = nullptr;   // none: no body (Content-Length: 0 for POST/PUT/PATCH)
  bool chunked = false;         // send the body with Transfer-Encoding: chunked
  bool keep_body = false;       // keep the response body in Response::body
  BodySink* sink = nullptr;     // also hand every body byte here
  size_t max_kept = 16u << 20;  // a kept body larger than this is a protocol error
  bool keep_error_body = true;  // keep the first 4 KiB of a >= 400 answer's body
};

struct Response {
  int status = 0;
  int version_minor = 1;
  std::vector<Header> headers;  // names lowercased, in order
  std::string body;             // only with Request::keep_body
  uint64_t body_bytes = 0;      // response body bytes received
  uint64_t sent_body_bytes = 0;
  // First value of a header; `lower_name` must be lower case. Empty when absent.
  std::string_view Get(std::string_view lower_name) const;
  bool Has(std::string_view lower_name) const;
};

enum class ErrorKind { kNone, kConnect, kTimeout, kClosed, kProtocol, kTls };
const char* ErrorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kNone;
  std::string detail;
};

struct ClientOptions {
  bool close = false;      // `Connection: close` and a new connection for every request
  int timeout_ms = 60000;  // per send/recv call, and for connect
  std::shared_ptr<TlsContext> tls;
  std::string user_agent = "dtr-bench/0.1";
  // Offer the session of this client's previous connection when opening the next one. Off,
  // every connection is a full handshake, as with Go's default client (skopeo, notary).
  bool tls_resume = false;
};

class HttpClient {
 public:
  // `addr` from ResolveEndpoint.
  HttpClient(Endpoint ep, const sockaddr_storage& addr, socklen_t addr_len, ClientOptions opt);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `req` and reads the whole response. A request that fails on a reused keep-alive
  // connection before any answer byte arrived is retried once on a new connection (the
  // server may have closed it while idle). False on a transport error, with `err` set.
  bool Do(const Request& req, Response* resp, Error* err);

  // Closes the connection. Its TLS session stays resumable when it ended between exchanges.
  void Close();
  uint64_t connections_opened() const { return connections_; }
  uint64_t tls_handshakes() const { return tls_handshakes_; }
  uint64_t tls_resumed() const { return tls_resumed_; }  // ... of which resumed a session
  const Endpoint& endpoint() const { return ep_; }
  bool close_mode() const { return opt_.close; }

 private:
  bool Connect(Error* err);
  // Keeps the connection's session for the next one (TLS 1.3 tickets arrive after the
  // handshake, so this runs once a response has been read).
  void KeepSession();
  bool Attempt(const Request& req, Response* resp, Error* err, bool* got_bytes);
  bool SendAll(const char* data, size_t n, Error* err);
  bool SendBody(const Request& req, Response* resp, Error* err);
  // Reads more bytes into the buffer; false on EOF or error (err set).
  bool Fill(Error* err, bool* got_bytes);
  ssize_t RawRecv(char* buf, size_t n, Error* err);
  bool ReadHead(Response* resp, Error* err, bool* got_bytes, bool* keep_alive);
  bool ReadBody(const Request& req, Response* resp, Error* err, bool* keep_alive);
  bool ReadChunked(const Request& req, Response* resp, Error* err);
  bool ReadLine(std::string* line, Error* err);
  bool Deliver(const Request& req, Response* resp, const char* data, size_t n, Error* err);
  void SetError(Error* err, ErrorKind kind, std::string detail);

  Endpoint ep_;
  sockaddr_storage addr_;
  socklen_t addr_len_;
  ClientOptions opt_;
  std::string host_header_;
  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  ssl_session_st* session_ = nullptr;  // to offer on the next connection (tls_resume)
  bool session_kept_ = false;          // session_ is this connection's
  bool mid_exchange_ = false;          // a request is out and its response not fully read
  uint64_t requests_on_conn_ = 0;
  uint64_t connections_ = 0;
  uint64_t tls_handshakes_ = 0, tls_resumed_ = 0;
  std::vector<char> buf_;
  size_t start_ = 0, end_ = 0;
  std::string head_;  // request head scratch
};

}  // namespace dtrb
