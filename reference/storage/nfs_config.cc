#include "storage/nfs_config.h"

#include "storage/driver_params.h"

namespace dtr::storage {

namespace {

// The value of `key` in a URL query ("a=1&version=3"), or "" when absent.
std::string QueryValue(const std::string& query, const std::string& key) {
  size_t at = 0;
  while (at <= query.size()) {
    size_t amp = query.find('&', at);
    std::string_view kv =
        std::string_view(query).substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    if (kv.substr(0, key.size() + 1) == key + "=") return std::string(kv.substr(key.size() + 1));
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return "";
}

}  // namespace

Result<NfsConfig> ParseNfsConfig(const std::map<std::string, std::string>& params) {
  DriverParams p("nfs", params);
  NfsConfig c;
  c.url = p.Text("url");
  if (c.url.empty()) return p.Required("url", "nfs://HOST/EXPORT[/PATH]");
  if (c.url.rfind("nfs://", 0) != 0) return p.Bad("url", "'" + c.url + "' is not an nfs:// URL");
  std::string rest = c.url.substr(6);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  size_t slash = rest.find('/');
  c.server = rest.substr(0, slash);
  if (c.server.empty()) return p.Bad("url", "'" + c.url + "' has no host");
  if (c.server.find(':') != std::string::npos && c.server.front() != '[') {
    return p.Bad("url", "give the NFS port as ?nfsport=N, not host:port");
  }
  c.path = slash == std::string::npos ? "/" : rest.substr(slash);
  while (c.path.size() > 1 && c.path.back() == '/') c.path.pop_back();
  for (size_t at = 1; at < c.path.size();) {
    size_t next = c.path.find('/', at);
    std::string_view comp = std::string_view(c.path).substr(
        at, next == std::string::npos ? std::string::npos : next - at);
    if (comp.empty() || comp == "." || comp == "..") {
      return p.Bad("url", "'" + c.path + "' is not a plain absolute path");
    }
    if (next == std::string::npos) break;
    at = next + 1;
  }
  std::string version = QueryValue(query, "version");
  if (!version.empty() && version != "3") {
    return p.Bad("url",
                 "only NFSv3 is supported (version=3): libnfs's NFSv4 client cannot "
                 "write files larger than a few KiB");
  }

  if (Status s = p.Millis("timeout", &c.timeout); !s.ok()) return s;
  if (c.timeout < std::chrono::seconds(1)) return p.Bad("timeout", "must be at least 1s");
  if (Status s = p.Count("maxretries", 0, 100, &c.max_retries); !s.ok()) return s;
  if (Status s = p.Count("connections", 1, 64, &c.connections); !s.ok()) return s;
  for (const char* key : {"uid", "gid"}) {
    if (p.Get(key) == nullptr) continue;
    int id = 0;
    if (Status s = p.Count(key, 0, 2147483647, &id); !s.ok()) return s;
    (std::string(key) == "uid" ? c.uid : c.gid) = id;
  }
  return c;
}

}  // namespace dtr::storage
