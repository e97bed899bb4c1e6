// HTTP for the object-store drivers (S3, Swift, Azure Blob): a pool of keep-alive
// connections to one origin, timeouts on every request, retries of idempotent requests with
// jittered exponential backoff on connection errors, 5xx and 429 (or what the caller says is
// worth retrying), and bodies sent from memory and received up to a bound. Authentication
// is the caller's: `sign` adds headers to each attempt (a fresh date, a token, a
// signature). Statuses are returned as they come; only transport failures become a Status
// (kUnavailable).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace httplib {
class Client;
}

namespace dtr::storage {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  int attempts = 1;  // requests sent to get this reply
  // A header's value, "" if absent (names compared case-insensitively).
  std::string Header(std::string_view name) const;
};

struct HttpCall {
  HttpCall(std::string op_, std::string method_, std::string target_)
      : op(std::move(op_)), method(std::move(method_)), target(std::move(target_)) {}

  std::string op;      // what the driver is doing, for messages: "PUT object", "Put Block"
  std::string method;  // GET, HEAD, PUT, POST, DELETE, COPY
  std::string target;  // path and query, already encoded
  HttpHeaders headers;
  std::string_view body;  // not owned; must outlive the call
  bool idempotent = true;
  size_t max_body = 16u << 20;  // longer response bodies fail the call
};

// A request of the Swift and Azure clients, before they encode, authorize and send it.
struct ObjectCall {
  ObjectCall(std::string op_, std::string method_, std::string name_,
             std::vector<std::pair<std::string, std::string>> query_ = {})
      : op(std::move(op_)),
        method(std::move(method_)),
        name(std::move(name_)),
        query(std::move(query_)) {}

  std::string op;      // for messages: "PUT object", "Put Block", "GET listing"
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string name;    // unencoded object (blob) name; "" addresses the container
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  HttpHeaders headers;
  std::string_view body;    // not owned
  std::vector<int> accept;  // statuses that are answers, not failures (e.g. 404)
  size_t max_body = 16u << 20;
  bool idempotent = true;

  // "PUT object a/b": the operation and its object, for messages.
  std::string What() const { return name.empty() ? op : op + " " + name; }
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
  int max_retries = 4;
  bool skip_verify = false;
  // The setting that accepts any certificate, named when verification fails ("skipverify").
  std::string skip_verify_key;
};

class ObjectHttp {
 public:
  // `origin` is scheme://host[:port]; `describe` names the backend in messages.
  ObjectHttp(std::string origin, HttpOptions options, std::string describe);
  ~ObjectHttp();
  ObjectHttp(const ObjectHttp&) = delete;
  ObjectHttp& operator=(const ObjectHttp&) = delete;

  // Sends `call`, calling `sign` on each attempt's headers first. Any HTTP status comes
  // back as a reply (5xx and 429, or those `retry_if` picks, only after the retries an
  // idempotent call gets).
  Result<HttpReply> Send(const HttpCall& call,
                         const std::function<void(const HttpCall&, HttpHeaders&)>& sign,
                         const std::function<bool(const HttpReply&)>& retry_if = nullptr);

  const std::string& origin() const { return origin_; }
  const std::string& describe() const { return describe_; }

 private:
  std::unique_ptr<httplib::Client> Acquire();
  void Release(std::unique_ptr<httplib::Client> c);
  Result<HttpReply> Once(const HttpCall& call, const HttpHeaders& headers,
                         const std::function<bool(const HttpReply&)>& retry_if, bool* retryable);

  std::string origin_;
  HttpOptions options_;
  std::string describe_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

// The Status for a reply that is not a success, its code from StatusCodeFor.
// `detail` (an error code and message the backend sent) goes into the message, `tag` too.
Status HttpFailure(const std::string& what, const HttpReply& reply, const std::string& detail,
                   const std::string& tag = "");

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 7231), both ways.
std::string HttpDate(std::chrono::system_clock::time_point t);
bool ParseHttpDate(const std::string& s, std::chrono::system_clock::time_point* out);

// A decimal header value; false when absent or not a number.
bool HeaderNumber(const HttpReply& r, std::string_view name, uint64_t* out);

// kNotFound (404), kUnauthenticated (401), kPermissionDenied (403), kFailedPrecondition
// (409, 412), kOutOfRange (416), kResourceExhausted (429), kUnsupported (501), kUnavailable
// (5xx), kIOError otherwise.
Code StatusCodeFor(int http_status);
// The 5xx and 429 statuses worth another attempt.
bool RetryableStatus(int status);

// HttpOptions from a driver's settings (connect_timeout, request_timeout, max_retries,
// skip_verify).
template <class Config>
HttpOptions HttpOptionsOf(const Config& c, std::string skip_verify_key) {
  HttpOptions o;
  o.connect_timeout = c.connect_timeout;
  o.request_timeout = c.request_timeout;
  o.max_retries = c.max_retries;
  o.skip_verify = c.skip_verify;
  o.skip_verify_key = std::move(skip_verify_key);
  return o;
}

}  // namespace dtr::storage
