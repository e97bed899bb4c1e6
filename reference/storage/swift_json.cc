#include "storage/swift_json.h"

#include <nlohmann/json.hpp>

#include "storage/s3_xml.h"

namespace dtr::storage::swiftjson {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxDocument = 64u << 20;

Status Malformed(const std::string& what, const std::string& why) {
  return Status(Code::kCorruption, "malformed " + what + ": " + why);
}

Result<json> ParseJson(std::string_view doc, const std::string& what) {
  if (doc.size() > kMaxDocument) return Malformed(what, "document too large");
  json j = json::parse(doc.begin(), doc.end(), nullptr, false);
  if (j.is_discarded()) return Malformed(what, "not JSON");
  return j;
}

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::vector<Entry>> ParseListing(std::string_view doc) {
  auto j = ParseJson(doc, "Swift container listing");
  if (!j.ok()) return j.status();
  if (!j->is_array()) return Malformed("Swift container listing", "not a JSON array");
  std::vector<Entry> out;
  out.reserve(j->size());
  for (const auto& item : *j) {
    if (!item.is_object()) return Malformed("Swift container listing", "an entry is no object");
    Entry e;
    if (item.contains("subdir")) {
      e.name = Str(item, "subdir");
      e.is_subdir = true;
    } else {
      e.name = Str(item, "name");
      auto bytes = item.find("bytes");
      if (bytes == item.end() || !bytes->is_number_integer() ||
          (!bytes->is_number_unsigned() && bytes->get<int64_t>() < 0)) {
        return Malformed("Swift container listing", "entry '" + e.name + "' has no size");
      }
      e.bytes = bytes->get<uint64_t>();
      e.hash = Str(item, "hash");
      e.is_slo = item.contains("slo_etag");
      if (auto t = s3xml::ParseIso8601(Str(item, "last_modified"))) e.last_modified = *t;
    }
    if (e.name.empty()) return Malformed("Swift container listing", "an entry has no name");
    out.push_back(std::move(e));
  }
  return out;
}

std::string KeystoneV3Request(const SwiftConfig& c) {
  json domain = c.domain_id.empty() ? json{{"name", c.domain}} : json{{"id", c.domain_id}};
  json auth = {
      {"identity",
       {{"methods", {"password"}},
        {"password",
         {{"user", {{"name", c.username}, {"domain", domain}, {"password", c.password}}}}}}}};
  if (!c.trust_id.empty()) {
    auth["scope"] = {{"OS-TRUST:trust", {{"id", c.trust_id}}}};
  } else if (!c.tenant_id.empty()) {
    auth["scope"] = {{"project", {{"id", c.tenant_id}}}};
  } else if (!c.tenant.empty()) {
    json project_domain = domain;
    if (!c.tenant_domain_id.empty()) {
      project_domain = {{"id", c.tenant_domain_id}};
    } else if (!c.tenant_domain.empty()) {
      project_domain = {{"name", c.tenant_domain}};
    }
    auth["scope"] = {{"project", {{"name", c.tenant}, {"domain", project_domain}}}};
  }
  return json{{"auth", auth}}.dump();
}

Result<KeystoneToken> ParseKeystoneV3(std::string_view doc, const std::string& region,
                                      const std::string& interface) {
  const std::string what = "Keystone v3 token";
  auto j = ParseJson(doc, what);
  if (!j.ok()) return j.status();
  if (!j->is_object() || !j->contains("token") || !(*j)["token"].is_object()) {
    return Malformed(what, "no token object");
  }
  const json& token = (*j)["token"];
  KeystoneToken out;
  if (auto t = s3xml::ParseIso8601(Str(token, "expires_at"))) out.expires = *t;
  auto catalog = token.find("catalog");
  if (catalog == token.end() || !catalog->is_array()) {
    return Status(Code::kFailedPrecondition,
                  "the Keystone token has no service catalog (is the user scoped to a project? "
                  "set tenant or tenantid)");
  }
  std::vector<std::string> seen;
  for (const auto& service : *catalog) {
    if (!service.is_object() || Str(service, "type") != "object-store") continue;
    auto endpoints = service.find("endpoints");
    if (endpoints == service.end() || !endpoints->is_array()) continue;
    for (const auto& ep : *endpoints) {
      if (!ep.is_object()) continue;
      std::string ep_region = Str(ep, "region_id");
      if (ep_region.empty()) ep_region = Str(ep, "region");
      seen.push_back(Str(ep, "interface") + "@" + (ep_region.empty() ? "-" : ep_region));
      if (Str(ep, "interface") != interface) continue;
      if (!region.empty() && ep_region != region && Str(ep, "region") != region) continue;
      out.storage_url = Str(ep, "url");
      while (!out.storage_url.empty() && out.storage_url.back() == '/') out.storage_url.pop_back();
      if (out.storage_url.empty()) return Malformed(what, "an object-store endpoint has no url");
      return out;
    }
  }
  std::string list;
  for (const auto& s : seen) list += (list.empty() ? "" : ", ") + s;
  return Status(
      Code::kFailedPrecondition,
      "the Keystone catalog has no object-store endpoint for interface " + interface +
          (region.empty() ? "" : " in region " + region) +
          (list.empty() ? " (no object-store service at all)" : " (it has: " + list + ")"));
}

Result<BulkDeleteResult> ParseBulkDelete(std::string_view doc) {
  const std::string what = "Swift bulk delete answer";
  auto j = ParseJson(doc, what);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Malformed(what, "not a JSON object");
  BulkDeleteResult out;
  auto num = [&](const char* key, uint64_t* v) {
    auto it = j->find(key);
    if (it != j->end() && it->is_number_unsigned()) *v = it->get<uint64_t>();
  };
  num("Number Deleted", &out.deleted);
  num("Number Not Found", &out.not_found);
  out.status = Str(*j, "Response Status");
  if (out.status.empty()) return Malformed(what, "no Response Status");
  auto errors = j->find("Errors");
  if (errors != j->end() && errors->is_array()) {
    for (const auto& e : *errors) {
      if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        out.errors.push_back(e[0].get<std::string>() + ": " + e[1].get<std::string>());
      } else {
        out.errors.push_back(e.dump());
      }
    }
  }
  return out;
}

std::string SloManifest(const std::vector<SloSegment>& segments) {
  json a = json::array();
  for (const auto& s : segments) a.push_back({{"path", s.path}, {"size_bytes", s.size}});
  return a.dump();
}

Result<std::vector<std::string>> ParseSloManifest(std::string_view doc) {
  const std::string what = "Swift SLO manifest";
  auto j = ParseJson(doc, what);
  if (!j.ok()) return j.status();
  if (!j->is_array()) return Malformed(what, "not a JSON array");
  std::vector<std::string> out;
  for (const auto& s : *j) {
    if (!s.is_object()) return Malformed(what, "a segment is no object");
    std::string name = Str(s, "name");
    if (name.empty()) name = Str(s, "path");
    if (name.empty()) return Malformed(what, "a segment has no name");
    out.push_back(name);
  }
  return out;
}

}  // namespace dtr::storage::swiftjson
