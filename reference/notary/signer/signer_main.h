// `dtr notary-signer`: the signer as its own process (DTR's dtr-notary-signer container),
// serving SignerService over mutual TLS until SIGINT/SIGTERM.
//
//   dtr notary-signer [--listen HOST:PORT] [--data DIR]
//                     [--tls-cert FILE --tls-key FILE --client-ca FILE] [--log-level L]
//
// Without TLS files it makes its own CA in DIR/ca, a server certificate for HOST,
// localhost and 127.0.0.1, and a client certificate for notary-server in
// DIR/client.pem + DIR/client-key.pem; `dtr serve` then uses it with
//   DTR_NOTARY_SIGNER=https://HOST:PORT DTR_NOTARY_SIGNER_CA=DIR/ca/ca.pem
//   DTR_NOTARY_SIGNER_CERT=DIR/client.pem DTR_NOTARY_SIGNER_KEY=DIR/client-key.pem
// Keys are sealed with DTR_SIGNER_PASSPHRASE (or DTR_SIGNER_PASSPHRASE_FILE) in
// DIR/signer.db.
#pragma once

#include <string>
#include <vector>

namespace dtr::notary {

// Returns the process exit code.
int NotarySignerMain(const std::vector<std::string>& args);

}  // namespace dtr::notary
