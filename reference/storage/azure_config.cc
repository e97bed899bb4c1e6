#include "storage/azure_config.h"

#include "storage/driver_params.h"
#include "storage/shared_key.h"

namespace dtr::storage {

Result<AzureConfig> ParseAzureConfig(const std::map<std::string, std::string>& params) {
  DriverParams p("azure", params);
  AzureConfig c;
  c.account = p.Text("accountname");
  if (c.account.empty()) return p.Required("accountname", "the storage account's name");
  c.key = p.Text("accountkey");
  if (c.key.empty()) return p.Required("accountkey", "the storage account's access key");
  if (!sharedkey::Base64Decode(c.key)) {
    return p.Bad("accountkey", "is not base64 (copy the key as the portal shows it)");
  }
  c.container = p.Text("container");
  if (c.container.empty()) return p.Required("container", "created if it does not exist");
  if (c.container.size() < 3 || c.container.size() > 63) {
    return p.Bad("container", "'" + c.container + "' must be 3 to 63 characters long");
  }
  for (char ch : c.container) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
      return p.Bad("container",
                   "'" + c.container + "' may hold only lower-case letters, digits and '-'");
    }
  }
  c.realm = p.Text("realm", "core.windows.net");

  std::string url_key;
  std::string url;
  for (const char* k : {"serviceurl", "endpoint", "blobendpoint"}) {
    std::string v = p.Text(k);
    if (v.empty()) continue;
    if (!url.empty() && v != url) return p.Bad(k, "conflicts with " + url_key);
    url = v;
    url_key = k;
  }
  if (url.empty()) {
    url = "https://" + c.account + ".blob." + c.realm;
    url_key = "realm";
  }
  if (Status s = CheckHttpUrl(p, url_key, &url); !s.ok()) return s;
  size_t slash = url.find('/', url.find("://") + 3);
  c.origin = slash == std::string::npos ? url : url.substr(0, slash);
  c.base_path = slash == std::string::npos ? "" : url.substr(slash);
  if (c.base_path.find('?') != std::string::npos) {
    return p.Bad(url_key, "must not hold a query (SAS tokens are not supported)");
  }

  std::string root = p.Text("rootdirectory");
  while (!root.empty() && root.front() == '/') root.erase(root.begin());
  while (!root.empty() && root.back() == '/') root.pop_back();
  c.root = root;

  if (Status s = p.Bytes("chunksize", kAzureMinChunk, kAzureMaxBlock, &c.chunk_size); !s.ok()) {
    return s;
  }
  if (Status s = p.Bool("skipverify", &c.skip_verify); !s.ok()) return s;
  if (Status s = p.Count("uploadconcurrency", 1, 16, &c.upload_concurrency); !s.ok()) return s;
  if (Status s = p.Count("listlimit", 1, 5000, &c.list_limit); !s.ok()) return s;
  if (Status s = p.Count("maxretries", 0, 20, &c.max_retries); !s.ok()) return s;
  if (Status s = p.Millis("connecttimeout", &c.connect_timeout); !s.ok()) return s;
  if (Status s = p.Millis("requesttimeout", &c.request_timeout); !s.ok()) return s;
  return c;
}

}  // namespace dtr::storage
