#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstring>

namespace dtr::http {

namespace {

// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange and AEAD ciphers only.
const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
// Session ticket keys: 16 bytes of name, 32 of HMAC key, 32 of AES key.
constexpr size_t kTicketKeysLength = 80;

Status Invalid(const std::string& what) {
  return Status(Code::kInvalidArgument, what + ": " + OpenSslErrors());
}

Result<std::shared_ptr<SSL_CTX>> BuildContext(const TlsFiles& f) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> holder(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  SSL_CTX* ctx = holder.get();
  if (ctx == nullptr) return Invalid("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
    return Invalid("cannot set the TLS cipher lists");
  }
  if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
    return Invalid("cannot set the TLS key exchange groups");
  }
  // Idle keep-alive connections give their buffers back: thousands of them stay cheap.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, f.cert_file.c_str()) != 1) {
    return Invalid("cannot load the TLS certificate " + f.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, f.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Invalid("cannot load the TLS private key " + f.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Invalid("the TLS key " + f.key_file + " does not belong to the certificate " +
                   f.cert_file);
  }
  // Resumption: stateless tickets (TLS 1.2 and 1.3) and a server-side cache for clients
  // that only offer session ids. One TLS 1.3 ticket is enough for one-request clients.
  static const unsigned char kSessionContext[] = "dtr-reference";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, 20000);
  SSL_CTX_set_timeout(ctx, 3600);
  SSL_CTX_set_num_tickets(ctx, 1);
  if (!f.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_file(ctx, f.client_ca_file.c_str()) != 1) {
      return Invalid("cannot load the client CA file " + f.client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.client_ca_file.c_str());
    if (names == nullptr) return Invalid("no CA certificate in " + f.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);
    // Asked for, not required: clients without a certificate log in with passwords or
    // tokens. A certificate that is sent must verify, or the handshake fails.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(ctx, 5);
  }
  return holder;
}

std::string FileFingerprint(const std::string& path) {
  if (path.empty()) return "-";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Create(TlsFiles files) {
  std::shared_ptr<TlsContext> t(new TlsContext(std::move(files)));
  if (Status s = t->Reload(); !s.ok()) return s;
  return t;
}

TlsContext::~TlsContext() = default;

std::string TlsContext::Fingerprint() const {
  return FileFingerprint(files_.cert_file) + "|" + FileFingerprint(files_.key_file) + "|" +
         FileFingerprint(files_.client_ca_file);
}

Status TlsContext::Reload() {
  std::string print = Fingerprint();
  auto built = BuildContext(files_);
  if (!built.ok()) return built.status();
  std::shared_ptr<SSL_CTX> next = std::move(built.value());
  std::lock_guard lock(mu_);
  if (ctx_) {
    unsigned char keys[kTicketKeysLength];
    if (SSL_CTX_get_tlsext_ticket_keys(ctx_.get(), keys, sizeof keys) == 1) {
      SSL_CTX_set_tlsext_ticket_keys(next.get(), keys, sizeof keys);
    }
    OPENSSL_cleanse(keys, sizeof keys);
  }
  ctx_ = std::move(next);
  fingerprint_ = std::move(print);
  ++generation_;
  return Status::Ok();
}

Result<bool> TlsContext::ReloadIfChanged() {
  std::string print = Fingerprint();
  {
    std::lock_guard lock(mu_);
    if (print == fingerprint_) return false;
  }
  if (Status s = Reload(); !s.ok()) {
    // Remember the broken files so the error is reported once, not on every check.
    std::lock_guard lock(mu_);
    fingerprint_ = print;
    return s;
  }
  return true;
}

std::shared_ptr<SSL_CTX> TlsContext::Get() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

uint64_t TlsContext::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

std::string VerifiedPeerCommonName(SSL* ssl) {
  if (ssl == nullptr) return "";
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  // A name with a NUL or control characters is not an account name.
  for (char ch : cn) {
    if (static_cast<unsigned char>(ch) < 0x20) return "";
  }
  return cn;
}

}  // namespace dtr::http
