// Group `trust` (profile dtr): the Notary v1 server API DTR serves on the registry's host
// (spec/dtr-2x-inventory.md section 5.2, spec/real-clients.md "The notary client"), checked
// by acting as a TUF client with our own keys (tuf_client.h): server-managed keys, a first
// publish read back by name, checksum and version, a server-signed timestamp naming the
// snapshot, key rotation, the attacks a server must refuse with notary-server's error codes
// while still serving the previous metadata unchanged, push rights, deletion and the
// changefeed. Each case works on its own GUN `<host>/<namespace>/c-<run>-<case>` and
// deletes its trust data when it ends.
#include <nlohmann/json.hpp>

#include "auth.h"
#include "digest.h"
#include "registry_ops.h"
#include "tuf_client.h"

namespace dtrc {
namespace {

using nlohmann::json;
using tuf::PublicKey;
using tuf::Publisher;

const char* kNeedsCredentials = "needs --user/--password (publishing trust data needs push)";

// The metadata of one publish, as sent.
struct Published {
  std::string root, targets, snapshot;
};

class Trust {
 public:
  explicit Trust(CaseContext& ctx) : ctx_(ctx), oci_(ctx) {
    if (ctx.options().user.empty() || ctx.options().password.empty()) ctx.skip(kNeedsCredentials);
    gun_ = gun_for(ctx.new_repo());
  }
  CaseContext& ctx() { return ctx_; }
  Oci& oci() { return oci_; }
  const std::string& gun() const { return gun_; }
  std::string tuf_path(const std::string& gun = "") const {
    return "/v2/" + (gun.empty() ? gun_ : gun) + "/_trust/tuf/";
  }
  std::string gun_for(const std::string& repo) const {
    std::string host = ctx_.options().url;
    if (auto p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
    return host + "/" + repo;
  }

  HttpResponse get(const std::string& file) { return oci_.get(tuf_path() + file); }

  // POST /v2/<gun>/_trust/tuf/ as the notary client sends it: one `files` part per role.
  static HttpRequest publish_request(
      const std::string& path, const std::vector<std::pair<std::string, std::string>>& parts) {
    std::string boundary = "dtrc" + random_hex(24);
    std::string body;
    for (const auto& [role, data] : parts) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
              role + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + "\r\n";
    }
    body += "--" + boundary + "--\r\n";
    return {.method = "POST",
            .target = path,
            .headers = {{"Content-Type", "multipart/form-data; boundary=" + boundary}},
            .body = std::move(body)};
  }
  HttpResponse post(const std::vector<std::pair<std::string, std::string>>& parts) {
    remember_cleanup();
    return oci_.send(publish_request(tuf_path(), parts));
  }

  // GET (or POST: rotate) <role>.key: the server's public key; fails unless a notary key.
  PublicKey server_key(const std::string& role, const std::string& method = "GET",
                       bool setup = false) {
    remember_cleanup();
    HttpResponse r = oci_.send({.method = method, .target = tuf_path() + role + ".key"});
    std::string what = method + " " + role + ".key";
    if (r.status != 200) {
      if (setup) ctx_.blocked(what, r);
      ctx_.fail(
          what + ": expected 200 with the server's public key, got " + std::to_string(r.status), r);
    }
    json j = json::parse(r.body, nullptr, false);
    std::string why;
    auto key = tuf::public_key_from_json(j, &why);
    if (!key) ctx_.fail(what + ": " + why, r);
    if (!j["keyval"].contains("private") || !j["keyval"]["private"].is_null()) {
      ctx_.fail(what + ": keyval.private is not null", r);
    }
    return *key;
  }

  // A fresh repository: root, targets and snapshot version 1 (the snapshot left out when
  // the server signs it). `setup`: a refusal blocks the case instead of failing it.
  Published publish_first(Publisher& pub, bool setup) {
    Published p;
    p.root = pub.root(1);
    p.targets = pub.targets(1, {{"v1", "dtr-conformance " + random_hex(16)}});
    std::vector<std::pair<std::string, std::string>> parts = {{"root", p.root},
                                                              {"targets", p.targets}};
    if (!pub.server_snapshot_key) {
      p.snapshot = pub.snapshot(1, p.root, p.targets);
      parts.push_back({"snapshot", p.snapshot});
    }
    HttpResponse r = post(parts);
    if (r.status != 200) {
      if (setup) ctx_.blocked("POST " + tuf_path() + " (first publish)", r);
      ctx_.fail("first publish: expected 200, got " + std::to_string(r.status), r);
    }
    return p;
  }

