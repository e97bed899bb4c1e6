// TrustServer: notary-server's HTTP API on the registry's host and port.
//   POST   /v2/<gun>/_trust/tuf/                        publish (multipart, atomic)   push+pull
//   DELETE /v2/<gun>/_trust/tuf/                        delete all trust data         *
//   GET    /v2/<gun>/_trust/tuf/<role>.json             current metadata              pull
//   GET    /v2/<gun>/_trust/tuf/<role>.<sha256>.json    by checksum                   pull
//   GET    /v2/<gun>/_trust/tuf/<version>.<role>.json   by version                    pull
//   GET    /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key   server key (get or create) push+pull
//   POST   /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key   rotate the server key      push+pull
//   GET    /v2/<gun>/_trust/changefeed, /v2/_trust/changefeed   change feed       pull / catalog
// Errors are notary-server's ({"errors":[{"code","message","detail"}]}), caching headers
// too. Who may do what is the TrustAuthorizer's decision.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tuf/repo.h"
#include "http/message.h"
#include "notary/server/trust_store.h"

namespace dtr::notary {

class TrustAuthorizer {
 public:
  virtual ~TrustAuthorizer() = default;
  // True when the caller may do all of `actions` ("pull", "push", "*") on `gun` (an empty
  // gun is the catalog, for the global changefeed). Otherwise `res` holds the answer.
  virtual bool Authorize(http::Request& req, http::Response& res, const std::string& gun,
                         const std::vector<std::string>& actions) = 0;
  // For the global changefeed, after Authorize: which GUNs the caller may see (null: all).
  virtual std::function<bool(const std::string& gun)> Visible(const http::Request& req) = 0;
};

struct TrustServerOptions {
  std::string key_algorithm = "ecdsa";  // of server-managed keys
  tuf::ServerExpiries expiries;
  size_t max_publish_bytes = 64u << 20;  // the whole multipart body
};

// True for the paths TrustServer serves (so the front router can dispatch before the
// registry, which does not know them).
bool IsTrustPath(std::string_view path);

class TrustServer {
 public:
  // `auth` may be null: everything is allowed (dtr serve --auth none).
  TrustServer(TrustStore* store, tuf::CryptoService* crypto, TrustAuthorizer* auth,
              TrustServerOptions options = {})
      : store_(store), crypto_(crypto), auth_(auth), options_(std::move(options)) {}

  // Serves a trust path; false when `req` is not one.
  bool Handle(http::Request& req, http::Response& res);

  TrustStore& store() { return *store_; }

 private:
  bool Allowed(http::Request& req, http::Response& res, const std::string& gun,
               const std::vector<std::string>& actions);
  void Publish(http::Request& req, http::Response& res, const std::string& gun);
  void Delete(http::Response& res, const std::string& gun);
  void GetFile(http::Response& res, const std::string& gun, const std::string& file);
  void Key(http::Request& req, http::Response& res, const std::string& gun,
           const std::string& role);
  void Changefeed(http::Request& req, http::Response& res, const std::string& gun);
  Result<std::optional<StoredFile>> ServedTimestamp(const std::string& gun);

  TrustStore* store_;
  tuf::CryptoService* crypto_;
  TrustAuthorizer* auth_;
  TrustServerOptions options_;
};

// {"errors":[{"code":code,"message":message[,"detail":detail_json]}]}
void WriteNotaryError(http::Response& res, int status, const std::string& code,
                      const std::string& message, const std::string& detail_json = "");

}  // namespace dtr::notary
