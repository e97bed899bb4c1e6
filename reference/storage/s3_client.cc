#include "storage/s3_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include "storage/s3_xml.h"

namespace dtr::storage {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string Reason(httplib::Error e) {
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
      return "TLS certificate verification failed (skipverify: true accepts any certificate)";
    case httplib::Error::Canceled:
      return "canceled (answer body too large)";
    default:
      return httplib::to_string(e);
  }
}

Code CodeFor(int status, const std::string& s3code) {
  if (s3code == "NoSuchBucket") return Code::kFailedPrecondition;
  if (s3code == "NotImplemented") return Code::kUnsupported;
  if (s3code == "SlowDown") return Code::kUnavailable;
  switch (status) {
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
      return status >= 500 ? Code::kUnavailable : Code::kIOError;
  }
}

bool RetryableStatus(int status, const std::string& s3code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 ||
         s3code == "SlowDown" || s3code == "InternalError" || s3code == "RequestTimeout";
}

}  // namespace

std::string S3Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

std::string S3ErrorCode(const Status& s) { return s.tag(); }

S3Client::S3Client(S3Config config) : config_(std::move(config)) {
  creds_.access_key = config_.access_key;
  creds_.secret_key = config_.secret_key;
  creds_.session_token = config_.session_token;
}

S3Client::~S3Client() = default;

std::string S3Client::Describe() const {
  return config_.driver + " (bucket \"" + config_.bucket + "\" at " + config_.endpoint + ")";
}

std::string S3Client::PathFor(const std::string& key) const {
  std::string path = config_.path_style ? "/" + sigv4::UriEncode(config_.bucket, true) : "";
  if (!key.empty() || !config_.path_style) path += "/" + sigv4::UriEncode(key, false);
  return path;
}

std::unique_ptr<httplib::Client> S3Client::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  std::string origin = config_.endpoint;
  if (!config_.path_style) {
    auto p = origin.find("://");
    origin = origin.substr(0, p + 3) + config_.bucket + "." + origin.substr(p + 3);
  }
  auto c = std::make_unique<httplib::Client>(origin);
  auto ms = [](std::chrono::milliseconds d) {
    return std::make_pair(d.count() / 1000, (d.count() % 1000) * 1000);
  };
  auto [cs, cus] = ms(config_.connect_timeout);
  auto [rs, rus] = ms(config_.request_timeout);
  c->set_connection_timeout(cs, cus);
  c->set_read_timeout(rs, rus);
  c->set_write_timeout(rs, rus);
  c->set_keep_alive(true);
  c->set_url_encode(false);
  c->set_decompress(false);
  c->set_follow_location(false);
  if (config_.secure()) c->enable_server_certificate_verification(!config_.skip_verify);
  return c;
}

void S3Client::Release(std::unique_ptr<httplib::Client> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 32) idle_.push_back(std::move(c));
}

Result<S3Response> S3Client::Once(const S3Call& call, bool* retryable) {
  *retryable = false;
  std::string path = PathFor(call.key);
  std::string query = sigv4::CanonicalQuery(call.query);
  std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
  std::string payload_hash =
      config_.unsigned_payload || call.body.size() > (64u << 20)
          ? std::string(sigv4::kUnsignedPayload)
          : (call.body.empty() ? std::string(sigv4::kEmptySha256) : sigv4::Sha256Hex(call.body));

  sigv4::Request sr;
  sr.method = call.method;
  sr.canonical_uri = path;
  sr.query = call.query;
  sr.payload_hash = payload_hash;
  sr.headers.emplace_back("host", config_.Host());
  sr.headers.emplace_back("x-amz-date", amz_date);
  sr.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!creds_.session_token.empty())
    sr.headers.emplace_back("x-amz-security-token", creds_.session_token);
  for (const auto& h : call.headers) sr.headers.push_back(h);
  sigv4::Signed sig = sigv4::Sign(creds_, config_.region, "s3", sr, amz_date);

  httplib::Request req;
  req.method = call.method;
  req.path = query.empty() ? path : path + "?" + query;
  for (const auto& [k, v] : sr.headers) req.headers.emplace(k == "host" ? "Host" : k, v);
  req.headers.emplace("Authorization", sig.authorization);
  req.headers.emplace("Accept-Encoding", "identity");
  if (!call.body.empty()) {
    std::string_view body = call.body;
    req.content_length_ = body.size();
    req.content_provider_ = [body](size_t offset, size_t length, httplib::DataSink& sink) {
      return sink.write(body.data() + offset, std::min(length, body.size() - offset));
    };
    if (!req.has_header("Content-Type"))
      req.headers.emplace("Content-Type", "application/octet-stream");
  }
  S3Response out;
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
  bool ok = client->send(req, res, err);
  std::string what = Describe() + ": " + call.op + (call.key.empty() ? "" : " " + call.key);
  if (!ok || err != httplib::Error::Success) {
    if (too_big) {
      return Status(Code::kIOError,
                    what + ": the answer is longer than " + std::to_string(max_body) + " bytes");
    }
    // The connection is in an unknown state: drop it. A certificate that does not verify
    // will not verify on the next attempt either.
    *retryable = err != httplib::Error::SSLServerVerification &&
                 err != httplib::Error::SSLLoadingCerts;
    return Status(Code::kUnavailable,
                  what + ": " + Reason(err) + "; the object store is unavailable");
  }
  Release(std::move(client));
  out.status = res.status;
  for (const auto& [k, v] : res.headers) out.headers.emplace_back(k, v);
  bool accepted =
      std::find(call.accept.begin(), call.accept.end(), res.status) != call.accept.end();
  if ((res.status >= 200 && res.status < 300) || accepted) return out;

  std::string code;
  std::string message;
  if (auto e = s3xml::ParseError(out.body)) {
    code = e->code;
    message = e->message;
  }
  *retryable = RetryableStatus(res.status, code);
  std::string text = what + ": HTTP " + std::to_string(res.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  if (code == "NoSuchBucket" || (res.status == 404 && call.key.empty())) {
    code = "NoSuchBucket";
    text += " (the bucket must exist; this driver does not create it)";
  }
  return Status(CodeFor(res.status, code), text, code);
}

Result<S3Response> S3Client::Do(const S3Call& call) {
  thread_local std::mt19937 rng(std::random_device{}());
  auto deadline = std::chrono::steady_clock::now() + config_.request_timeout;
  int attempts = call.idempotent ? config_.max_retries + 1 : 1;
  for (int i = 0;; ++i) {
    bool retryable = false;
    auto r = Once(call, &retryable);
    if (r.ok() || !retryable || i + 1 >= attempts) {
      if (!r.ok() && retryable && i > 0) {
        return Status(r.status().code(),
                      r.status().message() + " (after " + std::to_string(i + 1) + " attempts)",
                      r.status().tag());
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

std::string S3Client::Presign(std::string_view method, const std::string& key,
                              std::chrono::seconds expires) const {
  std::string path = PathFor(key);
  std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
  std::string q = sigv4::PresignQuery(creds_, config_.region, "s3", method, config_.Host(), path,
                                      {}, expires, amz_date);
  std::string origin = config_.endpoint;
  if (!config_.path_style) {
    auto p = origin.find("://");
    origin = origin.substr(0, p + 3) + config_.bucket + "." + origin.substr(p + 3);
  }
  return origin + path + "?" + q;
}

}  // namespace dtr::storage