  // A publisher whose root names the server's timestamp key, and its first publish.
  std::unique_ptr<Publisher> published(Published* out, bool setup = true) {
    auto pub = std::make_unique<Publisher>(gun_, server_key("timestamp", "GET", setup));
    *out = publish_first(*pub, setup);
    return pub;
  }

  // A 200 file; fails otherwise.
  HttpResponse expect_file(const std::string& file) {
    HttpResponse r = get(file);
    if (r.status != 200) {
      ctx_.fail("GET " + file + ": expected 200, got " + std::to_string(r.status), r);
    }
    return r;
  }
  void expect_bytes(const std::string& file, const std::string& want, const std::string& what) {
    HttpResponse r = expect_file(file);
    if (r.body != want)
      ctx_.fail("GET " + file + ": not the " + what + " published, byte for byte", r);
  }
  void expect_not_found(const std::string& file) {
    HttpResponse r = get(file);
    if (r.status != 404) {
      ctx_.fail("GET " + file + ": expected 404, got " + std::to_string(r.status), r);
    }
  }

  // The timestamp the server serves now: signed by `key`, naming `snapshot`.
  HttpResponse expect_timestamp(const PublicKey& key, const std::string& snapshot) {
    HttpResponse r = expect_file("timestamp.json");
    if (std::string e = tuf::check_timestamp(r.body, key, snapshot, std::time(nullptr));
        !e.empty()) {
      ctx_.fail("GET timestamp.json: " + e, r);
    }
    return r;
  }

  // A refused update: 4xx, notary's error envelope with `code` (and, for INVALID_UPDATE,
  // notary's detail {"Name":"<detail_name>"}).
  void expect_refused(const HttpResponse& r, const std::string& code,
                      const std::string& detail_name, const std::string& what) {
    if (r.status < 400 || r.status >= 500) {
      ctx_.fail(what + ": expected 400 " + code + ", got " + std::to_string(r.status), r);
    }
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) {
      ctx_.fail(what + ": not notary's error body {\"errors\":[{\"code\"...}]}", r);
    }
    for (const auto& e : j["errors"]) {
      if (!e.is_object() || e.value("code", "") != code) continue;
      if (detail_name.empty()) return;
      if (e.contains("detail") && e["detail"].is_object() &&
          e["detail"].value("Name", "") == detail_name) {
        return;
      }
      ctx_.fail(what + ": " + code + " without notary's detail {\"Name\":\"" + detail_name + "\"}",
                r);
    }
    ctx_.fail(what + ": expected error code " + code, r);
  }

  // After a refused update: the previous metadata, unchanged, and no file of version `v`.
  void expect_unchanged(const Published& p, const PublicKey& ts_key, long long v) {
    expect_bytes("root.json", p.root, "previous root");
    expect_bytes("targets.json", p.targets, "previous targets");
    HttpResponse snap = expect_file("snapshot.json");
    if (!p.snapshot.empty() && snap.body != p.snapshot) {
      ctx_.fail("GET snapshot.json: not the previous snapshot", snap);
    }
    expect_timestamp(ts_key, snap.body);
    for (const char* role : {"root", "targets", "snapshot"}) {
      expect_not_found(std::to_string(v) + "." + role + ".json");
    }
  }

 private:
  void remember_cleanup() {
    if (cleanup_) return;
    cleanup_ = true;
    CaseContext* ctx = &ctx_;
    std::string path = tuf_path();
    ctx_.on_cleanup([ctx, path] { ctx->http().send({.method = "DELETE", .target = path}); });
  }

