#include "storage/s3_client.h"

#include <algorithm>

#include "storage/s3_xml.h"

namespace dtr::storage {

namespace {

// S3's error code and message in an error body, both "" when there is none.
std::pair<std::string, std::string> ErrorOf(const HttpReply& r) {
  if (auto e = s3xml::ParseError(r.body)) return {e->code, e->message};
  return {};
}

Code CodeFor(int status, const std::string& s3code) {
  if (s3code == "NoSuchBucket") return Code::kFailedPrecondition;
  if (s3code == "NotImplemented") return Code::kUnsupported;
  if (s3code == "SlowDown") return Code::kUnavailable;
  return StatusCodeFor(status);
}

// 5xx and 429, and S3's own "try again" codes whatever the status.
bool S3Retryable(const HttpReply& r) {
  if (r.status >= 200 && r.status < 300) return false;
  if (RetryableStatus(r.status)) return true;
  std::string code = ErrorOf(r).first;
  return code == "SlowDown" || code == "InternalError" || code == "RequestTimeout";
}

}  // namespace

std::string S3ErrorCode(const Status& s) { return s.tag(); }

S3Client::S3Client(S3Config config)
    : config_(std::move(config)),
      http_(Origin(), HttpOptionsOf(config_, "skipverify"), Describe()) {
  creds_.access_key = config_.access_key;
  creds_.secret_key = config_.secret_key;
  creds_.session_token = config_.session_token;
}

S3Client::~S3Client() = default;

std::string S3Client::Describe() const {
  return config_.driver + " (bucket \"" + config_.bucket + "\" at " + config_.endpoint + ")";
}

std::string S3Client::Origin() const {
  std::string origin = config_.endpoint;
  if (!config_.path_style) {
    auto p = origin.find("://");
    origin = origin.substr(0, p + 3) + config_.bucket + "." + origin.substr(p + 3);
  }
  return origin;
}

std::string S3Client::PathFor(const std::string& key) const {
  std::string path = config_.path_style ? "/" + sigv4::UriEncode(config_.bucket, true) : "";
  if (!key.empty() || !config_.path_style) path += "/" + sigv4::UriEncode(key, false);
  return path;
}

Result<S3Response> S3Client::Do(const S3Call& call) {
  std::string path = PathFor(call.key);
  std::string query = sigv4::CanonicalQuery(call.query);
  std::string payload_hash =
      config_.unsigned_payload || call.body.size() > (64u << 20)
          ? std::string(sigv4::kUnsignedPayload)
          : (call.body.empty() ? std::string(sigv4::kEmptySha256) : sigv4::Sha256Hex(call.body));
  HttpCall hc{call.op + (call.key.empty() ? "" : " " + call.key), call.method,
              query.empty() ? path : path + "?" + query};
  hc.headers = call.headers;
  hc.body = call.body;
  hc.idempotent = call.idempotent;
  hc.max_body = call.max_body;
  // Every attempt is signed anew: its date is part of the signature.
  auto sign = [&](const HttpCall&, HttpHeaders& headers) {
    std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
    sigv4::Request sr;
    sr.method = call.method;
    sr.canonical_uri = path;
    sr.query = call.query;
    sr.payload_hash = payload_hash;
    sr.headers.emplace_back("host", config_.Host());
    sr.headers.emplace_back("x-amz-date", amz_date);
    sr.headers.emplace_back("x-amz-content-sha256", payload_hash);
    if (!creds_.session_token.empty()) {
      sr.headers.emplace_back("x-amz-security-token", creds_.session_token);
    }
    for (const auto& h : call.headers) sr.headers.push_back(h);
    sigv4::Signed sig = sigv4::Sign(creds_, config_.region, "s3", sr, amz_date);
    headers.emplace_back("Host", config_.Host());
    headers.emplace_back("x-amz-date", amz_date);
    headers.emplace_back("x-amz-content-sha256", payload_hash);
    if (!creds_.session_token.empty()) {
      headers.emplace_back("x-amz-security-token", creds_.session_token);
    }
    headers.emplace_back("Authorization", sig.authorization);
  };
  auto r = http_.Send(hc, sign, S3Retryable);
  if (!r.ok()) return r.status();
  bool accepted = std::find(call.accept.begin(), call.accept.end(), r->status) != call.accept.end();
  if ((r->status >= 200 && r->status < 300) || accepted) return r;

  auto [code, message] = ErrorOf(*r);
  std::string text = Describe() + ": " + hc.op + ": HTTP " + std::to_string(r->status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  if (code == "NoSuchBucket" || (r->status == 404 && call.key.empty())) {
    code = "NoSuchBucket";
    text += " (the bucket must exist; this driver does not create it)";
  }
  if (r->attempts > 1) text += " (after " + std::to_string(r->attempts) + " attempts)";
  return Status(CodeFor(r->status, code), text, code);
}

std::string S3Client::Presign(std::string_view method, const std::string& key,
                              std::chrono::seconds expires) const {
  std::string path = PathFor(key);
  std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
  std::string q = sigv4::PresignQuery(creds_, config_.region, "s3", method, config_.Host(), path,
                                      {}, expires, amz_date);
  return Origin() + path + "?" + q;
}

}  // namespace dtr::storage
