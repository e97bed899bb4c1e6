// notary-signer's API when it runs as its own process (`dtr notary-signer`): the
// CryptoService calls as JSON over HTTPS with mutual TLS (notary uses gRPC; the calls are
// the same). Only clients whose certificate verified against the signer's client CA are
// served. Private keys never cross it: requests carry public keys and messages, answers
// carry public keys and signatures.
//   POST /v1/keys            {"gun","role","algorithm"}            -> public key
//   GET  /v1/keys/<key id>                                          -> public key | 404
//   POST /v1/sign            {"key": public key, "message": base64}  -> {"keyid","method","sig"}
// A public key is {"keytype": ..., "keyval": {"public": base64}}; errors are
// {"error": message} with 400, 404 (no such key), 403 (no client certificate) or 500.
#pragma once

#include "core/tuf/repo.h"
#include "http/message.h"

namespace dtr::notary {

class SignerService {
 public:
  // `require_client_cert`: refuse callers without a verified client certificate (off only
  // in tests that drive the service in process).
  SignerService(tuf::CryptoService* signer, bool require_client_cert = true)
      : signer_(signer), require_client_cert_(require_client_cert) {}

  void Handle(http::Request& req, http::Response& res);

 private:
  tuf::CryptoService* signer_;
  bool require_client_cert_;
};

}  // namespace dtr::notary