  CaseContext& ctx_;
  Oci oci_;
  std::string gun_;
  bool cleanup_ = false;
};

// ---- server-managed keys ----------------------------------------------------------------

void timestamp_key(CaseContext& ctx) {
  Trust t(ctx);
  PublicKey a = t.server_key("timestamp");
  PublicKey b = t.server_key("timestamp");
  if (a.id != b.id) {
    ctx.fail("GET timestamp.key twice before any publish gave two keys (" + a.id + ", " + b.id +
             "): a client's root would name a key the server does not sign with");
  }
}

void snapshot_key(CaseContext& ctx) {
  Trust t(ctx);
  // The key a root names for a server-signed snapshot; once the server signs with it, a
  // rotation must give another (before that, handing out the pending key again is fine).
  PublicKey used = t.server_key("snapshot");
  Publisher pub(t.gun(), t.server_key("timestamp", "GET", true));
  pub.server_snapshot_key = used;
  t.publish_first(pub, true);
  PublicKey rotated = t.server_key("snapshot", "POST");
  if (rotated.id == used.id) {
    ctx.fail("POST snapshot.key (rotate) after the key signed a snapshot gave the same key " +
             used.id);
  }
}

void timestamp_key_rotate(CaseContext& ctx) {
  Trust t(ctx);
  Published first;
  auto pub = t.published(&first);
  PublicKey rotated = t.server_key("timestamp", "POST");
  if (rotated.id == pub->timestamp_key.id) {
    ctx.fail("POST timestamp.key (rotate) gave the same key " + rotated.id);
  }
  pub->timestamp_key = rotated;
  std::string root = pub->root(2);
  std::string targets = pub->targets(2, {{"v2", random_hex(8)}});
  std::string snapshot = pub->snapshot(2, root, targets);
  HttpResponse r = t.post({{"root", root}, {"targets", targets}, {"snapshot", snapshot}});
  if (r.status != 200) {
    ctx.fail("publishing a root that names the rotated timestamp key: expected 200, got " +
                 std::to_string(r.status),
             r);
  }
  t.expect_timestamp(rotated, snapshot);
}

// ---- publish and read back --------------------------------------------------------------

void root_not_found(CaseContext& ctx) {
  Trust t(ctx);
  HttpResponse r = t.get("root.json");
  if (r.status != 404) {
    ctx.fail(
        "GET root.json of a GUN never published: expected 404, got " + std::to_string(r.status), r);
  }
  t.expect_refused(r, "METADATA_NOT_FOUND", "", "GET root.json of a GUN never published");
}

void publish(CaseContext& ctx) {
  Trust t(ctx);
  PublicKey ts_key = t.server_key("timestamp");
  Publisher pub(t.gun(), ts_key);
  Published p = t.publish_first(pub, false);
  t.expect_bytes("root.json", p.root, "root");
  t.expect_bytes("targets.json", p.targets, "targets");
  t.expect_bytes("snapshot.json", p.snapshot, "snapshot");
  t.expect_timestamp(ts_key, p.snapshot);
  // What a client checks of the root it downloads: self-signed to threshold, and every
  // role's file signed by the keys the root names.
  HttpResponse root = t.expect_file("root.json");
  std::string why;
  auto doc = tuf::parse_signed(root.body, &why);
  if (!doc) ctx.fail("root.json: " + why, root);
  if (std::string e = tuf::check_common(*doc, "Root", std::time(nullptr), 1); !e.empty()) {
    ctx.fail("root.json: " + e, root);
  }
  for (const char* name : {"root", "targets", "snapshot", "timestamp"}) {
    auto role = tuf::role_of(doc->value, name, &why);
    if (!role) ctx.fail("root.json: " + why, root);
    HttpResponse file = t.expect_file(std::string(name) + ".json");
    auto signed_doc = tuf::parse_signed(file.body, &why);
    if (!signed_doc) ctx.fail(std::string(name) + ".json: " + why, file);
    if (std::string e = tuf::check_signatures(*signed_doc, *role); !e.empty()) {
      ctx.fail(std::string(name) + ".json is not signed by the root's " + name + " keys: " + e,
               file);
    }
  }
}

void publish_server_snapshot(CaseContext& ctx) {
  Trust t(ctx);
  PublicKey ts_key = t.server_key("timestamp");
  PublicKey snap_key = t.server_key("snapshot");
  Publisher pub(t.gun(), ts_key);
  pub.server_snapshot_key = snap_key;
  Published p = t.publish_first(pub, false);
  HttpResponse snap = t.expect_file("snapshot.json");
  std::string why;
  auto doc = tuf::parse_signed(snap.body, &why);
  if (!doc) ctx.fail("snapshot.json: " + why, snap);
  tuf::Role role;
  role.keys.emplace(snap_key.id, snap_key);
  if (std::string e = tuf::check_signatures(*doc, role); !e.empty()) {
    ctx.fail("snapshot.json is not signed by the server's snapshot key: " + e, snap);
  }
  if (std::string e = tuf::check_common(*doc, "Snapshot", std::time(nullptr)); !e.empty()) {
    ctx.fail("snapshot.json: " + e, snap);
  }
  for (const auto& [name, bytes] : {std::pair{"root", &p.root}, {"targets", &p.targets}}) {
    if (std::string e = tuf::check_meta(doc->value, name, *bytes); !e.empty()) {
      ctx.fail("server-signed snapshot.json: " + e, snap);
    }
  }
  t.expect_timestamp(ts_key, snap.body);
}

void by_checksum(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  t.published(&p);
  for (const auto& [role, bytes] :
       {std::pair{"root", &p.root}, {"targets", &p.targets}, {"snapshot", &p.snapshot}}) {
    t.expect_bytes(std::string(role) + "." + tuf::hex(tuf::sha256_raw(*bytes)) + ".json", *bytes,
                   role);
  }
  HttpResponse ts = t.expect_file("timestamp.json");
  t.expect_bytes("timestamp." + tuf::hex(tuf::sha256_raw(ts.body)) + ".json", ts.body,
                 "timestamp served");
  t.expect_not_found("root." + random_hex(64) + ".json");
}

void by_version(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  auto pub = t.published(&p);
  t.expect_bytes("1.root.json", p.root, "root");
  t.expect_bytes("1.targets.json", p.targets, "targets");
  t.expect_bytes("1.snapshot.json", p.snapshot, "snapshot");
  t.expect_not_found("2.root.json");
  std::string targets = pub->targets(2, {{"v2", random_hex(8)}});
  std::string snapshot = pub->snapshot(2, p.root, targets);
  HttpResponse r = t.post({{"targets", targets}, {"snapshot", snapshot}});
  if (r.status != 200) ctx.blocked("POST a second publish (targets and snapshot 2)", r);
  t.expect_bytes("1.targets.json", p.targets, "first targets");
  t.expect_bytes("2.targets.json", targets, "second targets");
  t.expect_bytes("targets.json", targets, "second targets");
}

void publish_update(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  auto pub = t.published(&p);
  HttpResponse ts1 = t.expect_timestamp(pub->timestamp_key, p.snapshot);
  std::string targets = pub->targets(2, {{"v1", random_hex(8)}, {"v2", random_hex(8)}});
  std::string snapshot = pub->snapshot(2, p.root, targets);
  HttpResponse r = t.post({{"targets", targets}, {"snapshot", snapshot}});
  if (r.status != 200) {
    ctx.fail(
        "second publish (targets and snapshot 2): expected 200, got " + std::to_string(r.status),
        r);
  }
  t.expect_bytes("targets.json", targets, "second targets");
  t.expect_bytes("snapshot.json", snapshot, "second snapshot");
  t.expect_bytes("root.json", p.root, "root (unchanged)");
  HttpResponse ts2 = t.expect_timestamp(pub->timestamp_key, snapshot);
  long long v1 = json::parse(ts1.body)["signed"]["version"];
  long long v2 = json::parse(ts2.body)["signed"]["version"];
  if (v2 <= v1) {
    ctx.fail("timestamp.json version " + std::to_string(v2) + " after an update is not above " +
                 std::to_string(v1),
             ts2);
  }
}

void cache_headers(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  t.published(&p);
  for (const char* file : {"root.json", "timestamp.json"}) {
    HttpResponse r = t.expect_file(file);
    std::string cc = r.header("Cache-Control");
    if (cc.find("must-revalidate") == std::string::npos ||
        cc.find("max-age=") == std::string::npos) {
      ctx.fail(std::string(file) + ": Cache-Control is \"" + cc +
                   "\", not notary's \"public, max-age=300, s-maxage=300, must-revalidate\"",
               r);
    }
    if (!r.has_header("Last-Modified")) ctx.fail(std::string(file) + ": no Last-Modified", r);
  }
  HttpResponse r = t.expect_file("root." + tuf::hex(tuf::sha256_raw(p.root)) + ".json");
  if (r.header("Cache-Control").find("max-age=2592000") == std::string::npos) {
    ctx.fail("root.<sha256>.json: Cache-Control is \"" + r.header("Cache-Control") +
                 "\", not notary's max-age=2592000 for checksum-named files",
             r);
  }
}

// ---- attacks ----------------------------------------------------------------------------

// Each attack: a first good publish, the attack refused with `code` (`detail` for
// INVALID_UPDATE), then the first publish still served unchanged.
struct Attack {
  Trust t;
  Published first;
  std::unique_ptr<Publisher> pub;
  explicit Attack(CaseContext& ctx) : t(ctx) { pub = t.published(&first); }
  void expect(const std::vector<std::pair<std::string, std::string>>& parts,
              const std::string& code, const std::string& detail, const std::string& what) {
    HttpResponse r = t.post(parts);
    t.expect_refused(r, code, detail, what);
    t.expect_unchanged(first, pub->timestamp_key, 2);
  }
};

void refuse_wrong_key(CaseContext& ctx) {
  Attack a(ctx);
  tuf::PrivateKey other = tuf::PrivateKey::generate();
  std::string targets = tuf::sign_document(
      a.pub->targets_value(2, {{"evil", "x"}}, std::time(nullptr) + 86400 * 365), {&other});
  a.expect({{"targets", targets}, {"snapshot", a.pub->snapshot(2, a.first.root, targets)}},
           "INVALID_UPDATE", "ErrBadTargets", "targets signed by a key the root does not name");
}

void refuse_below_threshold(CaseContext& ctx) {
  Attack a(ctx);
  json root = a.pub->root_value(2, std::time(nullptr) + 86400 * 365);
  root["roles"]["root"]["threshold"] = 2;  // one root key, one signature
  std::string root_bytes = tuf::sign_document(root, {&a.pub->root_key});
  std::string targets = a.pub->targets(2, {{"v2", "x"}});
  a.expect({{"root", root_bytes},
            {"targets", targets},
            {"snapshot", a.pub->snapshot(2, root_bytes, targets)}},
           "INVALID_UPDATE", "ErrBadRoot", "a root signed below its own threshold");
}

void refuse_rollback(CaseContext& ctx) {
  Attack a(ctx);
  std::string targets = a.pub->targets(1, {{"old", "x"}});
  HttpResponse r =
      a.t.post({{"targets", targets}, {"snapshot", a.pub->snapshot(1, a.first.root, targets)}});
  a.t.expect_refused(r, "VERSION", "", "targets and snapshot at the version already served");
  a.t.expect_unchanged(a.first, a.pub->timestamp_key, 2);
  a.t.expect_bytes("1.targets.json", a.first.targets, "first targets");
}

void refuse_expired(CaseContext& ctx) {
  Attack a(ctx);
  std::string targets =
      tuf::sign_document(a.pub->targets_value(2, {{"v2", "x"}}, std::time(nullptr) - 86400 * 365),
                         {&a.pub->targets_key});
  a.expect({{"targets", targets}, {"snapshot", a.pub->snapshot(2, a.first.root, targets)}},
           "INVALID_UPDATE", "ErrBadTargets", "targets that expired a year ago");
}

void refuse_snapshot_lies(CaseContext& ctx) {
  Attack a(ctx);
  std::string targets = a.pub->targets(2, {{"v2", "x"}});
  std::string other = a.pub->targets(2, {{"v2", "y"}});
  a.expect({{"targets", targets}, {"snapshot", a.pub->snapshot(2, a.first.root, other)}},
           "INVALID_UPDATE", "ErrBadSnapshot", "a snapshot whose targets hash is not the targets'");
}

void refuse_root_rotation(CaseContext& ctx) {
  Attack a(ctx);
  // A usurper: a new root key (and new targets and snapshot keys) signing root 2 alone.
  Publisher usurper(a.t.gun(), a.pub->timestamp_key);
  std::string root = usurper.root(2);
  std::string targets = usurper.targets(2, {{"v2", "x"}});
  a.expect({{"root", root}, {"targets", targets}, {"snapshot", usurper.snapshot(2, root, targets)}},
           "INVALID_UPDATE", "ErrBadRoot", "a root rotation not signed by the old root key");
}

void refuse_malformed(CaseContext& ctx) {
  Attack a(ctx);
  HttpResponse r = a.t.oci().post(a.t.tuf_path(), "{\"not\":\"multipart\"}",
                                  {{"Content-Type", "application/json"}});
  a.t.expect_refused(r, "MALFORMED_UPLOAD", "", "a publish that is not multipart");
  a.t.expect_refused(a.t.post({{"targets", "{\"signed\": [1, 2"}}), "MALFORMED_JSON", "",
                     "a targets part that is not JSON");
  a.t.expect_refused(a.t.post({{"targets", "{\"signed\":{\"version\":\"2\"},\"signatures\":[]}"}}),
                     "MALFORMED_JSON", "", "a targets part whose version is a string");
  a.t.expect_refused(a.t.post({{"targets/../root", "{}"}}), "INVALID_ROLE", "",
                     "a part named targets/../root");
  a.t.expect_refused(a.t.post({{"", "{}"}}), "NO_FILENAME", "", "a part without a filename");
  a.t.expect_unchanged(a.first, a.pub->timestamp_key, 2);
}

void refuse_oversized(CaseContext& ctx) {
  Attack a(ctx);
  // 65 MiB: more than any notary client sends for one role; refused one way or another.
  json v = a.pub->targets_value(2, {{"v2", "x"}}, std::time(nullptr) + 86400);
  v["custom"] = std::string(65u << 20, 'a');
  std::string huge = tuf::sign_document(v, {&a.pub->root_key});  // and the wrong key
  HttpResponse r = ctx.http().send(Trust::publish_request(a.t.tuf_path(), {{"targets", huge}}));
  if (r.ok()) {
    if (r.status < 400 || r.status >= 500) {
      ctx.fail("a 65 MiB targets part: expected a 4xx refusal, got " + std::to_string(r.status), r);
    }
  } else {
    ctx.note("the server closed the connection on the 65 MiB publish: " + r.error);
  }
  a.t.expect_unchanged(a.first, a.pub->timestamp_key, 2);
}

// ---- rights, deletion, changefeed -------------------------------------------------------

void no_push_rights(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  auto pub = t.published(&p);
  HttpClient anonymous(ClientConfig{.base_url = ctx.options().url,
                                    .ca_file = ctx.options().ca_file,
                                    .insecure = ctx.options().insecure,
                                    .timeout_seconds = ctx.options().timeout_seconds});
  auto expect_denied = [&](HttpRequest req, const std::string& what) {
    HttpResponse r = anonymous.send(req);
    if (!r.ok()) ctx.fail(what + ": " + r.error, r);
    if (r.status != 401 && r.status != 403) {
      ctx.fail(what + " without credentials: expected 401 or 403, got " + std::to_string(r.status),
               r);
    }
  };
  std::string targets = pub->targets(2, {{"evil", "x"}});
  expect_denied(
      Trust::publish_request(
          t.tuf_path(), {{"targets", targets}, {"snapshot", pub->snapshot(2, p.root, targets)}}),
      "POST " + t.tuf_path());
  expect_denied({.method = "POST", .target = t.tuf_path() + "timestamp.key"},
                "POST timestamp.key (rotate)");
  expect_denied({.method = "DELETE", .target = t.tuf_path()}, "DELETE " + t.tuf_path());
  t.expect_unchanged(p, pub->timestamp_key, 2);
}

void delete_trust_data(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  t.published(&p);
  HttpResponse r = t.oci().del(t.tuf_path());
  if (r.status != 200) {
    ctx.fail("DELETE " + t.tuf_path() + ": expected 200, got " + std::to_string(r.status), r);
  }
  for (const char* file : {"root.json", "targets.json", "snapshot.json", "timestamp.json"}) {
    t.expect_not_found(file);
  }
  t.expect_not_found("root." + tuf::hex(tuf::sha256_raw(p.root)) + ".json");
  t.expect_not_found("1.root.json");
}

// {count, records:[{ID, CreatedAt, GUN, Version, SHA256, Category}]}: the records.
json feed_records(CaseContext& ctx, const HttpResponse& r, const std::string& what) {
  if (r.status != 200) ctx.fail(what + ": expected 200, got " + std::to_string(r.status), r);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("count") || !j["count"].is_number_integer() ||
      !j.contains("records") || !j["records"].is_array()) {
    ctx.fail(what + ": not {\"count\":int,\"records\":[...]}", r);
  }
  if (j["count"].get<size_t>() != j["records"].size()) {
    ctx.fail(what + ": count is not the number of records", r);
  }
  for (const auto& rec : j["records"]) {
    bool ok = rec.is_object() && rec.contains("ID") && rec["ID"].is_string() &&
              rec.contains("CreatedAt") && rec["CreatedAt"].is_string() &&
              tuf::parse_rfc3339(rec["CreatedAt"]) && rec.contains("GUN") &&
              rec["GUN"].is_string() && rec.contains("Version") &&
              rec["Version"].is_number_integer() && rec.contains("SHA256") &&
              rec["SHA256"].is_string() && rec.contains("Category") &&
              (rec["Category"] == "update" || rec["Category"] == "deletion");
    if (!ok) {
      ctx.fail(what + ": a record without string ID, RFC 3339 CreatedAt, GUN, integer " +
                   "Version, SHA256 and Category update|deletion: " + rec.dump(),
               r);
    }
  }
  return j["records"];
}

