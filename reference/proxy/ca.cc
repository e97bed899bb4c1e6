#include "proxy/ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "http/tls.h"

namespace dtr::proxy {

namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

Status SslError(const std::string& what) {
  return Status(Code::kInternal, what + ": " + http::OpenSslErrors());
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `content` to path through a temporary file, fsync and rename, with `mode`.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IOError("cannot create " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // whatever the umask says
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return IOError("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return IOError("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return IOError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return SslError("cannot generate an EC P-256 key");
  return key;
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return SslError("cannot encode a private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!PEM_write_bio_X509(bio.get(), cert)) return SslError("cannot encode a certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<CertPtr> ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return SslError("not a PEM certificate");
  return cert;
}

Result<KeyPtr> ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return SslError("not a PEM private key");
  return key;
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return SslError("cannot build certificate extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : SslError("cannot add certificate extension " + value);
}

struct CertSpec {
  std::string common_name;
  bool is_ca = false;
  std::vector<std::string> names;  // subjectAltName
  std::string extended_usage;      // serverAuth, clientAuth
  int days = 365;
};

// A certificate for `key` described by `spec`, signed by issuer/issuer_key (self-signed
// when issuer is null).
Result<CertPtr> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new(), X509_free);
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  // A random positive 127-bit serial number.
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_new(), BN_free);
  if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr) {
    return SslError("cannot make a serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_time_adj_ex(X509_getm_notAfter(x), spec.days, 0, nullptr);
  X509_NAME* name = X509_get_subject_name(x);
  if (spec.is_ca) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("DTR reference"), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(x, key) != 1) return SslError("cannot set the certificate's key");
  X509* signer = issuer ? issuer : x;
  std::vector<std::pair<int, std::string>> exts;
  if (spec.is_ca) {
    exts = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
            {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
            {NID_subject_key_identifier, "hash"}};
  } else {
    exts = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature"},
            {NID_ext_key_usage, spec.extended_usage},
            {NID_subject_key_identifier, "hash"},
            {NID_authority_key_identifier, "keyid:always"}};
    if (!spec.names.empty()) {
      std::string san;
      for (const auto& n : spec.names) {
        if (!san.empty()) san += ",";
        san += (IsIpAddress(n) ? "IP:" : "DNS:") + n;
      }
      exts.emplace_back(NID_subject_alt_name, san);
    }
  }
  for (const auto& [nid, value] : exts) {
    if (Status s = AddExt(x, signer, nid, value); !s.ok()) return s;
  }
  if (X509_sign(x, issuer_key, EVP_sha256()) == 0) return SslError("cannot sign a certificate");
  return cert;
}

std::set<std::string> SubjectAltNames(X509* cert) {
  std::set<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      const unsigned char* d = ASN1_STRING_get0_data(g->d.dNSName);
      out.emplace(reinterpret_cast<const char*>(d),
                  static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD) {
      const unsigned char* d = ASN1_STRING_get0_data(g->d.iPAddress);
      int len = ASN1_STRING_length(g->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = "";
      if (len == 4) inet_ntop(AF_INET, d, text, sizeof text);
      if (len == 16) inet_ntop(AF_INET6, d, text, sizeof text);
      out.emplace(text);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Canonical(const std::string& name) {
  if (!IsIpAddress(name)) return name;
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN] = "";
  if (inet_pton(AF_INET, name.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, text, sizeof text);
  } else if (inet_pton(AF_INET6, name.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, text, sizeof text);
  }
  return text;
}

}  // namespace

std::vector<std::string> ServerCertNames(const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  auto add = [&](std::string h) {
    if (h.size() > 2 && h.front() == '[') {
      h = h.substr(1, h.find(']') - 1);  // [::1]:443
    } else if (std::count(h.begin(), h.end(), ':') == 1) {
      h = h.substr(0, h.find(':'));  // host:port
    }
    if (h.empty() || std::find(out.begin(), out.end(), h) != out.end()) return;
    out.push_back(std::move(h));
  };
  for (const auto& h : hosts) add(h);
  add("localhost");
  add("127.0.0.1");
  return out;
}

Result<CertificateAuthority> CertificateAuthority::LoadOrCreate(const std::string& dir) {
  CertificateAuthority ca;
  ca.dir_ = dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IOError("cannot create " + dir + ": " + std::strerror(errno));
  }
  auto cert = ReadFile(ca.cert_path());
  auto key = ReadFile(ca.key_path());
  if (cert.ok() && key.ok()) {
    auto parsed_cert = ParseCert(*cert);
    auto parsed_key = ParseKey(*key);
    if (!parsed_cert.ok() || !parsed_key.ok() ||
        X509_check_private_key(parsed_cert->get(), parsed_key->get()) != 1) {
      ERR_clear_error();
      return Status(Code::kCorruption, "the CA in " + dir +
                                           " is unusable (certificate and key do not parse or "
                                           "do not match); move it away to create a new one");
    }
    ca.cert_pem_ = std::move(cert.value());
    ca.key_pem_ = std::move(key.value());
    return ca;
  }
  if (cert.ok() != key.ok()) {
    return Status(Code::kCorruption, "the CA in " + dir + " has only one of ca.pem and ca-key.pem");
  }
  auto new_key = NewKey();
  if (!new_key.ok()) return new_key.status();
  CertSpec spec;
  spec.common_name = "DTR reference root CA";
  spec.is_ca = true;
  spec.days = 3650;
  auto made = MakeCert(spec, new_key->get(), nullptr, new_key->get());
  if (!made.ok()) return made.status();
  auto key_pem = KeyPem(new_key->get());
  auto cert_pem = CertPem(made->get());
  if (!key_pem.ok()) return key_pem.status();
  if (!cert_pem.ok()) return cert_pem.status();
  // The key first: a certificate without its key would be unusable.
  if (Status s = WriteFileAtomic(ca.key_path(), *key_pem, 0600); !s.ok()) return s;
  if (Status s = WriteFileAtomic(ca.cert_path(), *cert_pem, 0644); !s.ok()) return s;
  ca.cert_pem_ = std::move(cert_pem.value());
  ca.key_pem_ = std::move(key_pem.value());
  return ca;
}

