#include "core/tuf/tuf_test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/digest.h"
#include "core/tuf/encoding.h"

namespace dtr::tuf::testing {

std::string Fixture(const std::string& path) {
  std::string full = std::string(DTR_FIXTURES_DIR) + "/trust/" + path;
  std::ifstream in(full, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << full;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fixtures were made on 2026-11-27; their timestamps expire 14 days later.
Time FixtureTime() { return *ParseRfc3339("2026-11-28T00:00:00Z"); }

std::string SignWith(const Json& signed_value, const std::vector<const PrivateKey*>& keys) {
  std::string canonical = *CanonicalJson(signed_value);
  std::vector<Signature> sigs;
  for (const auto* k : keys) {
    auto sig = k->Sign(canonical);
    EXPECT_TRUE(sig.ok());
    sigs.push_back(Signature{k->id(), k->method(), *sig});
  }
  return SerializeSigned(canonical, sigs);
}

Result<PublicKey> MemoryCrypto::Create(std::string_view gun, std::string_view role,
                                       std::string_view algorithm) {
  for (const auto& [id, h] : keys_) {
    if (!h.used && h.gun == gun && h.role == role) return h.key.public_key();
  }
  auto k = PrivateKey::Generate(algorithm);
  if (!k.ok()) return k.status();
  PublicKey pub = k->public_key();
  keys_.emplace(pub.id(), Held{std::move(*k), std::string(gun), std::string(role)});
  return pub;
}

Result<std::optional<PublicKey>> MemoryCrypto::GetKey(std::string_view key_id) {
  auto it = keys_.find(std::string(key_id));
  if (it == keys_.end()) return std::optional<PublicKey>();
  return std::optional<PublicKey>(it->second.key.public_key());
}

Result<Signature> MemoryCrypto::Sign(const PublicKey& key, std::string_view message) {
  auto it = keys_.find(key.id());
  if (it == keys_.end()) return NotFound("no such key");
  auto sig = it->second.key.Sign(message);
  if (!sig.ok()) return sig.status();
  it->second.used = true;
  return Signature{key.id(), it->second.key.method(), *sig};
}

Result<std::optional<std::string>> MemorySource::Current(std::string_view role) {
  auto it = files_.find(std::string(role));
  if (it == files_.end() || it->second.empty()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.rbegin()->second);
}

Result<std::optional<std::string>> MemorySource::ByChecksum(std::string_view role,
                                                            std::string_view sha256_hex) {
  auto it = files_.find(std::string(role));
  if (it != files_.end()) {
    for (const auto& [v, data] : it->second) {
      if (ComputeDigest(data).hex() == sha256_hex) return std::optional<std::string>(data);
    }
  }
  return std::optional<std::string>();
}

Status MemorySource::Apply(const std::vector<MetaUpdate>& updates) {
  for (const auto& u : updates) {
    auto& versions = files_[u.role];
    if (!versions.empty() && versions.rbegin()->first >= u.version) {
      return Status(Code::kFailedPrecondition, "old version", "VERSION");
    }
  }
  for (const auto& u : updates) files_[u.role][u.version] = u.data;
  return Status::Ok();
}

size_t MemorySource::count() const {
  size_t n = 0;
  for (const auto& [r, v] : files_) n += v.size();
  return n;
}

TestPublisher::TestPublisher(std::string gun, CryptoService* server, Time now)
    : gun_(std::move(gun)),
      now_(now),
      root_key_(*PrivateKey::Generate(kEcdsaKey)),
      targets_key_(*PrivateKey::Generate(kEcdsaKey)),
      snapshot_key_(*PrivateKey::Generate(kEcdsaKey)) {
  root_cert_ = *root_key_.SelfSignedCertificate(gun_, now_.AddSeconds(-60),
                                                now_.AddSeconds(10 * 365 * 86400));
  root_key_ = root_key_.WithPublicKey(root_cert_);
  timestamp_key_ = *server->Create(gun_, kTimestampRole, kEcdsaKey);
}

TestPublisher::TestPublisher(std::string gun, PublicKey timestamp_key, Time now)
    : gun_(std::move(gun)),
      now_(now),
      root_key_(*PrivateKey::Generate(kEcdsaKey)),
      targets_key_(*PrivateKey::Generate(kEcdsaKey)),
      snapshot_key_(*PrivateKey::Generate(kEcdsaKey)),
      timestamp_key_(std::move(timestamp_key)) {
  root_cert_ = *root_key_.SelfSignedCertificate(gun_, now_.AddSeconds(-60),
                                                now_.AddSeconds(10 * 365 * 86400));
  root_key_ = root_key_.WithPublicKey(root_cert_);
}

Json TestPublisher::RootValue(int64_t version, Time expires) const {
  const PublicKey& snap = server_snapshot ? server_snapshot_key : snapshot_key_.public_key();
  auto role = [](const PublicKey& k) {
    return Json::Object(
        {{"keyids", Json::Array({Json::String(k.id())})}, {"threshold", Json::Number(1)}});
  };
  return Json::Object(
      {{"_type", Json::String("Root")},
       {"consistent_snapshot", Json::Bool(false)},
       {"expires", Json::String(FormatRfc3339(expires))},
       {"keys", Json::Object({{root_cert_.id(), root_cert_.ToJson()},
                              {targets_key_.id(), targets_key_.public_key().ToJson()},
                              {snap.id(), snap.ToJson()},
                              {timestamp_key_.id(), timestamp_key_.ToJson()}})},
       {"roles", Json::Object({{"root", role(root_cert_)},
                               {"targets", role(targets_key_.public_key())},
                               {"snapshot", role(snap)},
                               {"timestamp", role(timestamp_key_)}})},
       {"version", Json::Number(version)}});
}

std::string TestPublisher::Root(int64_t version) {
  last_root_ = SignWith(RootValue(version, now_.AddSeconds(10 * 365 * 86400)), {&root_key_});
  return last_root_;
}

std::string TestPublisher::Targets(
    int64_t version, const std::map<std::string, std::string>& targets,
    const std::vector<std::pair<std::string, PrivateKey*>>& delegations) {
  std::vector<Json::Member> files;
  for (const auto& [name, content] : targets) {
    FileMeta f = FileMetaFor(content);
    files.push_back(
        {name,
         Json::Object({{"hashes",
                        Json::Object({{"sha256", Json::String(Base64Encode(f.hashes["sha256"]))}})},
                       {"length", Json::Number(f.length)}})});
  }
  std::vector<Json::Member> keys;
  std::vector<Json> roles;
  for (const auto& [name, key] : delegations) {
    keys.push_back({key->id(), key->public_key().ToJson()});
    roles.push_back(Json::Object({{"keyids", Json::Array({Json::String(key->id())})},
                                  {"name", Json::String(name)},
                                  {"paths", Json::Array({Json::String("")})},
                                  {"threshold", Json::Number(1)}}));
  }
  Json value = Json::Object(
      {{"_type", Json::String("Targets")},
       {"delegations",
        Json::Object({{"keys", Json::Object(std::move(keys))}, {"roles", Json::Array(roles)}})},
       {"expires", Json::String(FormatRfc3339(now_.AddSeconds(3 * 365 * 86400)))},
       {"targets", Json::Object(std::move(files))},
       {"version", Json::Number(version)}});
  return SignWith(value, {&targets_key_});
}

std::string TestPublisher::Snapshot(int64_t version,
                                    const std::map<std::string, std::string>& files) {
  MetaFiles m;
  m.common.type = "Snapshot";
  m.common.version = version;
  m.common.expires = now_.AddSeconds(3 * 365 * 86400);
  for (const auto& [role, data] : files) m.meta[role] = FileMetaFor(data);
  return SignWith(MetaFilesToJson(m), {&snapshot_key_});
}

std::vector<MetaUpdate> TestPublisher::Publish(int64_t root_version, int64_t version,
                                               const std::map<std::string, std::string>& targets) {
  std::vector<MetaUpdate> out;
  std::string root = root_version > 0 ? Root(root_version) : last_root_;
  if (root_version > 0) out.push_back({kRootRole, root_version, root});
  std::string t = Targets(version, targets);
  out.push_back({kTargetsRole, version, t});
  if (!server_snapshot) {
    out.push_back(
        {kSnapshotRole, version, Snapshot(version, {{kRootRole, root}, {kTargetsRole, t}})});
  }
  return out;
}

}  // namespace dtr::tuf::testing
