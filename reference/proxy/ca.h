// The reference's own root CA (DTR's `dtr-ca` volume): created in the data directory on
// first start, it issues the server certificate for the TLS port (for the names given with
// --host, plus localhost and 127.0.0.1) and, for mutual TLS, client certificates whose
// subject CN names a user. Keys are EC P-256; private key files are mode 0600. `GET /ca`
// serves cert_pem() so clients can trust what the CA issues.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace dtr::proxy {

class CertificateAuthority {
 public:
  // Loads DIR/ca.pem and DIR/ca-key.pem, creating both (and DIR, mode 0700) when missing.
  static Result<CertificateAuthority> LoadOrCreate(const std::string& dir);

  const std::string& cert_pem() const { return cert_pem_; }
  std::string cert_path() const { return dir_ + "/ca.pem"; }
  std::string key_path() const { return dir_ + "/ca-key.pem"; }

  // Writes a server certificate for `names` (DNS names or IP addresses) and its key,
  // replacing the files atomically.
  Status IssueServerCert(const std::vector<std::string>& names, const std::string& cert_path,
                         const std::string& key_path, int days = 825) const;
  // Keeps the certificate at cert_path when this CA issued it for exactly `names` and it is
  // valid for 30 more days; otherwise issues a new one. True when it issued.
  Result<bool> EnsureServerCert(const std::vector<std::string>& names, const std::string& cert_path,
                                const std::string& key_path) const;
  // A client certificate (extendedKeyUsage clientAuth) with subject CN=common_name.
  Status IssueClientCert(const std::string& common_name, const std::string& cert_path,
                         const std::string& key_path, int days = 365) const;

 private:
  std::string dir_;
  std::string cert_pem_;
  std::string key_pem_;
};

// The names a server certificate covers: `hosts` (host names or addresses, with any :port
// removed), then localhost and 127.0.0.1, without duplicates.
std::vector<std::string> ServerCertNames(const std::vector<std::string>& hosts);

}  // namespace dtr::proxy
