// TLS for the HTTP server: a server context built from PEM files. TLS 1.2 and 1.3 only,
// AEAD ciphers with forward secrecy, session tickets and a session cache so a returning
// client resumes instead of paying for a full handshake (skopeo and notary open a new
// connection per request), and optional verification of client certificates against a CA
// (mutual TLS; a certificate is asked for, not required). Reload swaps the context
// atomically: handshakes that started keep the context they started with, and the session
// ticket keys carry over, so tickets issued before a certificate rotation still resume.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace dtr::http {

struct TlsFiles {
  std::string cert_file;       // PEM: the server certificate, then any intermediates
  std::string key_file;        // PEM: its private key
  std::string client_ca_file;  // PEM: CAs whose client certificates are accepted; "" = none
};

class TlsContext {
 public:
  // Loads the files; an error names the file and what is wrong with it.
  static Result<std::shared_ptr<TlsContext>> Create(TlsFiles files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Re-reads the files. On error the current context stays in use.
  Status Reload();
  // Reloads when a file changed (inode, size or modification time) since the last load.
  // True when it reloaded.
  Result<bool> ReloadIfChanged();

  // The context new connections use; holding it keeps it alive across a reload.
  std::shared_ptr<SSL_CTX> Get() const;
  const TlsFiles& files() const { return files_; }
  // Incremented on every successful (re)load.
  uint64_t generation() const;
  bool verifies_clients() const { return !files_.client_ca_file.empty(); }

 private:
  explicit TlsContext(TlsFiles files) : files_(std::move(files)) {}
  std::string Fingerprint() const;

  TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<SSL_CTX> ctx_;
  std::string fingerprint_;
  uint64_t generation_ = 0;
};

// The subject common name of the client certificate of an established connection, when
// the client sent one and it verified against the client CA; "" otherwise.
std::string VerifiedPeerCommonName(SSL* ssl);

// The OpenSSL error queue as one line (and cleared), for error messages.
std::string OpenSslErrors();

}  // namespace dtr::http
