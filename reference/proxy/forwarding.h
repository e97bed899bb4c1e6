// Who sent a request, when proxies stand between the client and us: which X-Forwarded-*
// fields to believe, the client's address for rate limits and logs, and the client
// certificate's user that `dtr front` vouches for when it forwards to a component.
//
// A proxy is believed when its address is in the trusted list (`--trusted-proxies`,
// loopback by default: nginx or `dtr front` on the same host), or when it presents the
// front secret (`<data>/auth/front-secret`, shared by the processes of one data directory).
// From anyone else X-Forwarded-For/-Proto/-Host are dropped, so a client cannot choose the
// address its failed logins are counted against, nor the host in the token realm and
// Location headers it is sent. Only the front secret makes a component take the user of a
// client certificate checked by the front (X-DTR-Client-Cert-CN).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/message.h"

namespace dtr::proxy {

inline constexpr const char* kFrontSecretHeader = "X-DTR-Front-Secret";
inline constexpr const char* kClientCertHeader = "X-DTR-Client-Cert-CN";
inline constexpr const char* kDefaultTrustedProxies = "127.0.0.0/8,::1";

// A list of addresses and CIDR blocks, IPv4 and IPv6 ("10.0.0.0/8,192.0.2.7,fd00::/8").
class TrustedProxies {
 public:
  static Result<TrustedProxies> Parse(std::string_view list);
  // Whether `addr` (a literal IP address; IPv4-mapped IPv6 counts as IPv4) is in the list.
  bool Contains(std::string_view addr) const;
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    int family = 0;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;  // leading bits that must match
  };
  std::vector<Block> blocks_;
};

// Decides what to believe of `req`'s forwarding fields and sets req.client_addr; drops the
// fields (and the front's own) that are not to be believed. `front_secret` "" accepts none.
void NormalizeForwarding(http::Request& req, const TrustedProxies& trusted,
                         const std::string& front_secret);

// What the front adds to a request it forwards to a component: the secret, and the user of
// the client certificate it verified (if any).
void AddFrontFields(http::Request& req, const std::string& front_secret);

// Reads <data_dir>/auth/front-secret, creating it (0600, 32 random bytes as hex) when it
// does not exist; concurrent starts agree on one secret.
Result<std::string> LoadOrCreateFrontSecret(const std::string& data_dir);

}  // namespace dtr::proxy
