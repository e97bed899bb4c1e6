#include "core/tuf/repo.h"

#include <algorithm>
#include <map>

#include "core/tuf/encoding.h"
#include "core/tuf/verify.h"

namespace dtr::tuf {

namespace {

Status Tagged(const char* tag, const std::string& message) {
  return Status(Code::kInvalidArgument, message, tag);
}

bool IsInsufficientSignatures(const Status& s) { return s.tag() == "ErrInsufficientSignatures"; }

// Signs a "signed" value with the keys of `role` the crypto service holds.
Result<std::string> SignMetadata(const Json& signed_value, const BaseRole& role,
                                 CryptoService& crypto) {
  auto canonical = CanonicalJson(signed_value);
  if (!canonical.ok()) return canonical.status();
  std::vector<Signature> sigs;
  std::string missing;
  for (const auto& [id, key] : role.keys) {
    auto sig = crypto.Sign(key, *canonical);
    if (!sig.ok()) {
      if (!sig.status().is(Code::kNotFound)) return sig.status();
      missing += (missing.empty() ? "" : ", ") + id;
      continue;
    }
    sigs.push_back(std::move(*sig));
  }
  if (static_cast<int64_t>(sigs.size()) < role.threshold || sigs.empty()) {
    return Status(Code::kFailedPrecondition,
                  "signing keys not available: need " + std::to_string(role.threshold) +
                      " keys out of: " + missing,
                  "ErrInsufficientSignatures");
  }
  return SerializeSigned(*canonical, sigs);
}

// The repoBuilder of Notary's tuf package, reduced to what the server uses.
class Builder {
 public:
  Builder(std::string_view gun, CryptoService* crypto, Time now)
      : gun_(gun), crypto_(crypto), now_(now) {}

  // A builder that validates a new root against this one's.
  Builder Bootstrap() const {
    Builder b(gun_, crypto_, now_);
    b.prev_root_ = root_;
    return b;
  }

  bool IsLoaded(std::string_view role) const {
    if (role == kRootRole) return root_.has_value();
    if (role == kSnapshotRole) return snapshot_.has_value();
    if (role == kTimestampRole) return false;
    return targets_.count(std::string(role)) > 0;
  }

  int64_t LoadedVersion(std::string_view role) const {
    if (role == kRootRole && root_) return root_->common.version;
    if (role == kSnapshotRole && snapshot_) return snapshot_->common.version;
    auto it = targets_.find(std::string(role));
    return it == targets_.end() ? 1 : it->second.common.version;
  }

  Status LoadRoot(const std::string& bytes, int64_t min_version, bool allow_expired) {
    if (root_) return InvalidArgument("root has already been loaded");
    auto s = ParseSigned(bytes);
    if (!s.ok()) return s.status();
    auto root = ValidateRoot(prev_root_ ? &*prev_root_ : nullptr, *s, gun_, now_);
    if (!root.ok()) return root.status();
    if (Status st = VerifyVersion(root->common, min_version); !st.ok()) return st;
    if (!allow_expired) {
      if (Status st = VerifyExpiry(root->common, kRootRole, now_); !st.ok()) return st;
    }
    if (auto r = BuildBaseRole(*root, kRootRole); !r.ok()) return r.status();
    not_checksummed_[kRootRole] = bytes;
    root_ = std::move(*root);
    root_bytes_ = bytes;
    return Status::Ok();
  }

