#include "core/tuf/metadata.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/digest.h"
#include "core/tuf/encoding.h"

namespace dtr::tuf {

namespace {

Status Invalid(std::string_view role, const std::string& msg) {
  return InvalidArgument(std::string(role) + " type metadata invalid: " + msg);
}

// Go decoding helpers: null leaves the zero value; a value of the wrong JSON type is an
// error (json.Unmarshal returns an UnmarshalTypeError).
Status GetString(const Json& obj, std::string_view field, std::string* out) {
  const Json* v = obj.FindMember(field);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_string()) return InvalidArgument(std::string(field) + " must be a string");
  *out = v->str();
  return Status::Ok();
}

Status GetInt(const Json& obj, std::string_view field, int64_t* out) {
  const Json* v = obj.FindMember(field);
  if (v == nullptr || v->is_null()) return Status::Ok();
  auto n = v->AsInt64();
  if (!n.ok()) return InvalidArgument(std::string(field) + ": " + n.status().message());
  *out = *n;
  return Status::Ok();
}

Status GetStrings(const Json& obj, std::string_view field, std::vector<std::string>* out) {
  const Json* v = obj.FindMember(field);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_array()) return InvalidArgument(std::string(field) + " must be an array");
  out->clear();
  for (const auto& item : v->items()) {
    if (!item.is_string()) return InvalidArgument(std::string(field) + " must hold strings");
    out->push_back(item.str());
  }
  return Status::Ok();
}

// An object that is absent or null decodes as empty; anything else must be an object.
Result<const Json*> GetObject(const Json& obj, std::string_view field) {
  const Json* v = obj.FindMember(field);
  if (v == nullptr || v->is_null()) return static_cast<const Json*>(nullptr);
  if (!v->is_object()) return InvalidArgument(std::string(field) + " must be an object");
  return v;
}

Status ParseCommon(const Json& s, SignedCommon* c) {
  if (!s.is_object()) return InvalidArgument("signed must be an object");
  if (Status st = GetString(s, "_type", &c->type); !st.ok()) return st;
  if (Status st = GetInt(s, "version", &c->version); !st.ok()) return st;
  const Json* e = s.FindMember("expires");
  if (e != nullptr && !e->is_null()) {
    if (!e->is_string()) return InvalidArgument("expires must be a time string");
    auto t = ParseRfc3339(e->str());
    if (!t.ok()) return t.status();
    c->expires = *t;
  }
  return Status::Ok();
}

Result<RoleKeys> ParseRoleKeys(const Json& j) {
  if (!j.is_object()) return InvalidArgument("a role must be an object");
  RoleKeys r;
  if (Status s = GetStrings(j, "keyids", &r.key_ids); !s.ok()) return s;
  if (Status s = GetInt(j, "threshold", &r.threshold); !s.ok()) return s;
  return r;
}

Status ParseKeys(const Json* keys, std::map<std::string, PublicKey>* out) {
  if (keys == nullptr) return Status::Ok();
  for (const auto& m : keys->members()) {
    if (m.value.is_null()) {
      (*out)[m.key] = PublicKey();
      continue;
    }
    auto k = PublicKeyFromJson(m.value);
    if (!k.ok()) return k.status();
    (*out)[m.key] = std::move(*k);
  }
  return Status::Ok();
}

Result<FileMeta> ParseFileMeta(const Json& j) {
  if (!j.is_object()) return InvalidArgument("file meta must be an object");
  FileMeta f;
  if (Status s = GetInt(j, "length", &f.length); !s.ok()) return s;
  auto hashes = GetObject(j, "hashes");
  if (!hashes.ok()) return hashes.status();
  if (*hashes != nullptr) {
    for (const auto& m : (*hashes)->members()) {
      if (m.value.is_null()) {
        f.hashes[m.key] = "";
        continue;
      }
      if (!m.value.is_string()) return InvalidArgument("hashes must be base64 strings");
      auto raw = Base64Decode(m.value.str());
      if (!raw.ok()) return InvalidArgument("hashes: " + raw.status().message());
      f.hashes[m.key] = std::move(*raw);
    }
  }
  if (const Json* c = j.FindMember("custom"); c != nullptr && !c->is_null()) f.custom = *c;
  return f;
}

