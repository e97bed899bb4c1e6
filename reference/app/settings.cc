#include "app/settings.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace dtr::app {

std::string Settings::FilesystemRoot() const {
  auto it = storage_params.find("rootdirectory");
  if (it != storage_params.end() && !it->second.empty()) return it->second;
  return data_dir + "/storage";
}

Result<std::chrono::seconds> ParseDuration(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 12) return InvalidArgument("invalid duration '" + text + "'");
    int64_t n = std::stoll(text.substr(i, j - i));
    if (j >= text.size()) return InvalidArgument("duration '" + text + "' needs a unit (h, m, s)");
    char unit = text[j];
    if (unit == 'h') {
      total += n * 3600;
    } else if (unit == 'm') {
      total += n * 60;
    } else if (unit == 's') {
      total += n;
    } else {
      return InvalidArgument("duration '" + text + "' has an unknown unit; use h, m or s");
    }
    i = j + 1;
  }
  return std::chrono::seconds(total);
}

Status SplitHostPort(const std::string& addr, std::string* host, int* port) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("address '" + addr + "' needs host:port");
  std::string h = addr.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = addr.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("address '" + addr + "' has an invalid port");
  }
  int n = std::stoi(p);
  if (n > 65535) return InvalidArgument("port " + p + " is out of range");
  *host = h.empty() ? "0.0.0.0" : h;
  *port = n;
  return Status::Ok();
}

namespace {

// node[key] without yaml-cpp's exceptions for missing intermediate keys.
YAML::Node Get(const YAML::Node& node, const char* key) {
  if (node && node.IsMap()) {
    YAML::Node child = node[key];
    if (child) return child;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

Status Bool(const YAML::Node& n, const char* key, bool* out) {
  if (!n) return Status::Ok();
  try {
    *out = n.as<bool>();
  } catch (const YAML::Exception&) {
    return InvalidArgument(std::string(key) + " must be true or false");
  }
  return Status::Ok();
}

Status Duration(const YAML::Node& n, const char* key, std::chrono::seconds* out) {
  if (!n) return Status::Ok();
  if (!n.IsScalar()) return InvalidArgument(std::string(key) + " must be a duration like 168h");
  auto d = ParseDuration(n.as<std::string>());
  if (!d.ok()) return InvalidArgument(std::string(key) + ": " + d.status().message());
  *out = *d;
  return Status::Ok();
}

const char* kDrivers[] = {"filesystem", "inmemory", "s3",  "s3aws", "cleversafe",
                          "swift",      "azure",    "nfs", "gcs"};

Status ApplyStorage(const YAML::Node& storage, Settings* s) {
  if (!storage.IsMap()) return InvalidArgument("storage must be a mapping");
  bool seen_driver = false;
  for (const auto& kv : storage) {
    std::string key = kv.first.as<std::string>();
    if (key == "delete") {
      if (Status st = Bool(Get(kv.second, "enabled"), "storage.delete.enabled", &s->delete_enabled);
          !st.ok()) {
        return st;
      }
    } else if (key == "maintenance") {
      const YAML::Node& m = kv.second;
      if (Status st = Bool(Get(Get(m, "readonly"), "enabled"),
                           "storage.maintenance.readonly.enabled", &s->read_only);
          !st.ok()) {
        return st;
      }
      YAML::Node up = Get(m, "uploadpurging");
      if (up) {
        if (Status st = Bool(Get(up, "enabled"), "storage.maintenance.uploadpurging.enabled",
                             &s->upload_purging);
            !st.ok()) {
          return st;
        }
        if (Status st = Duration(Get(up, "age"), "storage.maintenance.uploadpurging.age",
                                 &s->upload_purge_age);
            !st.ok()) {
          return st;
        }
        if (Status st = Duration(Get(up, "interval"), "storage.maintenance.uploadpurging.interval",
                                 &s->upload_purge_interval);
            !st.ok()) {
          return st;
        }
      }
    } else if (key == "cache" || key == "redirect" || key == "tag") {
      continue;
    } else {
      bool known = false;
      for (const char* d : kDrivers) known = known || key == d;
      if (!known) return InvalidArgument("storage driver '" + key + "' is not supported");
      if (seen_driver) return InvalidArgument("storage names more than one driver");
      seen_driver = true;
      s->storage_driver = key;
      s->storage_params.clear();
      if (kv.second.IsMap()) {
        for (const auto& p : kv.second) {
          if (p.second.IsScalar()) {
            s->storage_params[p.first.as<std::string>()] = p.second.as<std::string>();
          }
        }
      } else if (!kv.second.IsNull()) {
        return InvalidArgument("storage." + key + " must be a mapping of parameters");
      }
    }
  }
  return Status::Ok();
}

// http.tls as distribution has it: certificate, key, clientcas (one file here).
Status ApplyTls(const YAML::Node& tls, Settings* s) {
  if (!tls) return Status::Ok();
  if (!tls.IsMap()) return InvalidArgument("http.tls must be a mapping");
  if (YAML::Node cert = Get(tls, "certificate")) s->tls_cert = cert.as<std::string>();
  if (YAML::Node key = Get(tls, "key")) s->tls_key = key.as<std::string>();
  if (YAML::Node cas = Get(tls, "clientcas")) {
    if (cas.IsScalar()) {
      s->client_ca = cas.as<std::string>();
    } else if (cas.IsSequence() && cas.size() == 1) {
      s->client_ca = cas[0].as<std::string>();
    } else if (cas.IsSequence() && cas.size() > 1) {
      return InvalidArgument("http.tls.clientcas: put all client CAs in one PEM file");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyYaml(const std::string& yaml_text, Settings* s) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("configuration is not valid YAML: ") + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidArgument("configuration must be a YAML mapping");
  try {
    if (YAML::Node storage = Get(root, "storage")) {
      if (Status st = ApplyStorage(storage, s); !st.ok()) return st;
    }
    if (YAML::Node addr = Get(Get(root, "http"), "addr")) s->listen = addr.as<std::string>();
    if (Status st = ApplyTls(Get(Get(root, "http"), "tls"), s); !st.ok()) return st;
    YAML::Node log = Get(root, "log");
    if (YAML::Node level = Get(log, "level")) s->log_level = level.as<std::string>();
    if (YAML::Node disabled = Get(Get(log, "accesslog"), "disabled")) {
      bool off = false;
      if (Status st = Bool(disabled, "log.accesslog.disabled", &off); !st.ok()) return st;
      s->access_log = !off;
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("configuration: ") + e.what());
  }
  return Status::Ok();
}

Status LoadYamlFile(const std::string& path, Settings* s) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ApplyYaml(ss.str(), s);
}

}  // namespace dtr::app