bool has_record(const json& records, const std::string& gun, const std::string& category) {
  for (const auto& rec : records) {
    if (rec["GUN"] == gun && rec["Category"] == category) return true;
  }
  return false;
}

void changefeed(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  auto pub = t.published(&p);
  t.expect_timestamp(pub->timestamp_key, p.snapshot);
  std::string feed = "/v2/" + t.gun() + "/_trust/changefeed?change_id=0&records=100";
  HttpResponse r = t.oci().get(feed);
  json records = feed_records(ctx, r, "GET " + feed);
  for (const auto& rec : records) {
    if (rec["GUN"] != t.gun()) ctx.fail("GET " + feed + ": a record of another GUN", r);
  }
  if (!has_record(records, t.gun(), "update")) {
    ctx.fail("GET " + feed + ": no update record after a publish", r);
  }
  HttpResponse del = t.oci().del(t.tuf_path());
  if (del.status != 200) ctx.blocked("DELETE " + t.tuf_path(), del);
  r = t.oci().get(feed);
  records = feed_records(ctx, r, "GET " + feed + " after DELETE");
  const json& last = records.empty() ? json() : records.back();
  if (records.empty() || last["Category"] != "deletion" || last["Version"] != 0 ||
      last["SHA256"] != "") {
    ctx.fail("GET " + feed + ": the last record after DELETE is not a deletion with Version 0 " +
                 "and SHA256 \"\"",
             r);
  }
}

