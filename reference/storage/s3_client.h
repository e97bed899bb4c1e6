// The S3 REST API over HTTP(S): signs each attempt with SigV4 and sends it through
// ObjectHttp (keep-alive pool, timeouts, retries of idempotent requests with backoff on
// connection errors, 5xx and S3's SlowDown/InternalError/RequestTimeout), and turns failures
// into Status values whose messages name the backend, the operation and the key. No storage
// semantics here.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/object_http.h"
#include "storage/s3_config.h"
#include "storage/sigv4.h"

namespace dtr::storage {

using S3Response = HttpReply;

struct S3Call {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  S3Call(std::string op_, std::string method_, std::string key_, sigv4::Params query_ = {},
         Headers headers_ = {}, std::string_view body_ = {}, bool idempotent_ = true,
         size_t max_body_ = 16u << 20, std::vector<int> accept_ = {})
      : op(std::move(op_)),
        method(std::move(method_)),
        key(std::move(key_)),
        query(std::move(query_)),
        headers(std::move(headers_)),
        body(body_),
        idempotent(idempotent_),
        max_body(max_body_),
        accept(std::move(accept_)) {}

  std::string op;      // the S3 action, for messages: "PutObject", "ListObjectsV2"...
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // object key, unencoded; "" addresses the bucket
  sigv4::Params query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // not owned; must outlive the call
  bool idempotent = true;
  size_t max_body = 16u << 20;  // longer response bodies fail the call
  // Statuses that are answers rather than failures (e.g. 404 for a HEAD that probes).
  std::vector<int> accept;
};

class S3Client {
 public:
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Config& config() const { return config_; }

  // Sends the call (with retries when it is idempotent). 2xx and accepted statuses come
  // back as a response; anything else as a Status: kNotFound (404), kPermissionDenied (403),
  // kOutOfRange (416), kFailedPrecondition (412, 409, a missing bucket), kUnavailable
  // (connection errors, timeouts, 5xx after the retries), kUnsupported (501, NotImplemented),
  // kIOError otherwise; `S3ErrorCode` extracts the S3 code from such a message.
  Result<S3Response> Do(const S3Call& call);

  // A presigned URL for `method` on `key`, valid for `expires`.
  std::string Presign(std::string_view method, const std::string& key,
                      std::chrono::seconds expires) const;

  // "s3 (bucket "b" at http://127.0.0.1:8080)": how messages name this backend.
  std::string Describe() const;

  // The request path for a key: "/bucket/key" (path-style) or "/key", encoded.
  std::string PathFor(const std::string& key) const;

 private:
  // scheme://host[:port], with the bucket in the host unless path-style.
  std::string Origin() const;

  S3Config config_;
  sigv4::Credentials creds_;
  ObjectHttp http_;
};

// The S3 error code a Status from S3Client::Do carries ("NoSuchKey", "SlowDown"...), "" if
// none.
std::string S3ErrorCode(const Status& s);

}  // namespace dtr::storage