Status ParseFiles(const Json* files, std::map<std::string, FileMeta>* out) {
  if (files == nullptr) return Status::Ok();
  for (const auto& m : files->members()) {
    if (m.value.is_null()) {
      (*out)[m.key] = FileMeta();
      continue;
    }
    auto f = ParseFileMeta(m.value);
    if (!f.ok()) return f.status();
    (*out)[m.key] = std::move(*f);
  }
  return Status::Ok();
}

Status CheckValidHashStructures(const std::map<std::string, std::string>& hashes) {
  int n = 0;
  for (const auto& [alg, v] : hashes) {
    if (alg == "sha256") {
      if (v.size() != 32) return InvalidArgument("sha256 checksum invalid");
      ++n;
    } else if (alg == "sha512") {
      if (v.size() != 64) return InvalidArgument("sha512 checksum invalid");
      ++n;
    }
  }
  if (n == 0) return InvalidArgument("at least one supported hash needed");
  return Status::Ok();
}

// isValidRootRoleStructure
Status CheckRoleKeys(std::string_view container, std::string_view role, const RoleKeys& r,
                     const std::map<std::string, PublicKey>& keys) {
  if (r.threshold < 1) {
    return Invalid(container, "invalid threshold specified for " + std::string(role) + ": " +
                                  std::to_string(r.threshold) + " ");
  }
  for (const auto& id : r.key_ids) {
    if (!keys.count(id)) {
      return Invalid(container, "key ID " + id + " specified in " + std::string(role) +
                                    " without corresponding key");
    }
  }
  return Status::Ok();
}

Json FileMetaToJson(const FileMeta& f) {
  std::vector<Json::Member> hashes;
  for (const auto& [alg, raw] : f.hashes) hashes.push_back({alg, Json::String(Base64Encode(raw))});
  std::vector<Json::Member> members = {{"hashes", Json::Object(std::move(hashes))},
                                       {"length", Json::Number(f.length)}};
  if (f.custom) members.push_back({"custom", *f.custom});
  return Json::Object(std::move(members));
}

}  // namespace

bool IsBaseRole(std::string_view role) {
  return role == kRootRole || role == kTargetsRole || role == kSnapshotRole ||
         role == kTimestampRole;
}

bool IsDelegation(std::string_view role) {
  if (role.size() >= 256 || role.substr(0, 8) != "targets/") return false;
  for (char c : role) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/';
    if (!ok) return false;
  }
  // path.Clean(role) == role: no empty, "." or ".." segments and no trailing slash.
  size_t start = 0;
  while (start <= role.size()) {
    size_t slash = role.find('/', start);
    std::string_view seg = role.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool ValidRole(std::string_view role) { return IsDelegation(role) || IsBaseRole(role); }

std::string ParentRole(std::string_view role) {
  size_t slash = role.rfind('/');
  if (slash == std::string_view::npos) return ".";
  return std::string(role.substr(0, slash));
}

Result<Signed> ParseSigned(std::string_view bytes) {
  auto doc = ParseJson(bytes);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return InvalidArgument("metadata must be a JSON object");
  Signed out;
  const Json* s = doc->FindMember("signed");
  if (s == nullptr || s->is_null()) return InvalidArgument("metadata has no signed section");
  out.signed_value = *s;
  if (!s->is_object()) {
    out.canonical_error = "signed section is not an object";
  } else {
    auto c = CanonicalJson(*s);
    if (c.ok()) {
      out.canonical = std::move(*c);
    } else {
      out.canonical_error = c.status().message();
    }
  }
  const Json* sigs = doc->FindMember("signatures");
  if (sigs != nullptr && !sigs->is_null()) {
    if (!sigs->is_array()) return InvalidArgument("signatures must be an array");
    for (const auto& item : sigs->items()) {
      if (item.is_null()) {
        out.signatures.emplace_back();
        continue;
      }
      if (!item.is_object()) return InvalidArgument("a signature must be an object");
      Signature sig;
      if (Status st = GetString(item, "keyid", &sig.key_id); !st.ok()) return st;
      if (Status st = GetString(item, "method", &sig.method); !st.ok()) return st;
      for (auto& c : sig.method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const Json* raw = item.FindMember("sig");
      if (raw != nullptr && !raw->is_null()) {
        if (!raw->is_string()) return InvalidArgument("sig must be a base64 string");
        auto bytes_sig = Base64Decode(raw->str());
        if (!bytes_sig.ok()) return InvalidArgument("sig: " + bytes_sig.status().message());
        sig.sig = std::move(*bytes_sig);
      }
      out.signatures.push_back(std::move(sig));
    }
  }
  return out;
}

std::string SerializeSigned(std::string_view canonical, const std::vector<Signature>& sigs) {
  std::string out = "{\"signed\":";
  out.append(canonical);
  out += ",\"signatures\":[";
  for (size_t i = 0; i < sigs.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"keyid\":";
    AppendCanonicalString(sigs[i].key_id, &out);
    out += ",\"method\":";
    AppendCanonicalString(sigs[i].method, &out);
    out += ",\"sig\":\"" + Base64Encode(sigs[i].sig) + "\"}";
  }
  out += "]}";
  return out;
}

FileMeta FileMetaFor(std::string_view data) {
  FileMeta f;
  f.length = static_cast<int64_t>(data.size());
  auto raw = [](const Digest& d) { return *HexDecode(d.hex()); };
  f.hashes["sha256"] = raw(ComputeDigest(data, DigestAlgorithm::kSha256));
  f.hashes["sha512"] = raw(ComputeDigest(data, DigestAlgorithm::kSha512));
  return f;
}

Status CheckHashes(std::string_view data, std::string_view role,
                   const std::map<std::string, std::string>& hashes) {
  int n = 0;
  for (const auto& [alg, want] : hashes) {
    DigestAlgorithm a;
    if (alg == "sha256") {
      a = DigestAlgorithm::kSha256;
    } else if (alg == "sha512") {
      a = DigestAlgorithm::kSha512;
    } else {
      continue;
    }
    std::string got = *HexDecode(ComputeDigest(data, a).hex());
    if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), got.size()) != 0) {
      return InvalidArgument(alg + " checksum for " + std::string(role) +
                             " did not match: expected " + HexEncode(want));
    }
    ++n;
  }
  if (n == 0) {
    return InvalidArgument("no checksums for supported algorithms were provided for " +
                           std::string(role));
  }
  return Status::Ok();
}