void changefeed_global(CaseContext& ctx) {
  Trust t(ctx);
  Published p;
  auto pub = t.published(&p);
  t.expect_timestamp(pub->timestamp_key, p.snapshot);
  // The latest 100 changes, oldest first.
  std::string feed = "/v2/_trust/changefeed?change_id=-1&records=100";
  HttpResponse r = t.oci().get(feed);
  json records = feed_records(ctx, r, "GET " + feed);
  if (!has_record(records, t.gun(), "update")) {
    ctx.fail("GET " + feed + ": the latest changes do not show this run's publish", r);
  }
}

void changefeed_params(CaseContext& ctx) {
  Trust t(ctx);
  std::string feed = "/v2/" + t.gun() + "/_trust/changefeed?change_id=0&records=many";
  t.expect_refused(t.oci().get(feed), "INVALID_PARAMETERS", "", "GET " + feed);
}

DTRC_CASE(
    {.group = "trust",
     .id = "timestamp-key",
     .clause = "5.2 GET <gun>/_trust/tuf/timestamp.key: the server's key, the same until it signs",
     .fn = timestamp_key,
     .profiles = kProfileDtr,
     .order = 10});
DTRC_CASE(
    {.group = "trust",
     .id = "snapshot-key",
     .clause =
         "5.2 GET/POST <gun>/_trust/tuf/snapshot.key: get and rotate the server's snapshot key",
     .fn = snapshot_key,
     .profiles = kProfileDtr,
     .order = 11});
