#include "notary/signer/local_signer.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "app/log.h"
#include "core/tuf/encoding.h"

namespace dtr::notary {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS signer_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signer_keys (
  key_id TEXT PRIMARY KEY,
  gun TEXT NOT NULL,
  role TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public TEXT NOT NULL,
  private TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used INTEGER
);
CREATE INDEX IF NOT EXISTS signer_keys_pending ON signer_keys (gun, role, algorithm, last_used);
)";

constexpr std::string_view kCheckPlaintext = "dtr notary-signer";

void Wipe(std::string& s) { OPENSSL_cleanse(s.data(), s.size()); }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Trim(ss.str());
}

Result<std::string> MetaValue(meta::SqliteDb& db, const std::string& name) {
  return db.With([&](meta::SqliteConn& c) -> Result<std::string> {
    auto q = c.Prepare("SELECT value FROM signer_meta WHERE name = ?");
    q.Bind(1, name);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::string();
    return q.Text(0);
  });
}

}  // namespace

Result<std::string> LoadSignerPassphrase(const std::string& dir) {
  if (const char* env = std::getenv("DTR_SIGNER_PASSPHRASE"); env && *env) return std::string(env);
  if (const char* file = std::getenv("DTR_SIGNER_PASSPHRASE_FILE"); file && *file) {
    auto p = ReadFile(file);
    if (!p.ok()) return p.status();
    if (p->empty()) return InvalidArgument(std::string(file) + " is empty");
    return p;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/passphrase";
  static std::once_flag warned;
  std::call_once(warned, [&] {
    log::Warn("content trust: DTR_SIGNER_PASSPHRASE is not set; the signing keys are sealed with " +
              path +
              ", which lies beside them (set DTR_SIGNER_PASSPHRASE or "
              "DTR_SIGNER_PASSPHRASE_FILE to keep them safe at rest)");
  });
  if (auto existing = ReadFile(path); existing.ok() && !existing->empty()) return existing;
  std::string fresh = tuf::Base64Encode(RandomBytes(32));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    // A concurrent first start created it: use theirs.
    auto theirs = ReadFile(path);
    if (theirs.ok() && !theirs->empty()) return theirs;
    return IOError("cannot create " + path);
  }
  bool ok = ::write(fd, fresh.data(), fresh.size()) == static_cast<ssize_t>(fresh.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return IOError("cannot write " + path);
  return fresh;
}

Result<std::unique_ptr<LocalSigner>> LocalSigner::Open(const std::string& dir,
                                                       const std::string& passphrase) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto db = meta::SqliteDb::Open(dir + "/signer.db");
  if (!db.ok()) return db.status();
  ::chmod((dir + "/signer.db").c_str(), 0600);
  if (Status s = (*db)->With([](meta::SqliteConn& c) { return c.Exec(kSchema); }); !s.ok()) {
    return s;
  }
  std::unique_ptr<LocalSigner> signer(new LocalSigner(std::move(*db), dir, passphrase));
  // With keys already sealed, a wrong passphrase must stop the start, not the first publish.
  auto salt = MetaValue(*signer->db_, "salt");
  if (!salt.ok()) return salt.status();
  if (!salt->empty()) {
    if (Status s = signer->Unlock(); !s.ok()) return s;
  }
  return signer;
}

// Derives the key-encryption key (slow on purpose: PBKDF2), the first time keys are needed.
// The salt and a sealed check value are made once; later unlocks must open the check.
Status LocalSigner::Unlock() {
  std::lock_guard lock(unlock_mu_);
  if (crypter_) return Status::Ok();
  auto salt_b64 = MetaValue(*db_, "salt");
  if (!salt_b64.ok()) return salt_b64.status();
  if (salt_b64->empty()) {
    std::string salt = RandomBytes(16);
    auto crypter = KeyCrypter::Derive(passphrase_, salt);
    if (!crypter.ok()) return crypter.status();
    auto check = crypter->Seal(kCheckPlaintext, "check");
    if (!check.ok()) return check.status();
    Status s = db_->Transaction([&](meta::SqliteConn& c) -> Status {
      auto ins = c.Prepare(
          "INSERT OR IGNORE INTO signer_meta (name, value) VALUES ('salt', ?), ('check', ?)");
      ins.Bind(1, tuf::Base64Encode(salt)).Bind(2, tuf::Base64Encode(*check));
      return ins.Run();
    });
    if (!s.ok()) return s;
    salt_b64 = MetaValue(*db_, "salt");  // whoever inserted first
    if (!salt_b64.ok()) return salt_b64.status();
  }
  auto raw_salt = tuf::Base64Decode(*salt_b64);
  if (!raw_salt.ok()) return Status(Code::kCorruption, "signer salt is corrupt");
  auto crypter = KeyCrypter::Derive(passphrase_, *raw_salt);
  if (!crypter.ok()) return crypter.status();
  auto check_b64 = MetaValue(*db_, "check");
  if (!check_b64.ok()) return check_b64.status();
  auto check = tuf::Base64Decode(*check_b64);
  if (!check.ok()) return Status(Code::kCorruption, "signer check value is corrupt");
  auto opened = crypter->Open(*check, "check");
  if (!opened.ok() || *opened != kCheckPlaintext) {
    return Status(Code::kPermissionDenied, "the signer passphrase does not open the keys in " +
                                               dir_ + " (DTR_SIGNER_PASSPHRASE changed?)");
  }
  crypter_.emplace(std::move(*crypter));
  return Status::Ok();
}

