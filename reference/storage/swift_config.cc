#include "storage/swift_config.h"

#include "storage/driver_params.h"

namespace dtr::storage {

Result<SwiftConfig> ParseSwiftConfig(const std::map<std::string, std::string>& params) {
  DriverParams p("swift", params);
  SwiftConfig c;
  c.auth_url = p.Text("authurl");
  if (c.auth_url.empty()) {
    return p.Required("authurl", "the auth endpoint, e.g. http://127.0.0.1:8080/auth/v1.0");
  }
  if (Status s = CheckHttpUrl(p, "authurl", &c.auth_url); !s.ok()) return s;
  c.username = p.Text("username");
  if (c.username.empty()) return p.Required("username", "the Swift or Keystone user");
  c.password = p.Text("password");
  if (c.password.empty()) return p.Required("password", "the user's password or key");
  c.container = p.Text("container");
  if (c.container.empty()) return p.Required("container", "created if it does not exist");
  if (c.container.find('/') != std::string::npos) return p.Bad("container", "must not hold '/'");
  if (c.container.size() > 256) return p.Bad("container", "longer than 256 bytes");

  std::string version = p.Text("authversion");
  if (version.empty()) {
    c.auth_version = c.auth_url.find("/v3") != std::string::npos ? 3 : 1;
  } else if (version == "1") {
    c.auth_version = 1;
  } else if (version == "3") {
    c.auth_version = 3;
  } else if (version == "2") {
    return p.Bad("authversion", "Keystone v2 is not supported; use 3 (Keystone v3) or 1");
  } else {
    return p.Bad("authversion", "'" + version + "' is not 1, 2 or 3");
  }
  c.region = p.Text("region");
  c.tenant = p.Text("tenant");
  c.tenant_id = p.Text("tenantid");
  c.domain = p.Text("domain");
  c.domain_id = p.Text("domainid");
  c.tenant_domain = p.Text("tenantdomain");
  c.tenant_domain_id = p.Text("tenantdomainid");
  c.trust_id = p.Text("trustid");
  c.endpoint_type = p.Text("endpointtype", "public");
  if (c.endpoint_type != "public" && c.endpoint_type != "internal" && c.endpoint_type != "admin") {
    return p.Bad("endpointtype", "'" + c.endpoint_type + "' is not public, internal or admin");
  }
  if (c.auth_version == 3 && c.domain.empty() && c.domain_id.empty()) {
    return p.Required("domain", "or domainid: Keystone v3 names users within a domain");
  }

  std::string prefix = p.Text("prefix");
  std::string rootdir = p.Text("rootdirectory");
  if (!prefix.empty() && !rootdir.empty() && prefix != rootdir) {
    return p.Bad("rootdirectory", "give prefix or rootdirectory, not both");
  }
  std::string root = prefix.empty() ? rootdir : prefix;
  while (!root.empty() && root.front() == '/') root.erase(root.begin());
  while (!root.empty() && root.back() == '/') root.pop_back();
  c.root = root;

  if (Status s = p.Bytes("chunksize", kSwiftMinChunk, kSwiftMaxObject, &c.chunk_size); !s.ok()) {
    return s;
  }
  if (Status s = p.Bool("insecureskipverify", &c.skip_verify); !s.ok()) return s;
  if (Status s = p.Count("uploadconcurrency", 1, 16, &c.upload_concurrency); !s.ok()) return s;
  if (Status s = p.Count("listlimit", 1, 10000, &c.list_limit); !s.ok()) return s;
  if (Status s = p.Count("maxretries", 0, 20, &c.max_retries); !s.ok()) return s;
  if (Status s = p.Millis("connecttimeout", &c.connect_timeout); !s.ok()) return s;
  if (Status s = p.Millis("requesttimeout", &c.request_timeout); !s.ok()) return s;
  return c;
}

}  // namespace dtr::storage