  Status LoadTargets(const std::string& role, const std::string& bytes, int64_t min_version,
                     bool allow_expired) {
    if (!ValidRole(role)) return InvalidArgument(role + " is an invalid role");
    if (IsLoaded(role)) return InvalidArgument(role + " has already been loaded");
    if (!root_) return InvalidArgument("root must be loaded first");
    if (role != kTargetsRole && !IsLoaded(kTargetsRole)) {
      return InvalidArgument("targets must be loaded first");
    }
    auto signing_role =
        role == kTargetsRole ? BuildBaseRole(*root_, kTargetsRole) : DelegationRoleFor(role);
    if (!signing_role.ok()) return signing_role.status();
    auto s = ParseSigned(bytes);
    if (!s.ok()) return s.status();
    if (role == kTargetsRole) {
      if (Status st = VerifySignatures(*s, *signing_role); !st.ok()) return st;
    }
    auto t = ParseTargets(s->signed_value, role);
    if (!t.ok()) return t.status();
    if (Status st = VerifyVersion(t->common, min_version); !st.ok()) return st;
    if (role != kTargetsRole) {
      if (Status st = VerifySignatures(*s, *signing_role); !st.ok()) return st;
    }
    if (!allow_expired) {
      if (Status st = VerifyExpiry(t->common, role, now_); !st.ok()) return st;
    }
    not_checksummed_[role] = bytes;
    targets_[role] = std::move(*t);
    targets_bytes_[role] = bytes;
    return Status::Ok();
  }

  Status LoadSnapshot(const std::string& bytes, int64_t min_version, bool allow_expired) {
    if (IsLoaded(kSnapshotRole)) return InvalidArgument("snapshot has already been loaded");
    if (!root_) return InvalidArgument("root must be loaded first");
    auto role = BuildBaseRole(*root_, kSnapshotRole);
    if (!role.ok()) return role.status();
    auto s = ParseSigned(bytes);
    if (!s.ok()) return s.status();
    if (Status st = VerifySignatures(*s, *role); !st.ok()) return st;
    auto snap = ParseSnapshot(s->signed_value);
    if (!snap.ok()) return snap.status();
    if (Status st = VerifyVersion(snap->common, min_version); !st.ok()) return st;
    if (!allow_expired) {
      if (Status st = VerifyExpiry(snap->common, kSnapshotRole, now_); !st.ok()) return st;
    }
    // Everything loaded so far must be what this snapshot describes.
    for (const auto& [name, data] : not_checksummed_) {
      auto it = snap->meta.find(name);
      static const std::map<std::string, std::string> kNoHashes;
      if (Status st =
              CheckHashes(data, name, it == snap->meta.end() ? kNoHashes : it->second.hashes);
          !st.ok()) {
        return st;
      }
    }
    not_checksummed_.clear();
    snapshot_ = std::move(*snap);
    snapshot_bytes_ = bytes;
    return Status::Ok();
  }

  // Signs a snapshot of every loaded role, from `prev` when there is one.
  Result<MetaUpdate> GenerateSnapshot(const std::optional<MetaFiles>& prev, int64_t expiry) {
    if (IsLoaded(kSnapshotRole)) return InvalidArgument("snapshot has already been loaded");
    if (!root_) return InvalidArgument("root must be loaded first");
    MetaFiles snap;
    if (prev) {
      if (Status st = CheckSnapshotStructure(*prev); !st.ok()) return st;
      snap = *prev;
    } else {
      if (!IsLoaded(kTargetsRole)) return InvalidArgument("targets must be loaded first");
      snap.common.type = "Snapshot";
    }
    snap.meta[kRootRole] = FileMetaFor(root_bytes_);
    for (const auto& [name, data] : targets_bytes_) snap.meta[name] = FileMetaFor(data);
    snap.common.expires = now_.AddSeconds(expiry);
    snap.common.version += 1;
    auto role = BuildBaseRole(*root_, kSnapshotRole);
    if (!role.ok()) return role.status();
    auto data = SignMetadata(MetaFilesToJson(snap), *role, *crypto_);
    if (!data.ok()) return data.status();
    not_checksummed_.clear();
    snapshot_ = snap;
    snapshot_bytes_ = *data;
    return MetaUpdate{kSnapshotRole, snap.common.version, *data};
  }

  Result<MetaUpdate> GenerateTimestamp(const std::optional<MetaFiles>& prev, int64_t expiry) {
    if (!root_ || !snapshot_) return InvalidArgument("root and snapshot must be loaded first");
    MetaFiles ts;
    if (prev) {
      if (Status st = CheckTimestampStructure(*prev); !st.ok()) return st;
      ts = *prev;
    } else {
      ts.common.type = "Timestamp";
    }
    ts.meta[kSnapshotRole] = FileMetaFor(snapshot_bytes_);
    ts.common.expires = now_.AddSeconds(expiry);
    ts.common.version += 1;
    auto role = BuildBaseRole(*root_, kTimestampRole);
    if (!role.ok()) return role.status();
    auto data = SignMetadata(MetaFilesToJson(ts), *role, *crypto_);
    if (!data.ok()) return data.status();
    return MetaUpdate{kTimestampRole, ts.common.version, *data};
  }

