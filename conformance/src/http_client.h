// The suite's HTTP client: one request in, one response (or transport error) out, as a
// value. It answers auth challenges like a real client (auth.h), follows redirects on
// GET/HEAD, bounds every request by the per-request timeout, and keeps a printable copy
// of each request so a failing case can show what proved it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dtrc {

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // "/v2/..." (relative to the base URL) or an absolute URL
  Headers headers{};   // sent as given, repeated names as separate lines
  std::string body{};
  bool chunked = false;          // send body with Transfer-Encoding: chunked, no length
  bool authenticate = true;      // answer WWW-Authenticate challenges
  bool follow_redirects = true;  // on GET/HEAD only
};

enum class TransportError { kNone, kConnect, kTimeout, kTls, kProtocol, kOther };

struct HttpResponse {
  int status = 0;  // 0: no HTTP answer, see error
  std::string reason;
  Headers headers;
  std::string body;
  TransportError error_kind = TransportError::kNone;
  std::string error;         // transport failure, human readable
  std::string url;           // the URL that produced this answer
  std::string request_text;  // printable request (method, URL, headers, body prefix)

  bool ok() const { return status != 0; }
  // First value of a header (case-insensitive name), "" when absent.
  std::string header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // Printable response: status line, headers, first `body_limit` bytes of the body.
  std::string text(std::size_t body_limit = 512) const;
};

struct ClientConfig {
  std::string base_url{};  // scheme://host:port
  std::string user{}, password{}, token{};
  std::string ca_file{};
  bool insecure = false;
  int timeout_seconds = 30;
  bool verbose = false;
};

class HttpClient {
 public:
  explicit HttpClient(ClientConfig config);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse send(const HttpRequest& request);
  const HttpResponse& last() const;

  // Absolute URL for a target ("/v2/..." or absolute).
  std::string absolute(const std::string& target) const;
  // Resolves a Location header value against the URL of the request that returned it.
  static std::string resolve(const std::string& request_url, const std::string& location);
  const std::string& base_url() const;

  // Called with every HTTP answer, including intermediate 401s and redirects.
  void set_observer(std::function<void(const HttpResponse&)> observer);
  // Why the last challenge could not be answered ("" when it could).
  std::string auth_problem() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bytes as printable text: non-printable bytes as \xNN, at most `limit` bytes shown.
std::string printable(std::string_view bytes, std::size_t limit);

}  // namespace dtrc