LocalSigner::~LocalSigner() { Wipe(passphrase_); }

Result<tuf::PublicKey> LocalSigner::Create(std::string_view gun, std::string_view role,
                                           std::string_view algorithm) {
  if (role != tuf::kTimestampRole && role != tuf::kSnapshotRole) {
    return InvalidArgument("the signer holds only timestamp and snapshot keys");
  }
  // A key handed out earlier and never used to sign is handed out again.
  auto pending = db_->With([&](meta::SqliteConn& c) -> Result<std::optional<tuf::PublicKey>> {
    auto q = c.Prepare(
        "SELECT algorithm, public FROM signer_keys WHERE gun = ? AND role = ? AND algorithm = ? "
        "AND last_used IS NULL ORDER BY key_id LIMIT 1");
    q.Bind(1, gun).Bind(2, role).Bind(3, algorithm);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<tuf::PublicKey>();
    auto pub = tuf::Base64Decode(q.Text(1));
    if (!pub.ok()) return Status(Code::kCorruption, "stored public key is corrupt");
    return std::optional<tuf::PublicKey>(tuf::PublicKey(q.Text(0), *pub));
  });
  if (!pending.ok()) return pending.status();
  if (pending->has_value()) return **pending;

  if (Status s = Unlock(); !s.ok()) return s;
  auto key = tuf::PrivateKey::Generate(algorithm);
  if (!key.ok()) return key.status();
  std::string der = key->Pkcs8Der();
  auto sealed = crypter_->Seal(der, key->id());
  Wipe(der);
  if (!sealed.ok()) return sealed.status();
  Status s = db_->With([&](meta::SqliteConn& c) -> Status {
    auto ins = c.Prepare(
        "INSERT INTO signer_keys (key_id, gun, role, algorithm, public, private, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.Bind(1, key->id())
        .Bind(2, gun)
        .Bind(3, role)
        .Bind(4, algorithm)
        .Bind(5, tuf::Base64Encode(key->public_key().value()))
        .Bind(6, tuf::Base64Encode(*sealed))
        .Bind(7, static_cast<int64_t>(std::time(nullptr)));
    return ins.Run();
  });
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  cache_.emplace(key->id(), *key);
  return key->public_key();
}

Result<std::optional<tuf::PrivateKey>> LocalSigner::Load(const std::string& key_id) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key_id);
    if (it != cache_.end()) return std::optional<tuf::PrivateKey>(it->second);
  }
  struct Row {
    std::string algorithm, pub, sealed;
  };
  auto row = db_->With([&](meta::SqliteConn& c) -> Result<std::optional<Row>> {
    auto q = c.Prepare("SELECT algorithm, public, private FROM signer_keys WHERE key_id = ?");
    q.Bind(1, key_id);
    auto r = q.Step();
    if (!r.ok()) return r.status();
    if (!*r) return std::optional<Row>();
    return std::optional<Row>(Row{q.Text(0), q.Text(1), q.Text(2)});
  });
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<tuf::PrivateKey>();
  auto pub = tuf::Base64Decode((*row)->pub);
  auto sealed = tuf::Base64Decode((*row)->sealed);
  if (!pub.ok() || !sealed.ok()) return Status(Code::kCorruption, "stored key is corrupt");
  if (Status s = Unlock(); !s.ok()) return s;
  auto der = crypter_->Open(*sealed, key_id);
  if (!der.ok()) return der.status();
  auto key = tuf::PrivateKey::FromPkcs8(*der, tuf::PublicKey((*row)->algorithm, *pub));
  Wipe(*der);
  if (!key.ok()) return Status(Code::kCorruption, "stored key " + key_id + " is unusable");
  if (key->id() != key_id)
    return Status(Code::kCorruption, "stored key " + key_id + " has another id");
  std::lock_guard lock(mu_);
  cache_.emplace(key_id, *key);
  return std::optional<tuf::PrivateKey>(*key);
}

Result<std::optional<tuf::PublicKey>> LocalSigner::GetKey(std::string_view key_id) {
  auto k = Load(std::string(key_id));
  if (!k.ok()) return k.status();
  if (!k->has_value()) return std::optional<tuf::PublicKey>();
  return std::optional<tuf::PublicKey>((*k)->public_key());
}

Result<tuf::Signature> LocalSigner::Sign(const tuf::PublicKey& key, std::string_view message) {
  auto k = Load(key.id());
  if (!k.ok()) return k.status();
  if (!k->has_value()) return NotFound("the signer does not hold key " + key.id());
  auto sig = (*k)->Sign(message);
  if (!sig.ok()) return sig.status();
  bool mark;
  {
    std::lock_guard lock(mu_);
    mark = !marked_used_[key.id()];
    marked_used_[key.id()] = true;
  }
  if (mark) {
    Status s = db_->With([&](meta::SqliteConn& c) -> Status {
      auto u = c.Prepare("UPDATE signer_keys SET last_used = ? WHERE key_id = ?");
      u.Bind(1, static_cast<int64_t>(std::time(nullptr))).Bind(2, key.id());
      return u.Run();
    });
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      marked_used_[key.id()] = false;
      return s;
    }
  }
  return tuf::Signature{key.id(), (*k)->method(), *sig};
}

}  // namespace dtr::notary
