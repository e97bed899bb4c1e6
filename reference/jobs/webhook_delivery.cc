#include "jobs/webhook_delivery.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <httplib.h>

#include <memory>

#include "http/message.h"

namespace dtr::jobs {

namespace {

constexpr size_t kMaxEndpointLength = 2048;
constexpr size_t kMaxPemLength = 64 * 1024;

struct Url {
  bool https = false;
  std::string host;  // without brackets
  int port = 0;
  std::string user, password;
  std::string target;  // path and query
};

bool StartsWithNoCase(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

Result<Url> ParseUrl(const std::string& s) {
  if (s.empty()) return InvalidArgument("endpoint is required");
  if (s.size() > kMaxEndpointLength) {
    return InvalidArgument("endpoint is longer than " + std::to_string(kMaxEndpointLength) +
                           " characters");
  }
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) {
      return InvalidArgument("endpoint must not contain spaces or control characters");
    }
  }
  Url u;
  size_t rest;
  if (StartsWithNoCase(s, "https://")) {
    u.https = true;
    rest = 8;
  } else if (StartsWithNoCase(s, "http://")) {
    rest = 7;
  } else {
    return InvalidArgument("endpoint must be an http:// or https:// URL");
  }
  size_t end = s.find_first_of("/?#", rest);
  if (end == std::string::npos) end = s.size();
  std::string authority = s.substr(rest, end - rest);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    u.user = http::PercentDecode(userinfo.substr(0, colon), false);
    if (colon != std::string::npos) {
      u.password = http::PercentDecode(userinfo.substr(colon + 1), false);
    }
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("endpoint has an unclosed '['");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return InvalidArgument("endpoint host is malformed");
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return InvalidArgument("endpoint needs a host");
  u.port = u.https ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgument("endpoint port must be a number from 1 to 65535");
    }
    u.port = std::stoi(port);
  }
  u.target = s.substr(end);
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
  return u;
}

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

// The certificates of `pem` in a new store; an error when there are none or the text holds
// anything else.
Result<StorePtr> LoadCertificates(const std::string& pem) {
  if (pem.size() > kMaxPemLength) return InvalidArgument("tlsCert is larger than 64 KiB");
  StorePtr store(X509_STORE_new());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!store || !bio) return Status(Code::kInternal, "out of memory");
  int count = 0;
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    int added = X509_STORE_add_cert(store.get(), cert);
    X509_free(cert);
    if (added != 1) {
      ERR_clear_error();
      return InvalidArgument("tlsCert holds a certificate that cannot be used");
    }
    ++count;
  }
  unsigned long err = ERR_peek_last_error();
  ERR_clear_error();
  bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (count == 0 || (err != 0 && !clean_end)) {
    return InvalidArgument(
        "tlsCert must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)");
  }
  return store;
}

}  // namespace

Status ValidateEndpoint(const std::string& endpoint) { return ParseUrl(endpoint).status(); }

Status ValidateCertificatePem(const std::string& pem) { return LoadCertificates(pem).status(); }

Status PostJson(const DeliveryTarget& target, const std::string& body, int64_t timeout_ms,
                int* http_status) {
  *http_status = 0;
  auto url = ParseUrl(target.endpoint);
  if (!url.ok()) return url.status();
  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* tls = nullptr;
  if (url->https) {
    auto c = std::make_unique<httplib::SSLClient>(url->host, url->port);
    tls = c.get();
    if (target.skip_tls_verification) {
      c->enable_server_certificate_verification(false);
    } else {
      c->enable_server_certificate_verification(true);
      if (!target.tls_cert.empty()) {
        auto store = LoadCertificates(target.tls_cert);
        if (!store.ok()) return store.status();
        c->set_ca_cert_store(store->release());  // the client owns it from here
      }
    }
    client = std::move(c);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url->host, url->port);
  }
  time_t sec = static_cast<time_t>(timeout_ms / 1000);
  time_t usec = static_cast<time_t>((timeout_ms % 1000) * 1000);
  client->set_connection_timeout(sec, usec);
  client->set_read_timeout(sec, usec);
  client->set_write_timeout(sec, usec);
  client->set_follow_location(false);
  client->set_keep_alive(false);
  if (!url->user.empty() || !url->password.empty()) {
    client->set_basic_auth(url->user.c_str(), url->password.c_str());
  }
  httplib::Headers headers = {{"User-Agent", "dtr-reference-webhook/1"}};
  auto res = client->Post(url->target.c_str(), headers, body, "application/json");
  std::string where =
      (url->https ? "https://" : "http://") + url->host + ":" + std::to_string(url->port);
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (tls != nullptr && !target.skip_tls_verification) {
      long v = tls->get_openssl_verify_result();
      if (v != X509_V_OK) why += ": " + std::string(X509_verify_cert_error_string(v));
    }
    return Status(Code::kUnavailable, "POST " + where + ": " + why);
  }
  *http_status = res->status;
  if (res->status < 200 || res->status > 299) {
    return Status(Code::kUnavailable, "POST " + where + " answered " + std::to_string(res->status));
  }
  return Status::Ok();
}

}  // namespace dtr::jobs