DTRC_CASE({.group = "trust",
           .id = "root-not-found",
           .clause = "real-clients: root.json of a new GUN is 404 METADATA_NOT_FOUND",
           .fn = root_not_found,
           .profiles = kProfileDtr,
           .order = 12});
DTRC_CASE(
    {.group = "trust",
     .id = "publish",
     .clause = "5.2 POST <gun>/_trust/tuf/: publish, read back, timestamp signed by the server",
     .fn = publish,
     .profiles = kProfileDtr,
     .order = 20});
DTRC_CASE({.group = "trust",
           .id = "publish-server-snapshot",
           .clause = "5.1 notary-server signs the snapshot with a server-managed key",
           .fn = publish_server_snapshot,
           .profiles = kProfileDtr,
           .order = 21});
DTRC_CASE({.group = "trust",
           .id = "by-checksum",
           .clause = "5.2 GET <gun>/_trust/tuf/<role>.<sha256>.json",
           .fn = by_checksum,
           .profiles = kProfileDtr,
           .order = 22});
DTRC_CASE({.group = "trust",
           .id = "by-version",
           .clause = "5.2 GET <gun>/_trust/tuf/<version>.<role>.json",
           .fn = by_version,
           .profiles = kProfileDtr,
           .order = 23});
DTRC_CASE({.group = "trust",
           .id = "publish-update",
           .clause = "5.2 a second publish: new targets and snapshot, a newer timestamp",
           .fn = publish_update,
           .profiles = kProfileDtr,
           .order = 24});
