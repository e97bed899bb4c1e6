#include "notary/signer/remote_signer.h"

#include <httplib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/tuf/encoding.h"

namespace dtr::notary {

using nlohmann::json;

namespace {

Result<tuf::PublicKey> KeyFrom(const json& j) {
  if (!j.is_object() || !j.contains("keyval") || !j["keyval"].is_object()) {
    return Status(Code::kIOError, "the signer answered without a key");
  }
  auto pub = tuf::Base64Decode(j["keyval"].value("public", ""));
  if (!pub.ok()) return Status(Code::kIOError, "the signer answered with a malformed key");
  return tuf::PublicKey(j.value("keytype", ""), *pub);
}

Status FromReply(int status, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  std::string why = j.is_object() ? j.value("error", body) : body;
  if (status == 404) return NotFound("signer: " + why);
  if (status == 400) return InvalidArgument("signer: " + why);
  return Status(Code::kUnavailable, "signer answered " + std::to_string(status) + ": " + why);
}

}  // namespace

Result<std::unique_ptr<RemoteSigner>> RemoteSigner::Create(RemoteSignerConfig c) {
  const std::string scheme = "https://";
  if (c.url.rfind(scheme, 0) != 0) {
    return InvalidArgument("the notary-signer URL must be https://HOST:PORT: " + c.url);
  }
  std::string hostport = c.url.substr(scheme.size());
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("the notary-signer URL needs a port");
  std::string host = hostport.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(hostport.substr(colon + 1).c_str());
  if (port <= 0 || port > 65535) return InvalidArgument("bad port in " + c.url);
  for (const auto* f : {&c.ca, &c.cert, &c.key}) {
    if (f->empty() || ::access(f->c_str(), R_OK) != 0) {
      return InvalidArgument(
          "the notary-signer TLS files (CA, client certificate and key) must be readable: '" + *f +
          "'");
    }
  }
  return std::unique_ptr<RemoteSigner>(new RemoteSigner(std::move(c), host, port));
}

Result<std::pair<int, std::string>> RemoteSigner::Call(const std::string& method,
                                                       const std::string& path,
                                                       const std::string& body) {
  httplib::SSLClient client(host_, port_, config_.cert, config_.key);
  client.set_ca_cert_path(config_.ca.c_str());
  client.enable_server_certificate_verification(true);
  time_t sec = config_.timeout_ms / 1000;
  time_t usec = (config_.timeout_ms % 1000) * 1000;
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  client.set_keep_alive(false);
  httplib::Result r = method == "GET" ? client.Get(path.c_str())
                                      : client.Post(path.c_str(), body, "application/json");
  if (!r) {
    return Status(Code::kUnavailable, "cannot reach the notary-signer at " + config_.url + ": " +
                                          httplib::to_string(r.error()));
  }
  return std::make_pair(r->status, r->body);
}

Result<tuf::PublicKey> RemoteSigner::Create(std::string_view gun, std::string_view role,
                                            std::string_view algorithm) {
  auto r =
      Call("POST", "/v1/keys", json{{"gun", gun}, {"role", role}, {"algorithm", algorithm}}.dump());
  if (!r.ok()) return r.status();
  if (r->first != 200) return FromReply(r->first, r->second);
  auto key = KeyFrom(json::parse(r->second, nullptr, false));
  if (!key.ok()) return key;
  std::lock_guard lock(mu_);
  known_[key->id()] = *key;
  return key;
}

Result<std::optional<tuf::PublicKey>> RemoteSigner::GetKey(std::string_view key_id) {
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(std::string(key_id));
    if (it != known_.end()) return std::optional<tuf::PublicKey>(it->second);
  }
  std::string id(key_id);
  if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::optional<tuf::PublicKey>();
  }
  auto r = Call("GET", "/v1/keys/" + id, "");
  if (!r.ok()) return r.status();
  if (r->first == 404) return std::optional<tuf::PublicKey>();
  if (r->first != 200) return FromReply(r->first, r->second);
  auto key = KeyFrom(json::parse(r->second, nullptr, false));
  if (!key.ok()) return key.status();
  if (key->id() != id) return Status(Code::kIOError, "the signer answered with another key");
  std::lock_guard lock(mu_);
  known_[id] = *key;
  return std::optional<tuf::PublicKey>(*key);
}

Result<tuf::Signature> RemoteSigner::Sign(const tuf::PublicKey& key, std::string_view message) {
  json body = {
      {"key", {{"keytype", key.type()}, {"keyval", {{"public", tuf::Base64Encode(key.value())}}}}},
      {"message", tuf::Base64Encode(message)}};
  auto r = Call("POST", "/v1/sign", body.dump());
  if (!r.ok()) return r.status();
  if (r->first != 200) return FromReply(r->first, r->second);
  json j = json::parse(r->second, nullptr, false);
  auto sig = tuf::Base64Decode(j.is_object() ? j.value("sig", "") : "");
  if (!sig.ok() || sig->empty())
    return Status(Code::kIOError, "the signer answered without a signature");
  // Never pass on a signature that does not verify.
  if (!tuf::VerifySignature(key, j.value("method", ""), *sig, message).ok()) {
    return Status(Code::kIOError, "the signer's signature does not verify");
  }
  return tuf::Signature{key.id(), j.value("method", ""), *sig};
}

}  // namespace dtr::notary