Result<Root> ParseRoot(const Json& s) {
  Root r;
  if (Status st = ParseCommon(s, &r.common); !st.ok()) return st;
  auto keys = GetObject(s, "keys");
  if (!keys.ok()) return keys.status();
  if (Status st = ParseKeys(*keys, &r.keys); !st.ok()) return st;
  auto roles = GetObject(s, "roles");
  if (!roles.ok()) return roles.status();
  if (*roles != nullptr) {
    for (const auto& m : (*roles)->members()) {
      if (m.value.is_null()) {
        r.roles[m.key] = std::nullopt;
        continue;
      }
      auto rk = ParseRoleKeys(m.value);
      if (!rk.ok()) return rk.status();
      r.roles[m.key] = std::move(*rk);
    }
  }
  if (const Json* c = s.FindMember("consistent_snapshot"); c && !c->is_null()) {
    if (!c->is_bool()) return InvalidArgument("consistent_snapshot must be a boolean");
    r.consistent_snapshot = c->bool_value();
  }
  if (r.common.type != "Root")
    return Invalid(kRootRole, "expected type Root, not " + r.common.type);
  if (r.common.version < 1) return Invalid(kRootRole, "version cannot be less than 1");
  for (const char* role : {kRootRole, kTargetsRole, kSnapshotRole, kTimestampRole}) {
    auto it = r.roles.find(role);
    if (it == r.roles.end() || !it->second) {
      return Invalid(kRootRole, std::string("missing ") + role + " role specification");
    }
    if (Status st = CheckRoleKeys(kRootRole, role, *it->second, r.keys); !st.ok()) return st;
  }
  return r;
}