DTRC_CASE({.group = "trust",
           .id = "timestamp-key-rotate",
           .clause = "real-clients: key rotate timestamp -r: POST timestamp.key, then a publish",
           .fn = timestamp_key_rotate,
           .profiles = kProfileDtr,
           .order = 25});
DTRC_CASE({.group = "trust",
           .id = "cache-headers",
           .clause = "real-clients: notary-server's Cache-Control and Last-Modified",
           .level = Level::kShould,
           .fn = cache_headers,
           .profiles = kProfileDtr,
           .order = 26});
DTRC_CASE(
    {.group = "trust",
     .id = "refuse-wrong-key",
     .clause = "5.1 validates uploads: targets by a key the root does not name, INVALID_UPDATE",
     .fn = refuse_wrong_key,
     .profiles = kProfileDtr,
     .order = 30});
DTRC_CASE({.group = "trust",
           .id = "refuse-below-threshold",
           .clause = "5.1 validates uploads: a root below its threshold, INVALID_UPDATE",
           .fn = refuse_below_threshold,
           .profiles = kProfileDtr,
           .order = 31});
DTRC_CASE({.group = "trust",
           .id = "refuse-rollback",
           .clause = "5.1 validates uploads: a version already served, VERSION",
           .fn = refuse_rollback,
           .profiles = kProfileDtr,
           .order = 32});
