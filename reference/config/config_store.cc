#include "config/config_store.h"

#include "config/etcd_config_store.h"
#include "config/sqlite_config_store.h"

namespace dtr::config {

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("a configuration key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return InvalidArgument("a configuration key is " + std::to_string(key.size()) +
                           " bytes; the limit is " + std::to_string(kMaxKeyBytes));
  }
  return Status::Ok();
}

Status ValidateValue(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return Status(Code::kTooLarge, "a configuration value is " + std::to_string(value.size()) +
                                       " bytes; the limit is " + std::to_string(kMaxValueBytes));
  }
  return Status::Ok();
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

Result<std::unique_ptr<ConfigStore>> OpenConfigStore(std::string_view spec) {
  auto colon = spec.find(':');
  std::string_view scheme = spec.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  if (scheme == "sqlite" && !rest.empty()) {
    auto s = SqliteConfigStore::OpenFile(std::string(rest));
    if (!s.ok()) return s.status();
    return std::unique_ptr<ConfigStore>(std::move(s.value()));
  }
  if (scheme == "etcd" && !rest.empty()) {
    EtcdOptions options;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view url = rest.substr(0, comma);
      if (!url.empty()) options.endpoints.emplace_back(url);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    }
    auto s = EtcdConfigStore::Open(std::move(options));
    if (!s.ok()) return s.status();
    return std::unique_ptr<ConfigStore>(std::move(s.value()));
  }
  return InvalidArgument("unknown configuration store \"" + std::string(spec) +
                         "\": expected sqlite:PATH or etcd:URL[,URL...]");
}

}  // namespace dtr::config