namespace {

Status Issue(const std::string& ca_cert_pem, const std::string& ca_key_pem, const CertSpec& spec,
             const std::string& cert_path, const std::string& key_path) {
  auto ca_cert = ParseCert(ca_cert_pem);
  auto ca_key = ParseKey(ca_key_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  if (!ca_key.ok()) return ca_key.status();
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = MakeCert(spec, key->get(), ca_cert->get(), ca_key->get());
  if (!cert.ok()) return cert.status();
  auto key_pem = KeyPem(key->get());
  auto cert_pem = CertPem(cert->get());
  if (!key_pem.ok()) return key_pem.status();
  if (!cert_pem.ok()) return cert_pem.status();
  if (Status s = WriteFileAtomic(key_path, *key_pem, 0600); !s.ok()) return s;
  return WriteFileAtomic(cert_path, *cert_pem, 0644);
}

}  // namespace

Status CertificateAuthority::IssueServerCert(const std::vector<std::string>& names,
                                             const std::string& cert_path,
                                             const std::string& key_path, int days) const {
  if (names.empty()) return InvalidArgument("a server certificate needs at least one name");
  CertSpec spec;
  spec.common_name = names.front();
  spec.names = names;
  spec.extended_usage = "serverAuth";
  spec.days = days;
  return Issue(cert_pem_, key_pem_, spec, cert_path, key_path);
}

Result<bool> CertificateAuthority::EnsureServerCert(const std::vector<std::string>& names,
                                                    const std::string& cert_path,
                                                    const std::string& key_path) const {
  auto existing = ReadFile(cert_path);
  auto existing_key = ReadFile(key_path);
  if (existing.ok() && existing_key.ok()) {
    auto cert = ParseCert(*existing);
    auto key = ParseKey(*existing_key);
    auto ca = ParseCert(cert_pem_);
    if (cert.ok() && key.ok() && ca.ok()) {
      std::set<std::string> want;
      for (const auto& n : names) want.insert(Canonical(n));
      time_t soon = std::time(nullptr) + 30 * 24 * 3600;
      EVP_PKEY* ca_pub = X509_get0_pubkey(ca->get());
      if (SubjectAltNames(cert->get()) == want &&
          X509_check_private_key(cert->get(), key->get()) == 1 &&
          X509_verify(cert->get(), ca_pub) == 1 &&
          X509_cmp_time(X509_get0_notAfter(cert->get()), &soon) > 0) {
        return false;
      }
    }
    ERR_clear_error();
  }
  if (Status s = IssueServerCert(names, cert_path, key_path); !s.ok()) return s;
  return true;
}

Status CertificateAuthority::IssueClientCert(const std::string& common_name,
                                             const std::string& cert_path,
                                             const std::string& key_path, int days) const {
  if (common_name.empty()) return InvalidArgument("a client certificate needs a user name");
  CertSpec spec;
  spec.common_name = common_name;
  spec.extended_usage = "clientAuth";
  spec.days = days;
  return Issue(cert_pem_, key_pem_, spec, cert_path, key_path);
}

}  // namespace dtr::proxy
