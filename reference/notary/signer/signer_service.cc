#include "notary/signer/signer_service.h"

#include <nlohmann/json.hpp>

#include "app/log.h"
#include "core/tuf/encoding.h"

namespace dtr::notary {

using nlohmann::json;

namespace {

void Reply(http::Response& res, int status, const json& body) {
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  res.body = body.dump();
}

void Error(http::Response& res, int status, const std::string& message) {
  Reply(res, status, json{{"error", message}});
}

json KeyJson(const tuf::PublicKey& k) {
  return {{"keytype", k.type()}, {"keyval", {{"public", tuf::Base64Encode(k.value())}}}};
}

Result<std::string> ReadSmallBody(http::Request& req) {
  std::string body;
  char buf[8192];
  while (req.body != nullptr) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n < 0) return InvalidArgument("request body incomplete");
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
    if (body.size() > (4u << 20)) return Status(Code::kTooLarge, "request too large");
  }
  return body;
}

int StatusFor(const Status& s) {
  if (s.is(Code::kNotFound)) return 404;
  if (s.is(Code::kInvalidArgument)) return 400;
  return 500;
}

}  // namespace

void SignerService::Handle(http::Request& req, http::Response& res) {
  if (require_client_cert_ && req.client_cert_subject.empty()) {
    return Error(res, 403, "a client certificate from the signer's client CA is required");
  }
  if (req.method == "GET" && req.path.rfind("/v1/keys/", 0) == 0) {
    auto key = signer_->GetKey(req.path.substr(9));
    if (!key.ok()) return Error(res, StatusFor(key.status()), key.status().message());
    if (!key->has_value()) return Error(res, 404, "no such key");
    return Reply(res, 200, KeyJson(**key));
  }
  if (req.method == "GET" && req.path == "/_health") return Reply(res, 200, json::object());
  if (req.method != "POST" || (req.path != "/v1/keys" && req.path != "/v1/sign")) {
    return Error(res, 404, "no such endpoint");
  }
  auto body = ReadSmallBody(req);
  if (!body.ok()) return Error(res, 400, body.status().message());
  json in = json::parse(*body, nullptr, false);
  if (!in.is_object()) return Error(res, 400, "the body must be a JSON object");
  if (req.path == "/v1/keys") {
    auto key =
        signer_->Create(in.value("gun", ""), in.value("role", ""), in.value("algorithm", ""));
    if (!key.ok()) return Error(res, StatusFor(key.status()), key.status().message());
    log::Info("notary-signer: key " + key->id() + " for " + in.value("role", "") + " of " +
              in.value("gun", ""));
    return Reply(res, 200, KeyJson(*key));
  }
  const json& k = in.contains("key") ? in["key"] : json();
  auto pub = tuf::Base64Decode(k.is_object() && k.contains("keyval") && k["keyval"].is_object()
                                   ? k["keyval"].value("public", "")
                                   : "");
  auto message = tuf::Base64Decode(in.value("message", ""));
  if (!k.is_object() || !pub.ok() || !message.ok()) {
    return Error(res, 400, "sign needs a key and a base64 message");
  }
  auto sig = signer_->Sign(tuf::PublicKey(k.value("keytype", ""), *pub), *message);
  if (!sig.ok()) return Error(res, StatusFor(sig.status()), sig.status().message());
  Reply(
      res, 200,
      json{{"keyid", sig->key_id}, {"method", sig->method}, {"sig", tuf::Base64Encode(sig->sig)}});
}

}  // namespace dtr::notary