  const std::optional<MetaFiles>& snapshot() const { return snapshot_; }

 private:
  // The delegation as its parent (which must be loaded) declares it.
  Result<BaseRole> DelegationRoleFor(const std::string& role) {
    auto invalid = [&](const std::string& why) {
      return InvalidArgument("tuf: invalid role " + role + ". " + why);
    };
    if (!IsDelegation(role)) return invalid("invalid delegation name");
    auto parent = targets_.find(ParentRole(role));
    if (parent == targets_.end()) return invalid("delegation does not exist");
    for (const auto& d : parent->second.delegation_roles) {
      if (d.name != role) continue;
      BaseRole out{role, {}, d.keys.threshold};
      for (const auto& id : d.keys.key_ids) {
        auto k = parent->second.delegation_keys.find(id);
        if (k == parent->second.delegation_keys.end()) {
          return invalid("role lists unknown key " + id + " as a signing key");
        }
        // Certificate keys: a broken certificate invalidates the role (expiry is not
        // checked once a delegation is in place).
        if (k->second.is_x509() || k->second.value().find("-----BEGIN") != std::string::npos) {
          auto certs = LoadCertificateBundle(k->second.value());
          if (certs.ok()) {
            if (Status st = ValidateCertificate((*certs)[0], false, now_); !st.ok()) return st;
          }
        }
        out.keys[id] = k->second;
      }
      return out;
    }
    return invalid("delegation does not exist");
  }

