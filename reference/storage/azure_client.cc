#include "storage/azure_client.h"

#include <algorithm>

#include "storage/azure_xml.h"
#include "storage/shared_key.h"
#include "storage/sigv4.h"

namespace dtr::storage {

AzureClient::AzureClient(AzureConfig config)
    : config_(std::move(config)),
      http_(config_.origin, HttpOptionsOf(config_, "skipverify"), Describe()) {}

std::string AzureClient::Describe() const {
  return "azure (container \"" + config_.container + "\" of account \"" + config_.account +
         "\" at " + config_.origin + config_.base_path + ")";
}

std::string AzureClient::PathFor(const std::string& blob) const {
  std::string path = config_.base_path + "/" + sigv4::UriEncode(config_.container, true);
  if (!blob.empty()) path += "/" + sigv4::UriEncode(blob, false);
  return path;
}

std::string AzureClient::BlobUrl(const std::string& blob) const {
  return config_.origin + PathFor(blob);
}

Result<HttpReply> AzureClient::Send(const AzureCall& call) {
  std::string path = PathFor(call.name);
  std::string target = path;
  std::string sep = "?";
  for (const auto& [k, v] : call.query) {
    target += sep + sigv4::UriEncode(k, true) + "=" + sigv4::UriEncode(v, true);
    sep = "&";
  }
  HttpCall hc{call.What(), call.method, target};
  hc.headers = call.headers;
  hc.body = call.body;
  hc.idempotent = call.idempotent;
  hc.max_body = call.max_body;
  if (!call.body.empty()) {
    bool typed = std::any_of(hc.headers.begin(), hc.headers.end(),
                             [](const auto& h) { return h.first == "Content-Type"; });
    if (!typed) hc.headers.emplace_back("Content-Type", "application/octet-stream");
  }
  const AzureConfig& c = config_;
  auto sign = [&c, &call, &path](const HttpCall& req, HttpHeaders& h) {
    h.emplace_back("x-ms-date", HttpDate(std::chrono::system_clock::now()));
    h.emplace_back("x-ms-version", std::string(kAzureApiVersion));
    sharedkey::Request sr{req.method, path, call.query, h};
    sr.headers.emplace_back("Content-Length", std::to_string(req.body.size()));
    if (auto auth = sharedkey::Authorization(c.account, c.key, sr)) {
      h.emplace_back("Authorization", *auth);
    }
  };
  return http_.Send(hc, sign);
}

Status AzureClient::EnsureContainer() {
  std::lock_guard lock(mu_);
  if (container_ready_) return Status::Ok();
  AzureCall create{"Create Container", "PUT", ""};
  create.query = {{"restype", "container"}};
  auto r = Send(create);
  if (!r.ok()) return r.status();
  if (r->status != 201 && r->status != 409) return Failure(Describe() + ": Create Container", *r);
  container_ready_ = true;
  return Status::Ok();
}

Result<HttpReply> AzureClient::Do(const AzureCall& call) {
  if (Status s = EnsureContainer(); !s.ok()) return s;
  auto r = Send(call);
  if (!r.ok()) return r.status();
  bool accepted = std::find(call.accept.begin(), call.accept.end(), r->status) != call.accept.end();
  if ((r->status >= 200 && r->status < 300) || accepted) return r;
  return Failure(Describe() + ": " + call.What(), *r);
}

Status AzureClient::Failure(const std::string& what, const HttpReply& r) {
  std::string code = r.Header("x-ms-error-code");
  std::string detail = code;
  if (auto e = azurexml::ParseError(r.body)) {
    if (code.empty()) code = e->code;
    detail = e->code + ": " + e->message;
    auto nl = detail.find('\n');
    if (nl != std::string::npos) detail.resize(nl);
  }
  // Azure says AuthenticationFailed, Azurite AuthorizationFailure, to a wrong signature.
  if (r.status == 403 && (code == "AuthenticationFailed" || code == "AuthorizationFailure")) {
    detail += " (check storage.azure.accountname and accountkey)";
  }
  return HttpFailure(what, r, detail, code);
}

}  // namespace dtr::storage
