#include "notary/server/trust_store.h"

#include "core/tuf/encoding.h"
#include "core/tuf/metadata.h"

namespace dtr::notary {

Result<std::optional<std::string>> StoreSource::Current(std::string_view role) {
  auto f = store_->GetCurrent(gun_, role);
  if (!f.ok()) return f.status();
  int64_t& created_at = current_created_at_[std::string(role)];
  created_at = f->has_value() ? (*f)->created_at : 0;
  if (!f->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move((*f)->data));
}

int64_t StoreSource::CurrentCreatedAt(std::string_view role) const {
  auto it = current_created_at_.find(role);
  return it == current_created_at_.end() ? 0 : it->second;
}

Result<std::optional<std::string>> StoreSource::ByChecksum(std::string_view role,
                                                           std::string_view sha256_hex) {
  auto f = store_->GetChecksum(gun_, role, sha256_hex);
  if (!f.ok()) return f.status();
  if (!f->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move((*f)->data));
}

Result<std::map<std::string, SignedTarget>> TrustStore::SignedTargets(std::string_view gun) {
  std::map<std::string, SignedTarget> out;
  // targets, then each delegation it names, breadth first (what was validated on upload).
  std::vector<std::string> queue = {tuf::kTargetsRole};
  for (size_t i = 0; i < queue.size() && i < 1000; ++i) {
    auto f = GetCurrent(gun, queue[i]);
    if (!f.ok()) return f.status();
    if (!f->has_value()) continue;
    auto s = tuf::ParseSigned((*f)->data);
    if (!s.ok()) continue;
    auto t = tuf::ParseTargets(s->signed_value, queue[i]);
    if (!t.ok()) continue;
    for (const auto& [name, meta] : t->targets) {
      SignedTarget& st = out[name];
      if (st.name.empty()) {
        st.name = name;
        auto h = meta.hashes.find("sha256");
        if (h != meta.hashes.end()) st.sha256_hex = tuf::HexEncode(h->second);
        st.length = meta.length;
      }
      st.roles.push_back(queue[i]);
    }
    for (const auto& d : t->delegation_roles) queue.push_back(d.name);
  }
  return out;
}

}  // namespace dtr::notary