  std::string gun_;
  CryptoService* crypto_;
  Time now_;
  std::optional<Root> prev_root_;
  std::optional<Root> root_;
  std::string root_bytes_;
  std::map<std::string, Targets> targets_;
  std::map<std::string, std::string> targets_bytes_;
  std::optional<MetaFiles> snapshot_;
  std::string snapshot_bytes_;
  // Roles loaded that no snapshot has vouched for yet.
  std::map<std::string, std::string> not_checksummed_;
};

// Stored metadata is trusted to parse; a broken stored file is a server error.
Result<std::optional<MetaFiles>> StoredMetaFiles(MetadataSource& store, std::string_view role) {
  auto bytes = store.Current(role);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<MetaFiles>();
  auto s = ParseSigned(**bytes);
  if (!s.ok())
    return Status(Code::kCorruption, "stored " + std::string(role) + ": " + s.status().message());
  auto m = role == kSnapshotRole ? ParseSnapshot(s->signed_value) : ParseTimestamp(s->signed_value);
  if (!m.ok())
    return Status(Code::kCorruption, "stored " + std::string(role) + ": " + m.status().message());
  return std::optional<MetaFiles>(std::move(*m));
}

// Loads `role` from storage into `b` (allowing expiry, as notary-server does); false when
// it is not stored.
Result<bool> LoadStored(Builder& b, MetadataSource& store, const std::string& role) {
  auto bytes = store.Current(role);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return false;
  Status s =
      role == kRootRole ? b.LoadRoot(**bytes, 1, true) : b.LoadTargets(role, **bytes, 1, true);
  if (!s.ok()) return s;
  return true;
}

size_t Segments(const std::string& role) {
  return static_cast<size_t>(std::count(role.begin(), role.end(), '/'));
}

}  // namespace

Result<std::vector<MetaUpdate>> ValidateUpdate(std::string_view gun,
                                               const std::vector<MetaUpdate>& updates,
                                               MetadataSource& store, CryptoService& crypto,
                                               Time now, const ServerExpiries& expiries) {
  std::map<std::string, MetaUpdate> roles;
  for (const auto& u : updates) roles[u.role] = u;
  std::vector<MetaUpdate> apply;

  Builder builder(gun, &crypto, now);
  if (auto loaded = LoadStored(builder, store, kRootRole); !loaded.ok()) return loaded.status();

  if (auto it = roles.find(kRootRole); it != roles.end()) {
    int64_t current = builder.LoadedVersion(kRootRole);
    const MetaUpdate& root = it->second;
    if (root.version != current && root.version != current + 1) {
      return Tagged(kErrBadRoot, "Root modifications must increment the version. Current " +
                                     std::to_string(current) + ", new " +
                                     std::to_string(root.version));
    }
    builder = builder.Bootstrap();
    if (Status s = builder.LoadRoot(root.data, current, false); !s.ok()) {
      return Tagged(kErrBadRoot, s.message());
    }
    apply.push_back(root);
  } else if (!builder.IsLoaded(kRootRole)) {
    return Tagged(kErrValidation, "no pre-existing root and no root provided in update.");
  }

  // Targets roles, shallower first, each after its ancestors (from storage if need be).
  std::vector<std::string> targets_roles;
  for (const auto& [name, u] : roles) {
    if (name == kTargetsRole || IsDelegation(name)) targets_roles.push_back(name);
  }
  std::stable_sort(targets_roles.begin(), targets_roles.end(),
                   [](const std::string& a, const std::string& b) {
                     return Segments(a) != Segments(b) ? Segments(a) < Segments(b) : a < b;
                   });
  for (const auto& role : targets_roles) {
    std::vector<std::string> ancestors;
    for (std::string a = role; a != kTargetsRole;) {
      a = ParentRole(a);
      if (a == "." || a.empty()) break;
      if (!builder.IsLoaded(a)) ancestors.push_back(a);
    }
    for (auto a = ancestors.rbegin(); a != ancestors.rend(); ++a) {
      auto loaded = LoadStored(builder, store, *a);
      if (!loaded.ok()) return Tagged(kErrBadTargets, loaded.status().message());
    }
    if (Status s = builder.LoadTargets(role, roles[role].data, 1, false); !s.ok()) {
      return Tagged(kErrBadTargets, s.message());
    }
    apply.push_back(roles[role]);
  }

  if (auto it = roles.find(kSnapshotRole); it != roles.end()) {
    if (Status s = builder.LoadSnapshot(it->second.data, 1, false); !s.ok()) {
      return Tagged(kErrBadSnapshot, s.message());
    }
    apply.push_back(it->second);
  } else {
    auto prev = StoredMetaFiles(store, kSnapshotRole);
    if (!prev.ok()) return prev.status();
    auto snap = builder.GenerateSnapshot(*prev, expiries.snapshot_seconds);
    if (!snap.ok()) {
      if (IsInsufficientSignatures(snap.status())) {
        return Status(Code::kInvalidArgument,
                      "no snapshot was included in update and server does not hold current "
                      "snapshot key for repository",
                      kErrBadHierarchy);
      }
      if (snap.status().is(Code::kInvalidArgument)) {
        return Tagged(kErrValidation, snap.status().message());
      }
      return snap.status();
    }
    apply.push_back(*snap);
  }

  auto prev_ts = StoredMetaFiles(store, kTimestampRole);
  if (!prev_ts.ok()) return prev_ts.status();
  auto ts = builder.GenerateTimestamp(*prev_ts, expiries.timestamp_seconds);
  if (!ts.ok()) {
    if (IsInsufficientSignatures(ts.status())) {
      return Tagged(kErrBadRoot, "no  timestamp keys exist on the server");
    }
    if (ts.status().is(Code::kInvalidArgument)) {
      return Tagged(kErrValidation, ts.status().message());
    }
    return ts.status();
  }
  apply.push_back(*ts);
  return apply;
}

Result<ServedTimestamp> CurrentTimestamp(std::string_view gun, MetadataSource& store,
                                         CryptoService& crypto, Time now,
                                         const ServerExpiries& expiries) {
  auto ts_bytes = store.Current(kTimestampRole);
  if (!ts_bytes.ok()) return ts_bytes.status();
  if (!ts_bytes->has_value()) return NotFound("no timestamp for " + std::string(gun));
  auto ts_signed = ParseSigned(**ts_bytes);
  if (!ts_signed.ok())
    return Status(Code::kCorruption, "stored timestamp: " + ts_signed.status().message());
  auto prev = ParseTimestamp(ts_signed->signed_value);
  if (!prev.ok()) return Status(Code::kCorruption, "stored timestamp: " + prev.status().message());
  const auto& snap_meta = prev->meta.at(kSnapshotRole);
  auto snap_bytes = store.ByChecksum(kSnapshotRole, HexEncode(snap_meta.hashes.at("sha256")));
  if (!snap_bytes.ok()) return snap_bytes.status();
  if (!snap_bytes->has_value()) return NotFound("the timestamp's snapshot is not stored");
  std::string snapshot = **snap_bytes;

  ServedTimestamp out;
  auto snap_signed = ParseSigned(snapshot);
  if (!snap_signed.ok())
    return Status(Code::kCorruption, "stored snapshot: " + snap_signed.status().message());
  auto snap = ParseSnapshot(snap_signed->signed_value);
  if (!snap.ok()) return Status(Code::kCorruption, "stored snapshot: " + snap.status().message());
  // The root is needed only to re-sign (the common case serves the stored timestamp).
  Result<std::optional<std::string>> root_bytes = std::optional<std::string>();
  auto load_root = [&]() -> Status {
    root_bytes = store.Current(kRootRole);
    if (!root_bytes.ok()) return root_bytes.status();
    if (!root_bytes->has_value()) return NotFound("no root for " + std::string(gun));
    return Status::Ok();
  };

  if (snap->common.expires < now) {
    if (Status s = load_root(); !s.ok()) return s;
    Builder b(gun, &crypto, now);
    if (Status s = b.LoadRoot(**root_bytes, 1, false); !s.ok())
      return Status(Code::kInternal, s.message());
    auto fresh = b.GenerateSnapshot(*snap, expiries.snapshot_seconds);
    if (!fresh.ok())
      return Status(Code::kInternal,
                    "cannot re-sign the expired snapshot: " + fresh.status().message());
    snapshot = fresh->data;
    out.to_store.push_back(*fresh);
  }
  bool matches = CheckHashes(snapshot, kSnapshotRole, snap_meta.hashes).ok();
  if (!(prev->common.expires < now) && matches) {
    out.data = **ts_bytes;
    return out;
  }
  if (!root_bytes->has_value()) {
    if (Status s = load_root(); !s.ok()) return s;
  }
  Builder b(gun, &crypto, now);
  if (Status s = b.LoadRoot(**root_bytes, 1, false); !s.ok())
    return Status(Code::kInternal, s.message());
  if (Status s = b.LoadSnapshot(snapshot, 1, false); !s.ok())
    return Status(Code::kInternal, s.message());
  auto ts = b.GenerateTimestamp(*prev, expiries.timestamp_seconds);
  if (!ts.ok())
    return Status(Code::kInternal, "cannot re-sign the timestamp: " + ts.status().message());
  out.to_store.push_back(*ts);
  out.data = ts->data;
  out.fresh = true;
  return out;
}

Result<PublicKey> GetOrCreateServerKey(std::string_view gun, std::string_view role,
                                       MetadataSource& store, CryptoService& crypto,
                                       std::string_view algorithm) {
  auto root_bytes = store.Current(kRootRole);
  if (!root_bytes.ok()) return root_bytes.status();
  if (root_bytes->has_value()) {
    auto s = ParseSigned(**root_bytes);
    if (!s.ok()) return Status(Code::kCorruption, "stored root: " + s.status().message());
    auto root = ParseRoot(s->signed_value);
    if (!root.ok()) return Status(Code::kCorruption, "stored root: " + root.status().message());
    auto base = BuildBaseRole(*root, role);
    if (!base.ok()) return Status(Code::kCorruption, base.status().message());
    for (const auto& [id, key] : base->keys) {
      auto held = crypto.GetKey(id);
      if (!held.ok()) return held.status();
      if (held->has_value()) return **held;
    }
  }
  return crypto.Create(gun, role, algorithm);
}

}  // namespace dtr::tuf
