// Signature, threshold, version and expiry checks (Notary's tuf/signed/verify.go) and root
// validation as notary-server applies it to an upload (trustpinning.ValidateRoot with trust
// on first use): the root keys are certificates whose CN is the GUN, a new root is signed
// by a threshold of its own root keys and, when it replaces one, by a threshold of the
// previous root's keys.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tuf/keys.h"
#include "core/tuf/metadata.h"
#include "core/tuf/tuf_time.h"

namespace dtr::tuf {

struct BaseRole {
  std::string name;
  std::map<std::string, PublicKey> keys;
  int64_t threshold = 0;
};

// The role's keys as the root lists them; ErrInvalidRole when a key id has no key.
Result<BaseRole> BuildBaseRole(const Root& root, std::string_view role);

// At least `role.threshold` distinct keys of the role signed `s` validly. A signature
// naming a role key whose content does not hash to that id fails the whole check.
Status VerifySignatures(const Signed& s, const BaseRole& role);
Status VerifyVersion(const SignedCommon& c, int64_t min_version);
Status VerifyExpiry(const SignedCommon& c, std::string_view role, Time now);

// Validates `s` as a root for `gun`, against `previous` when there is one.
Result<Root> ValidateRoot(const Root* previous, const Signed& s, std::string_view gun, Time now);

}  // namespace dtr::tuf
