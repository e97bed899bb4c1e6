#include "proxy/forwarding.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/secret_file.h"
#include "core/hex.h"

namespace dtr::proxy {

namespace {

// A literal address as 4 or 16 bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
bool ParseAddress(std::string_view text, int* family, std::array<uint8_t, 16>* bytes) {
  std::string s(http::TrimOws(text));
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  bytes->fill(0);
  if (inet_pton(AF_INET, s.c_str(), bytes->data()) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes->data()) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes->data(), kMapped, sizeof kMapped) == 0) {
      std::memmove(bytes->data(), bytes->data() + 12, 4);
      std::memset(bytes->data() + 4, 0, 12);
      *family = AF_INET;
    } else {
      *family = AF_INET6;
    }
    return true;
  }
  return false;
}

bool SecretMatches(const http::Request& req, const std::string& secret) {
  if (secret.empty()) return false;
  auto offered = req.headers.Get(kFrontSecretHeader);
  return offered && offered->size() == secret.size() &&
         CRYPTO_memcmp(offered->data(), secret.data(), secret.size()) == 0;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = http::TrimOws(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    Block b;
    std::string_view addr = item;
    int prefix = -1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      addr = item.substr(0, slash);
      std::string bits(item.substr(slash + 1));
      if (bits.empty() || bits.size() > 3 ||
          bits.find_first_not_of("0123456789") != std::string::npos) {
        return Status(Code::kInvalidArgument, "trusted proxy '" + std::string(item) +
                                                  "': the prefix length after / is not a number");
      }
      prefix = std::stoi(bits);
    }
    if (!ParseAddress(addr, &b.family, &b.bytes)) {
      return Status(Code::kInvalidArgument,
                    "trusted proxy '" + std::string(item) +
                        "' is not an IP address or CIDR block (e.g. 10.0.0.0/8, 192.0.2.7, ::1)");
    }
    int max = b.family == AF_INET ? 32 : 128;
    if (prefix > max) {
      return Status(Code::kInvalidArgument, "trusted proxy '" + std::string(item) +
                                                "': the prefix length is more than " +
                                                std::to_string(max) + " bits");
    }
    b.prefix = prefix < 0 ? max : prefix;
    out.blocks_.push_back(b);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view addr) const {
  int family = 0;
  std::array<uint8_t, 16> bytes{};
  if (blocks_.empty() || !ParseAddress(addr, &family, &bytes)) return false;
  for (const auto& b : blocks_) {
    if (b.family != family) continue;
    int full = b.prefix / 8, rest = b.prefix % 8;
    if (std::memcmp(b.bytes.data(), bytes.data(), static_cast<size_t>(full)) != 0) continue;
    if (rest != 0) {
      auto mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((b.bytes[full] & mask) != (bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

void NormalizeForwarding(http::Request& req, const TrustedProxies& trusted,
                         const std::string& front_secret) {
  bool from_front = SecretMatches(req, front_secret);
  req.client_addr = req.remote_addr;
  if (from_front || trusted.Contains(req.remote_addr)) {
    // The client is the nearest address, counting from our peer backwards, that is not a
    // proxy we trust (anything further left was written by whoever that client is).
    std::vector<std::string> hops;
    for (auto field : req.headers.GetAll("X-Forwarded-For")) {
      std::string_view rest = field;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view hop = http::TrimOws(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (!hop.empty()) hops.emplace_back(hop);
      }
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
      int family;
      std::array<uint8_t, 16> bytes{};
      if (!ParseAddress(*it, &family, &bytes)) break;  // garbage: stop believing here
      req.client_addr = *it;
      if (!trusted.Contains(*it)) break;
    }
  } else {
    req.headers.Remove("X-Forwarded-For");
    req.headers.Remove("X-Forwarded-Proto");
    req.headers.Remove("X-Forwarded-Host");
  }
  if (from_front && req.client_cert_subject.empty()) {
    req.client_cert_subject = req.headers.GetOr(kClientCertHeader);
  }
  req.headers.Remove(kClientCertHeader);
  req.headers.Remove(kFrontSecretHeader);
}

void AddFrontFields(http::Request& req, const std::string& front_secret) {
  req.headers.Remove(kClientCertHeader);
  req.headers.Remove(kFrontSecretHeader);
  if (front_secret.empty()) return;
  req.headers.Set(kFrontSecretHeader, front_secret);
  if (!req.client_cert_subject.empty()) req.headers.Set(kClientCertHeader, req.client_cert_subject);
}

Result<std::string> LoadOrCreateFrontSecret(const std::string& data_dir) {
  std::string dir = data_dir + "/auth";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(Code::kInternal, "cannot create " + dir + ": " + std::strerror(errno));
  }
  std::string path = dir + "/front-secret";
  if (::access(path.c_str(), F_OK) != 0) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) return Status(Code::kInternal, "RAND_bytes failed");
    std::string line = HexLower(raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    // When another process got there first, its secret is the one.
    Status created = auth::CreateExclusive(path, line + "\n");
    if (!created.ok() && !created.is(Code::kAlreadyExists)) return created;
  }
  auto text = auth::ReadFile(path);
  if (!text.ok()) return text.status();
  std::string secret = *text;
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() != 64 || secret.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status(Code::kInternal,
                  path + " is not a front secret (64 hex digits); delete it to make a new one");
  }
  return secret;
}

}  // namespace dtr::proxy
