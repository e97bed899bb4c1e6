// AWS Signature Version 4, the way S3 and S3-compatible stores (Swift's s3api, IBM COS,
// s3rver) authenticate requests: signed headers, and presigned URLs (query-string auth)
// for redirects. Pure: no clock and no I/O, so the published AWS test vectors pin it down.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dtr::storage::sigv4 {

using Params = std::vector<std::pair<std::string, std::string>>;  // name, raw value

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when set
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything else
// becomes %XX (upper case); '/' stays unless encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash);

// The canonical query string: names and values encoded, sorted by name then value.
std::string CanonicalQuery(const Params& params);

// "20130524T000000Z".
std::string AmzDate(std::chrono::system_clock::time_point t);

std::string Sha256Hex(std::string_view data);

// The request as it will be sent. `canonical_uri` is the path exactly as it goes on the wire
// (already encoded, see UriEncode); `headers` are the headers to sign (any case); `host` must
// be among them.
struct Request {
  std::string method;
  std::string canonical_uri;
  Params query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // hex sha256 of the body, or kUnsignedPayload
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header value
};

// Signs `req` at `amz_date` for region/service. The caller sends x-amz-date (and
// x-amz-content-sha256 for S3) and includes them in req.headers before signing.
Signed Sign(const Credentials& creds, std::string_view region, std::string_view service,
            const Request& req, std::string_view amz_date);

// The derived key: HMAC chain over date (YYYYMMDD), region, service, "aws4_request".
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Presigns a request (query-string auth, signed header: host only, UNSIGNED-PAYLOAD): returns
// the complete query string to append after '?', X-Amz-Signature last.
std::string PresignQuery(const Credentials& creds, std::string_view region,
                         std::string_view service, std::string_view method, std::string_view host,
                         std::string_view canonical_uri, const Params& extra_query,
                         std::chrono::seconds expires, std::string_view amz_date);

}  // namespace dtr::storage::sigv4
