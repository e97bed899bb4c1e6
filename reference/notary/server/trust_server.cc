#include "notary/server/trust_server.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "app/log.h"
#include "core/tuf/encoding.h"
#include "core/tuf/metadata.h"
#include "notary/server/multipart.h"

namespace dtr::notary {

using nlohmann::json;

namespace {

constexpr std::string_view kMarker = "/_trust/";

const char* kMetadataNotFound = "You have requested metadata that does not exist.";

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

// The role part of the server's routes: root|targets(/[^/\s]+)*|snapshot|timestamp.
bool RouteRole(std::string_view r) {
  if (r == "root" || r == "snapshot" || r == "timestamp" || r == "targets") return true;
  if (r.substr(0, 8) != "targets/") return false;
  std::string_view rest = r.substr(8);
  size_t start = 0;
  while (true) {
    size_t slash = rest.find('/', start);
    std::string_view seg = rest.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return false;
    for (char c : seg) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

void CacheHeaders(http::Response& res, int max_age, bool must_revalidate, int64_t modified) {
  std::string v =
      "public, max-age=" + std::to_string(max_age) + ", s-maxage=" + std::to_string(max_age);
  if (must_revalidate) v += ", must-revalidate";
  res.headers.Set("Cache-Control", v);
  res.headers.Set("Last-Modified", tuf::FormatRfc1123(tuf::Time::FromUnix(modified)));
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

Result<std::string> ReadBody(http::Request& req, size_t limit) {
  std::string body;
  if (req.body == nullptr) return body;
  if (auto len = req.body->declared_length(); len && *len > limit) {
    return Status(Code::kTooLarge,
                  "the publish is larger than " + std::to_string(limit) + " bytes");
  }
  char buf[65536];
  while (true) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n < 0) return InvalidArgument("request body incomplete: " + req.body->error());
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
    if (body.size() > limit) {
      return Status(Code::kTooLarge,
                    "the publish is larger than " + std::to_string(limit) + " bytes");
    }
  }
  return body;
}

std::string ValidationDetail(const Status& s) {
  json err = {{"Msg", s.message()}};
  if (s.tag() == tuf::kErrBadHierarchy) err = {{"Missing", "snapshot"}, {"Msg", s.message()}};
  return json{{"Name", s.tag()}, {"Error", err}}.dump();
}

}  // namespace

void WriteNotaryError(http::Response& res, int status, const std::string& code,
                      const std::string& message, const std::string& detail_json) {
  json e = {{"code", code}, {"message", message}};
  if (!detail_json.empty()) e["detail"] = json::parse(detail_json, nullptr, false);
  res.status = status;
  res.headers.Set("Content-Type", "application/json; charset=utf-8");
  res.body = json{{"errors", json::array({e})}}.dump();
}

bool IsTrustPath(std::string_view path) {
  if (path.rfind("/v2/", 0) != 0) return false;
  return path == "/v2/_trust/changefeed" || path.find(kMarker) != std::string_view::npos;
}

bool TrustServer::Allowed(http::Request& req, http::Response& res, const std::string& gun,
                          const std::vector<std::string>& actions) {
  return auth_ == nullptr || auth_->Authorize(req, res, gun, actions);
}

bool TrustServer::Handle(http::Request& req, http::Response& res) {
  if (!IsTrustPath(req.path)) return false;
  const std::string& path = req.path;
  auto not_found = [&] { WriteNotaryError(res, 404, "METADATA_NOT_FOUND", kMetadataNotFound); };
  if (path == "/v2/_trust/changefeed") {
    if (req.method != "GET") return not_found(), true;
    if (!Allowed(req, res, "", {"*"})) return true;
    Changefeed(req, res, "");
    return true;
  }
  size_t marker = path.find(kMarker);
  std::string gun = path.substr(4, marker - 4);
  std::string rest = path.substr(marker + kMarker.size());
  if (gun.empty() || gun.find('*') != std::string::npos) return not_found(), true;

  if (rest == "changefeed") {
    if (req.method != "GET") return not_found(), true;
    if (!Allowed(req, res, gun, {"pull"})) return true;
    Changefeed(req, res, gun);
    return true;
  }
  if (rest == "tuf/") {
    if (req.method == "POST") {
      if (Allowed(req, res, gun, {"push", "pull"})) Publish(req, res, gun);
      return true;
    }
    if (req.method == "DELETE") {
      if (Allowed(req, res, gun, {"*"})) Delete(res, gun);
      return true;
    }
    return not_found(), true;
  }
  if (rest.rfind("tuf/", 0) != 0) return not_found(), true;
  std::string file = rest.substr(4);
  if (file == "timestamp.key" || file == "snapshot.key") {
    if (req.method != "GET" && req.method != "POST") return not_found(), true;
    if (!Allowed(req, res, gun, {"push", "pull"})) return true;
    Key(req, res, gun, file.substr(0, file.size() - 4));
    return true;
  }
  if (file.size() > 5 && file.substr(file.size() - 5) == ".json" &&
      (req.method == "GET" || req.method == "HEAD")) {
    if (!Allowed(req, res, gun, {"pull"})) return true;
    GetFile(res, gun, file.substr(0, file.size() - 5));
    return true;
  }
  not_found();
  return true;
}

void TrustServer::Publish(http::Request& req, http::Response& res, const std::string& gun) {
  auto boundary = MultipartBoundary(req.headers.GetOr("Content-Type"));
  if (!boundary.ok()) {
    return WriteNotaryError(res, 400, "MALFORMED_UPLOAD", "The body of your request is malformed.");
  }
  auto body = ReadBody(req, options_.max_publish_bytes);
  if (!body.ok()) {
    return WriteNotaryError(res, 400, "MALFORMED_UPLOAD", "The body of your request is malformed.",
                            json(body.status().message()).dump());
  }
  auto parts = ParseMultipart(*body, *boundary);
  if (!parts.ok()) {
    return WriteNotaryError(res, 400, "MALFORMED_UPLOAD", "The body of your request is malformed.");
  }
  std::vector<tuf::MetaUpdate> updates;
  for (auto& part : *parts) {
    std::string role = part.filename;
    if (role.size() >= 5 && role.substr(role.size() - 5) == ".json") role.resize(role.size() - 5);
    if (role.empty())
      return WriteNotaryError(res, 400, "NO_FILENAME", "No file/role name provided.");
    if (!tuf::ValidRole(role)) {
      return WriteNotaryError(res, 400, "INVALID_ROLE",
                              "The role you are attempting to operate on is invalid.",
                              json(role).dump());
    }
    // The envelope and its common fields must decode (notary's data.SignedMeta).
    auto s = tuf::ParseSigned(part.body);
    tuf::SignedCommon common;
    bool ok = s.ok();
    if (ok) {
      const tuf::Json& v = s->signed_value;
      ok = v.is_object();
      const tuf::Json* version = ok ? v.FindMember("version") : nullptr;
      if (version && !version->is_null()) {
        auto n = version->AsInt64();
        ok = n.ok();
        if (ok) common.version = *n;
      }
      const tuf::Json* expires = ok ? v.FindMember("expires") : nullptr;
      if (expires && !expires->is_null())
        ok = expires->is_string() && tuf::ParseRfc3339(expires->str()).ok();
      const tuf::Json* type = ok ? v.FindMember("_type") : nullptr;
      if (type && !type->is_null()) ok = type->is_string();
    }
    if (!ok) {
      return WriteNotaryError(res, 400, "MALFORMED_JSON",
                              "JSON sent by the client could not be parsed by the server");
    }
    updates.push_back(tuf::MetaUpdate{role, common.version, std::move(part.body)});
  }

  StoreSource source(store_, gun);
  auto validated =
      tuf::ValidateUpdate(gun, updates, source, *crypto_, tuf::Time::Now(), options_.expiries);
  if (!validated.ok()) {
    const Status& s = validated.status();
    if (!s.tag().empty()) {
      log::Info("notary: refused an update of " + gun + ": " + s.tag() + ": " + s.message());
      return WriteNotaryError(res, 400, "INVALID_UPDATE", "Update sent by the client is invalid.",
                              ValidationDetail(s));
    }
    log::Warn("notary: cannot validate an update of " + gun + ": " + s.message());
    return WriteNotaryError(res, 500, "UPDATING",
                            "An error has occurred while updating the TUF repository.");
  }
  Status stored = store_->UpdateMany(gun, *validated);
  if (!stored.ok()) {
    if (stored.tag() == "VERSION") {
      return WriteNotaryError(res, 400, "VERSION",
                              "A newer version of metadata is already available.", "{}");
    }
    log::Warn("notary: cannot store an update of " + gun + ": " + stored.message());
    return WriteNotaryError(res, 500, "UPDATING",
                            "An error has occurred while updating the TUF repository.");
  }
  for (const auto& u : *validated) {
    if (u.role == tuf::kTimestampRole) {
      log::Info("notary: updated " + gun + " to timestamp version " + std::to_string(u.version));
    }
  }
  res.status = 200;
}

void TrustServer::Delete(http::Response& res, const std::string& gun) {
  auto deleted = store_->Delete(gun);
  if (!deleted.ok()) {
    return WriteNotaryError(res, 500, "UNKNOWN", "unknown error",
                            json(deleted.status().message()).dump());
  }
  if (*deleted) log::Info("notary: trust data deleted for " + gun);
  res.status = 200;
}

Result<std::optional<StoredFile>> TrustServer::ServedTimestamp(const std::string& gun) {
  StoreSource source(store_, gun);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ts = tuf::CurrentTimestamp(gun, source, *crypto_, tuf::Time::Now(), options_.expiries);
    if (!ts.ok()) {
      if (ts.status().is(Code::kNotFound)) return std::optional<StoredFile>();
      return ts.status();
    }
    if (ts->to_store.empty()) {
      // The stored timestamp, as CurrentTimestamp read it: no second query for it.
      StoredFile f;
      f.role = tuf::kTimestampRole;
      f.data = std::move(ts->data);
      f.created_at = source.CurrentCreatedAt(tuf::kTimestampRole);
      return std::optional<StoredFile>(std::move(f));
    }
    Status s = store_->UpdateMany(gun, ts->to_store);
    if (s.ok()) {
      StoredFile f;
      f.role = tuf::kTimestampRole;
      f.data = ts->data;
      f.created_at = Now();
      return std::optional<StoredFile>(std::move(f));
    }
    if (s.tag() != "VERSION") return s;
    // Another request re-signed it first: serve theirs.
  }
  return store_->GetCurrent(gun, tuf::kTimestampRole);
}

void TrustServer::GetFile(http::Response& res, const std::string& gun, const std::string& name) {
  auto not_found = [&] { WriteNotaryError(res, 404, "METADATA_NOT_FOUND", kMetadataNotFound); };
  Result<std::optional<StoredFile>> file = std::optional<StoredFile>();
  bool consistent = true;
  size_t dot = name.rfind('.');
  size_t first_dot = name.find('.');
  std::string tail = dot == std::string::npos ? "" : name.substr(dot + 1);
  std::string head = first_dot == std::string::npos ? "" : name.substr(0, first_dot);
  if (dot != std::string::npos && IsHex(tail) &&
      (tail.size() == 64 || tail.size() == 96 || tail.size() == 128) &&
      RouteRole(name.substr(0, dot))) {
    file = store_->GetChecksum(gun, name.substr(0, dot), tail);
  } else if (first_dot != std::string::npos && !head.empty() &&
             head.find_first_not_of("0123456789") == std::string::npos &&
             RouteRole(name.substr(first_dot + 1))) {
    errno = 0;
    long long v = std::strtoll(head.c_str(), nullptr, 10);
    if (errno == ERANGE || v > INT32_MAX) return not_found();
    file = store_->GetVersion(gun, name.substr(first_dot + 1), v);
  } else if (RouteRole(name)) {
    consistent = false;
    if (name == tuf::kTimestampRole || name == tuf::kSnapshotRole) {
      file = ServedTimestamp(gun);
      if (file.ok() && file->has_value() && name == tuf::kSnapshotRole) {
        auto ts = tuf::ParseSigned((*file)->data);
        auto meta =
            ts.ok() ? tuf::ParseTimestamp(ts->signed_value) : Result<tuf::MetaFiles>(ts.status());
        if (!meta.ok()) {
          return WriteNotaryError(res, 500, "UNKNOWN", "unknown error",
                                  json("could not retrieve latest snapshot checksum").dump());
        }
        file = store_->GetChecksum(
            gun, tuf::kSnapshotRole,
            tuf::HexEncode(meta->meta.at(tuf::kSnapshotRole).hashes.at("sha256")));
      }
    } else {
      file = store_->GetCurrent(gun, name);
    }
  } else {
    return not_found();
  }
  if (!file.ok()) {
    log::Warn("notary: cannot read " + name + " of " + gun + ": " + file.status().message());
    return WriteNotaryError(res, 500, "UNKNOWN", "unknown error",
                            json(file.status().message()).dump());
  }
  if (!file->has_value()) return not_found();
  res.status = 200;
  res.headers.Set("Content-Type", "application/json");
  if (consistent) {
    CacheHeaders(res, 30 * 24 * 3600, false, (*file)->created_at);
  } else {
    CacheHeaders(res, 300, true, (*file)->created_at);
  }
  res.body = std::move((*file)->data);
}

void TrustServer::Key(http::Request& req, http::Response& res, const std::string& gun,
                      const std::string& role) {
  Result<tuf::PublicKey> key = Status(Code::kInternal, "unreachable");
  if (req.method == "GET") {
    StoreSource source(store_, gun);
    key = tuf::GetOrCreateServerKey(gun, role, source, *crypto_, options_.key_algorithm);
  } else {
    key = crypto_->Create(gun, role, options_.key_algorithm);
    if (key.ok()) log::Info("notary: new " + role + " key " + key->id() + " for " + gun);
  }
  if (!key.ok()) {
    log::Warn("notary: " + role + " key for " + gun + ": " + key.status().message());
    return WriteNotaryError(res, 500, "UNKNOWN", "unknown error",
                            json(key.status().message()).dump());
  }
  res.status = 200;
  res.headers.Set("Content-Type", "application/json");
  res.body = key->ToServerJson();
}

void TrustServer::Changefeed(http::Request& req, http::Response& res, const std::string& gun) {
  auto bad = [&](const std::string& why) {
    WriteNotaryError(res, 400, "INVALID_PARAMETERS", "The parameters provided are not valid.",
                     json(why).dump());
  };
  auto parse = [](std::string_view text, int64_t* out) {
    if (text.empty()) return false;
    errno = 0;
    char* end = nullptr;
    std::string s(text);
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == ERANGE || end != s.c_str() + s.size() || v > INT32_MAX || v < INT32_MIN)
      return false;
    *out = v;
    return true;
  };
  int64_t records = 0;
  std::string records_text(req.Query("records").value_or(""));
  if (!parse(records_text, &records)) return bad("invalid records parameter: " + records_text);
  if (records == 0) records = 100;
  int64_t change_id = 0;
  std::string id_text(req.Query("change_id").value_or(""));
  if (!id_text.empty() && !parse(id_text, &change_id)) {
    return bad("did not recognize parameters: change ID expected to be integer, provided ID was: " +
               id_text);
  }
  auto changes = store_->GetChanges(change_id, static_cast<int>(records), gun);
  if (changes.ok() && gun.empty() && auth_ != nullptr) {
    if (auto visible = auth_->Visible(req)) {
      std::erase_if(*changes, [&](const Change& c) { return !visible(c.gun); });
    }
  }
  if (!changes.ok()) {
    return WriteNotaryError(res, 500, "UNKNOWN", "unknown error",
                            json(changes.status().message()).dump());
  }
  json out = json::array();
  for (const auto& c : *changes) {
    out.push_back({{"ID", std::to_string(c.id)},
                   {"CreatedAt", tuf::FormatRfc3339(tuf::Time::FromUnix(c.created_at))},
                   {"GUN", c.gun},
                   {"Version", c.version},
                   {"SHA256", c.sha256},
                   {"Category", c.category}});
  }
  res.status = 200;
  res.headers.Set("Content-Type", "application/json");
  res.body = json{{"count", changes->size()}, {"records", out}}.dump();
}

}  // namespace dtr::notary
