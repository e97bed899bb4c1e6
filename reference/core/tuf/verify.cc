#include "core/tuf/verify.h"

#include <set>
#include <vector>

namespace dtr::tuf {

Result<BaseRole> BuildBaseRole(const Root& root, std::string_view role) {
  auto it = root.roles.find(std::string(role));
  if (it == root.roles.end() || !it->second) {
    return InvalidArgument("tuf: invalid role " + std::string(role) +
                           ". role not found in root file");
  }
  BaseRole out;
  out.name = std::string(role);
  out.threshold = it->second->threshold;
  for (const auto& id : it->second->key_ids) {
    auto k = root.keys.find(id);
    if (k == root.keys.end()) {
      return InvalidArgument("tuf: invalid role " + std::string(role) + ". key with ID " + id +
                             " was not found in root metadata");
    }
    out.keys[id] = k->second;
  }
  return out;
}

Status VerifySignatures(const Signed& s, const BaseRole& role) {
  if (s.signatures.empty()) return InvalidArgument("tuf: data has no signatures");
  if (role.threshold < 1) return InvalidArgument("valid signatures did not meet threshold");
  if (!s.canonical_error.empty()) return InvalidArgument(s.canonical_error);
  std::set<std::string> valid;
  for (const auto& sig : s.signatures) {
    auto k = role.keys.find(sig.key_id);
    if (k == role.keys.end()) continue;
    if (k->second.id() != sig.key_id) return InvalidArgument("key ID is not valid for key content");
    if (!VerifySignature(k->second, sig.method, sig.sig, s.canonical).ok()) continue;
    valid.insert(sig.key_id);
  }
  if (static_cast<int64_t>(valid.size()) < role.threshold) {
    return InvalidArgument("valid signatures did not meet threshold for " + role.name);
  }
  return Status::Ok();
}

Status VerifyVersion(const SignedCommon& c, int64_t min_version) {
  if (c.version < min_version) {
    return InvalidArgument("version " + std::to_string(c.version) +
                           " is lower than current version " + std::to_string(min_version));
  }
  return Status::Ok();
}

Status VerifyExpiry(const SignedCommon& c, std::string_view role, Time now) {
  if (c.expires < now) {
    return InvalidArgument(std::string(role) + " expired at " + FormatRfc3339(c.expires));
  }
  return Status::Ok();
}

namespace {

bool MatchCNToGun(const std::string& cn, std::string_view gun) {
  if (!cn.empty() && cn.back() == '*') {
    std::string prefix = cn;
    while (!prefix.empty() && prefix.back() == '*') prefix.pop_back();
    return gun.substr(0, prefix.size()) == prefix;
  }
  return cn == gun;
}

struct RootCerts {
  std::map<std::string, Certificate> leaves;  // by root key id
  std::map<std::string, std::vector<Certificate>> intermediates;
};

// parseAllCerts: for each root-role key, its one leaf certificate (first in its bundle).
RootCerts ParseAllCerts(const Root& root) {
  RootCerts out;
  auto role = root.roles.find(kRootRole);
  if (role == root.roles.end() || !role->second) return out;
  for (const auto& id : role->second->key_ids) {
    auto key = root.keys.find(id);
    if (key == root.keys.end()) continue;
    auto certs = LoadCertificateBundle(key->second.value());
    if (!certs.ok()) continue;
    std::vector<Certificate> leaves, cas;
    for (const auto& c : *certs) (c.is_ca ? cas : leaves).push_back(c);
    if (leaves.size() != 1 || (*certs)[0].is_ca) continue;
    out.leaves[key->second.id()] = leaves[0];
    out.intermediates[key->second.id()] = cas;
  }
  return out;
}

std::map<std::string, Certificate> ValidLeaves(const std::map<std::string, Certificate>& leaves,
                                               std::string_view gun, bool check_expiry, Time now) {
  std::map<std::string, Certificate> out;
  for (const auto& [id, cert] : leaves) {
    if (!MatchCNToGun(cert.common_name, gun)) continue;
    if (!ValidateCertificate(cert, check_expiry, now).ok()) continue;
    out[id] = cert;
  }
  return out;
}

// utils.CertsToKeys: each leaf with its intermediates, re-encoded, keyed by the new id.
std::map<std::string, PublicKey> CertsToKeys(
    const std::map<std::string, Certificate>& leaves,
    const std::map<std::string, std::vector<Certificate>>& intermediates) {
  std::map<std::string, PublicKey> keys;
  static const std::vector<Certificate> kNone;
  for (const auto& [id, leaf] : leaves) {
    auto it = intermediates.find(id);
    auto key = CertificateBundleKey(leaf, it == intermediates.end() ? kNone : it->second);
    if (key.ok()) keys[key->id()] = *key;
  }
  return keys;
}

}  // namespace

Result<Root> ValidateRoot(const Root* previous, const Signed& s, std::string_view gun, Time now) {
  auto root = ParseRoot(s.signed_value);
  if (!root.ok()) return root.status();
  auto root_role = BuildBaseRole(*root, kRootRole);
  if (!root_role.ok()) return root_role.status();

  RootCerts all = ParseAllCerts(*root);
  auto leaves = ValidLeaves(all.leaves, gun, true, now);
  if (leaves.empty()) {
    return InvalidArgument(
        "could not validate the path to a trusted root: unable to retrieve valid leaf "
        "certificates");
  }
  std::map<std::string, std::vector<Certificate>> valid_intermediates;
  for (const auto& [id, cas] : all.intermediates) {
    for (const auto& c : cas) {
      if (ValidateCertificate(c, true, now).ok()) valid_intermediates[id].push_back(c);
    }
  }

  if (previous != nullptr) {
    RootCerts trusted = ParseAllCerts(*previous);
    auto trusted_leaves = ValidLeaves(trusted.leaves, gun, false, now);
    if (trusted_leaves.empty()) {
      return InvalidArgument(
          "could not validate the path to a trusted root: could not retrieve trusted certs "
          "from previous root role data");
    }
    auto prev_role = previous->roles.find(kRootRole);
    if (prev_role == previous->roles.end() || !prev_role->second) {
      return InvalidArgument(
          "could not validate the path to a trusted root: could not retrieve previous root "
          "role data");
    }
    BaseRole old_keys{"", CertsToKeys(trusted_leaves, trusted.intermediates),
                      prev_role->second->threshold};
    if (!VerifySignatures(s, old_keys).ok()) {
      return InvalidArgument(
          "could not rotate trust to a new trusted root: failed to validate data with current "
          "trusted certificates");
    }
  }

  BaseRole own{"", CertsToKeys(leaves, valid_intermediates), root_role->threshold};
  if (!VerifySignatures(s, own).ok()) {
    return InvalidArgument(
        "could not validate the path to a trusted root: failed to validate integrity of roots");
  }
  return root;
}

}  // namespace dtr::tuf