DTRC_CASE({.group = "trust",
           .id = "refuse-expired",
           .clause = "5.1 validates uploads: expired targets, INVALID_UPDATE",
           .fn = refuse_expired,
           .profiles = kProfileDtr,
           .order = 33});
DTRC_CASE({.group = "trust",
           .id = "refuse-snapshot-lies",
           .clause = "5.1 validates uploads: a snapshot naming other targets, INVALID_UPDATE",
           .fn = refuse_snapshot_lies,
           .profiles = kProfileDtr,
           .order = 34});
DTRC_CASE({.group = "trust",
           .id = "refuse-root-rotation",
           .clause = "5.1 validates uploads: a new root not signed by the old, INVALID_UPDATE",
           .fn = refuse_root_rotation,
           .profiles = kProfileDtr,
           .order = 35});
DTRC_CASE(
    {.group = "trust",
     .id = "refuse-malformed",
     .clause = "5.1 validates uploads: MALFORMED_UPLOAD, MALFORMED_JSON, INVALID_ROLE, NO_FILENAME",
     .fn = refuse_malformed,
     .profiles = kProfileDtr,
     .order = 36});
DTRC_CASE({.group = "trust",
           .id = "refuse-oversized",
           .clause = "5.1 validates uploads: a 65 MiB part is refused, nothing stored",
           .fn = refuse_oversized,
           .profiles = kProfileDtr,
           .order = 37});
DTRC_CASE({.group = "trust",
           .id = "no-push-rights",
           .clause = "5.2 POST tuf/ needs push,pull; DELETE needs *: anonymous callers refused",
           .fn = no_push_rights,
           .profiles = kProfileDtr,
           .order = 40});
DTRC_CASE({.group = "trust",
           .id = "delete",
           .clause = "5.2 DELETE <gun>/_trust/tuf/: all trust data of the GUN goes",
           .fn = delete_trust_data,
           .profiles = kProfileDtr,
           .order = 50});
DTRC_CASE({.group = "trust",
           .id = "changefeed",
           .clause = "5.3 GET <gun>/_trust/changefeed: {count, records}, update then deletion",
           .fn = changefeed,
           .profiles = kProfileDtr,
           .order = 51});
DTRC_CASE({.group = "trust",
           .id = "changefeed-global",
           .clause = "5.3 GET /v2/_trust/changefeed: the latest changes, with this run's",
           .fn = changefeed_global,
           .profiles = kProfileDtr,
           .order = 52});
DTRC_CASE({.group = "trust",
           .id = "changefeed-params",
           .clause = "5.3 records must be an integer: INVALID_PARAMETERS",
           .level = Level::kShould,
           .fn = changefeed_params,
           .profiles = kProfileDtr,
           .order = 53});

}  // namespace
}  // namespace dtrc
