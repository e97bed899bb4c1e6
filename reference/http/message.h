// HTTP/1.1 requests and responses as handlers see them. Bodies stream in both directions:
// a request body is pulled through a BodyReader, a large response body is pushed through a
// BodyWriter by a callback, so no handler ever needs a whole body in memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dtr::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);

// An ordered multimap with case-insensitive names; repeated headers keep every value.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);
  // The first value, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback = "") const;
  std::vector<std::string_view> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Pulls a request body. Read returns bytes read, 0 at the end of the body, -1 when the body
// cannot be completed (client gone, timeout, malformed chunking); error() says why.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual ssize_t Read(char* buf, size_t n) = 0;
  // Declared length, or nullopt for a chunked body.
  virtual std::optional<uint64_t> declared_length() const = 0;
  virtual const std::string& error() const = 0;
  virtual bool finished() const = 0;
};

// A body held in memory: for tests, fuzzing and small internal requests.
class StringBodyReader : public BodyReader {
 public:
  explicit StringBodyReader(std::string data, bool chunked = false)
      : data_(std::move(data)), chunked_(chunked) {}
  ssize_t Read(char* buf, size_t n) override;
  std::optional<uint64_t> declared_length() const override {
    if (chunked_) return std::nullopt;
    return data_.size();
  }
  const std::string& error() const override { return error_; }
  bool finished() const override { return pos_ == data_.size(); }

 private:
  std::string data_;
  size_t pos_ = 0;
  bool chunked_;
  std::string error_;
};

struct Request {
  std::string method;
  std::string target;                                      // as sent: path plus query
  std::string path;                                        // percent-decoded path
  std::string raw_query;                                   // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  int version_minor = 1;                                   // HTTP/1.x
  Headers headers;
  BodyReader* body = nullptr;
  std::string remote_addr;  // the peer: the client, or a proxy in front of us
  // The client's address, for rate limits and logs: remote_addr, or what a trusted proxy
  // says in X-Forwarded-For (set by proxy::NormalizeForwarding; "" before it runs).
  std::string client_addr;
  const std::string& ClientAddress() const {
    return client_addr.empty() ? remote_addr : client_addr;
  }
  bool tls = false;
  // The subject CN of a client certificate that verified against the client CA (mutual
  // TLS); "" when there is none.
  std::string client_cert_subject;

  std::optional<std::string_view> Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const { return Query(name).has_value(); }
};

// Where a streamed response body goes.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  virtual bool Write(const char* data, size_t n) = 0;
  // Sends `length` bytes of `fd` from `offset`; the socket path uses sendfile(2).
  virtual bool SendFile(int fd, uint64_t offset, uint64_t length);
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // A streamed body of exactly `stream_length` bytes. Not called for HEAD requests.
  std::function<bool(BodyWriter&)> stream;
  uint64_t stream_length = 0;
  bool close_connection = false;

  void SetStream(uint64_t length, std::function<bool(BodyWriter&)> fn) {
    stream_length = length;
    stream = std::move(fn);
  }
};

using Handler = std::function<void(Request&, Response&)>;

std::string_view StatusText(int status);
// scheme://host the client used to reach us, honouring X-Forwarded-Proto/-Host from a proxy.
std::string ExternalBaseUrl(const Request& req);
std::string PercentDecode(std::string_view s, bool plus_as_space);
std::string PercentEncode(std::string_view s);

}  // namespace dtr::http
