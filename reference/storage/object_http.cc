#include "storage/object_http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>
#include <thread>

namespace dtr::storage {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Reason(httplib::Error e, const std::string& skip_verify_key) {
  switch (e) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "connection lost or timed out while reading the answer";
    case httplib::Error::Write:
      return "connection lost or timed out while sending";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate verification failed" +
             (skip_verify_key.empty() ? ""
                                      : " (" + skip_verify_key + ": true accepts any certificate)");
    default:
      return httplib::to_string(e);
  }
}

}  // namespace

bool RetryableStatus(int status) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

ObjectHttp::ObjectHttp(std::string origin, HttpOptions options, std::string describe)
    : origin_(std::move(origin)), options_(options), describe_(std::move(describe)) {}

ObjectHttp::~ObjectHttp() = default;

std::unique_ptr<httplib::Client> ObjectHttp::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<httplib::Client>(origin_);
  auto split = [](std::chrono::milliseconds d) {
    return std::make_pair(d.count() / 1000, (d.count() % 1000) * 1000);
  };
  auto [cs, cus] = split(options_.connect_timeout);
  auto [rs, rus] = split(options_.request_timeout);
  c->set_connection_timeout(cs, cus);
  c->set_read_timeout(rs, rus);
  c->set_write_timeout(rs, rus);
  c->set_keep_alive(true);
  c->set_url_encode(false);
  c->set_decompress(false);
  c->set_follow_location(false);
  if (origin_.rfind("https://", 0) == 0) {
    c->enable_server_certificate_verification(!options_.skip_verify);
  }
  return c;
}

void ObjectHttp::Release(std::unique_ptr<httplib::Client> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 32) idle_.push_back(std::move(c));
}

Result<HttpReply> ObjectHttp::Once(const HttpCall& call, const HttpHeaders& headers,
                                   const std::function<bool(const HttpReply&)>& retry_if,
                                   bool* retryable) {
  *retryable = false;
  httplib::Request req;
  req.method = call.method;
  req.path = call.target;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  req.headers.emplace("Accept-Encoding", "identity");
  if (!call.body.empty()) {
    std::string_view body = call.body;
    req.content_length_ = body.size();
    req.content_provider_ = [body](size_t offset, size_t length, httplib::DataSink& sink) {
      return sink.write(body.data() + offset, std::min(length, body.size() - offset));
    };
    if (!req.has_header("Content-Type")) {
      req.headers.emplace("Content-Type", "application/octet-stream");
    }
  }
  HttpReply out;
  bool too_big = false;
  size_t max_body = call.max_body;
  if (call.method != "HEAD") {
    req.content_receiver = [&out, &too_big, max_body](const char* data, size_t n, uint64_t,
                                                      uint64_t) {
      if (out.body.size() + n > max_body) {
        too_big = true;
        return false;
      }
      out.body.append(data, n);
      return true;
    };
  }
  auto client = Acquire();
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = client->send(req, res, err);
  if (!sent || err != httplib::Error::Success) {
    std::string what = describe_ + ": " + call.op;
    if (too_big) {
      return Status(Code::kIOError,
                    what + ": the answer is longer than " + std::to_string(max_body) + " bytes");
    }
    *retryable =
        err != httplib::Error::SSLServerVerification && err != httplib::Error::SSLLoadingCerts;
    return Status(Code::kUnavailable, what + ": " + Reason(err, options_.skip_verify_key) +
                                          "; the object store is unavailable");
  }
  Release(std::move(client));
  out.status = res.status;
  for (const auto& [k, v] : res.headers) out.headers.emplace_back(k, v);
  *retryable = retry_if ? retry_if(out) : RetryableStatus(res.status);
  return out;
}

Result<HttpReply> ObjectHttp::Send(const HttpCall& call,
                                   const std::function<void(const HttpCall&, HttpHeaders&)>& sign,
                                   const std::function<bool(const HttpReply&)>& retry_if) {
  thread_local std::mt19937 rng(std::random_device{}());
  auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  int attempts = call.idempotent ? options_.max_retries + 1 : 1;
  for (int i = 0;; ++i) {
    HttpHeaders headers = call.headers;
    if (sign) sign(call, headers);
    bool retryable = false;
    auto r = Once(call, headers, retry_if, &retryable);
    if (r.ok()) r->attempts = i + 1;
    if (!retryable || i + 1 >= attempts) {
      if (!r.ok() && i > 0) {
        return Status(r.status().code(),
                      r.status().message() + " (after " + std::to_string(i + 1) + " attempts)");
      }
      return r;
    }
    // 100 ms, 200 ms, 400 ms... with jitter, capped at 5 s, never past the request timeout.
    auto base = std::chrono::milliseconds(100LL << std::min(i, 6));
    auto wait = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(5000),
        base / 2 + std::chrono::milliseconds(
                       std::uniform_int_distribution<int64_t>(0, base.count())(rng)));
    if (std::chrono::steady_clock::now() + wait > deadline) return r;
    std::this_thread::sleep_for(wait);
  }
}

Code StatusCodeFor(int http_status) {
  switch (http_status) {
    case 404:
      return Code::kNotFound;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 409:
    case 412:
      return Code::kFailedPrecondition;
    case 416:
      return Code::kOutOfRange;
    case 429:
      return Code::kResourceExhausted;
    case 501:
      return Code::kUnsupported;
    default:
      return http_status >= 500 ? Code::kUnavailable : Code::kIOError;
  }
}

Status HttpFailure(const std::string& what, const HttpReply& reply, const std::string& detail,
                   const std::string& tag) {
  Code code = StatusCodeFor(reply.status);
  std::string text = what + ": HTTP " + std::to_string(reply.status);
  if (!detail.empty()) text += " " + detail;
  return Status(code, text, tag);
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool ParseHttpDate(const std::string& s, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  if (strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return false;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

bool HeaderNumber(const HttpReply& r, std::string_view name, uint64_t* out) {
  std::string v = r.Header(name);
  if (v.empty() || v.size() > 19) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace dtr::storage