Result<Targets> ParseTargets(const Json& s, std::string_view role) {
  if (role != kTargetsRole && !IsDelegation(role)) {
    return InvalidArgument("tuf: invalid role " + std::string(role) + ".");
  }
  Targets t;
  if (Status st = ParseCommon(s, &t.common); !st.ok()) return st;
  auto files = GetObject(s, "targets");
  if (!files.ok()) return files.status();
  if (Status st = ParseFiles(*files, &t.targets); !st.ok()) return st;
  auto delegations = GetObject(s, "delegations");
  if (!delegations.ok()) return delegations.status();
  if (*delegations != nullptr) {
    auto keys = GetObject(**delegations, "keys");
    if (!keys.ok()) return keys.status();
    if (Status st = ParseKeys(*keys, &t.delegation_keys); !st.ok()) return st;
    const Json* roles = (*delegations)->FindMember("roles");
    if (roles != nullptr && !roles->is_null()) {
      if (!roles->is_array()) return InvalidArgument("delegations.roles must be an array");
      for (const auto& item : roles->items()) {
        DelegationRole d;
        if (!item.is_null()) {
          auto rk = ParseRoleKeys(item);
          if (!rk.ok()) return rk.status();
          d.keys = std::move(*rk);
          if (Status st = GetString(item, "name", &d.name); !st.ok()) return st;
          if (Status st = GetStrings(item, "paths", &d.paths); !st.ok()) return st;
        }
        t.delegation_roles.push_back(std::move(d));
      }
    }
  }
  if (t.common.type != "Targets")
    return Invalid(role, "expected type Targets, not " + t.common.type);
  if (t.common.version < 1) return Invalid(role, "version cannot be less than one");
  for (const auto& d : t.delegation_roles) {
    if (!IsDelegation(d.name) || ParentRole(d.name) != role) {
      return Invalid(role, "delegation role " + d.name + " invalid");
    }
    if (Status st = CheckRoleKeys(role, d.name, d.keys, t.delegation_keys); !st.ok()) return st;
  }
  return t;
}

Status CheckSnapshotStructure(const MetaFiles& s) {
  if (s.common.type != "Snapshot") {
    return Invalid(kSnapshotRole, "expected type Snapshot, not " + s.common.type);
  }
  if (s.common.version < 1) return Invalid(kSnapshotRole, "version cannot be less than one");
  for (const char* role : {kRootRole, kTargetsRole}) {
    auto it = s.meta.find(role);
    if (it == s.meta.end() || !it->second.hashes.count("sha256")) {
      return Invalid(kSnapshotRole,
                     std::string("missing ") + role + " sha256 checksum information");
    }
    if (Status st = CheckValidHashStructures(it->second.hashes); !st.ok()) {
      return Invalid(kSnapshotRole,
                     std::string("invalid ") + role + " checksum information, " + st.message());
    }
  }
  return Status::Ok();
}

Status CheckTimestampStructure(const MetaFiles& t) {
  if (t.common.type != "Timestamp") {
    return Invalid(kTimestampRole, "expected type Timestamp, not " + t.common.type);
  }
  if (t.common.version < 1) return Invalid(kTimestampRole, "version cannot be less than one");
  auto it = t.meta.find(kSnapshotRole);
  if (it == t.meta.end() || !it->second.hashes.count("sha256")) {
    return Invalid(kTimestampRole, "missing snapshot sha256 checksum information");
  }
  if (Status st = CheckValidHashStructures(it->second.hashes); !st.ok()) {
    return Invalid(kTimestampRole, "invalid snapshot checksum information, " + st.message());
  }
  return Status::Ok();
}

namespace {

Result<MetaFiles> ParseMetaFiles(const Json& s) {
  MetaFiles m;
  if (Status st = ParseCommon(s, &m.common); !st.ok()) return st;
  auto meta = GetObject(s, "meta");
  if (!meta.ok()) return meta.status();
  if (Status st = ParseFiles(*meta, &m.meta); !st.ok()) return st;
  return m;
}

}  // namespace

Result<MetaFiles> ParseSnapshot(const Json& s) {
  auto m = ParseMetaFiles(s);
  if (!m.ok()) return m;
  if (Status st = CheckSnapshotStructure(*m); !st.ok()) return st;
  return m;
}

Result<MetaFiles> ParseTimestamp(const Json& s) {
  auto m = ParseMetaFiles(s);
  if (!m.ok()) return m;
  if (Status st = CheckTimestampStructure(*m); !st.ok()) return st;
  return m;
}

Json MetaFilesToJson(const MetaFiles& m) {
  std::vector<Json::Member> files;
  for (const auto& [name, f] : m.meta) files.push_back({name, FileMetaToJson(f)});
  return Json::Object({{"_type", Json::String(m.common.type)},
                       {"expires", Json::String(FormatRfc3339(m.common.expires))},
                       {"meta", Json::Object(std::move(files))},
                       {"version", Json::Number(m.common.version)}});
}

}  // namespace dtr::tuf
