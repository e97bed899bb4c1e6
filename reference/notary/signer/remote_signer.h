// RemoteSigner: the server's side of a separate `dtr notary-signer`, reached over HTTPS
// with mutual TLS (SignerService's API). It verifies the signer's certificate against `ca`
// and presents `cert`/`key`. Public keys the signer reports are cached; nothing else is.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/tuf/repo.h"

namespace dtr::notary {

struct RemoteSignerConfig {
  std::string url;   // https://host:port
  std::string ca;    // PEM file: the CA that issued the signer's certificate
  std::string cert;  // PEM file: our client certificate
  std::string key;   // PEM file: its key
  int timeout_ms = 10000;
};

class RemoteSigner : public tuf::CryptoService {
 public:
  // Checks the configuration (files readable, URL https); does not connect.
  static Result<std::unique_ptr<RemoteSigner>> Create(RemoteSignerConfig config);

  Result<tuf::PublicKey> Create(std::string_view gun, std::string_view role,
                                std::string_view algorithm) override;
  Result<std::optional<tuf::PublicKey>> GetKey(std::string_view key_id) override;
  Result<tuf::Signature> Sign(const tuf::PublicKey& key, std::string_view message) override;

 private:
  RemoteSigner(RemoteSignerConfig c, std::string host, int port)
      : config_(std::move(c)), host_(std::move(host)), port_(port) {}
  // Sends a request; on success the JSON body and the HTTP status.
  Result<std::pair<int, std::string>> Call(const std::string& method, const std::string& path,
                                           const std::string& body);

  RemoteSignerConfig config_;
  std::string host_;
  int port_;
  std::mutex mu_;
  std::map<std::string, tuf::PublicKey> known_;
};

}  // namespace dtr::notary
