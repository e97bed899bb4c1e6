#include "access/policy.h"

#include <algorithm>

namespace dtr::access {

using meta::AccessLevel;

RepoName SplitRepoName(const std::string& full) {
  auto slash = full.find('/');
  if (slash == std::string::npos) return {};
  // A Notary GUN names the registry host first (<host>/<namespace>/<repo>); as in Docker
  // references, a first component with '.' or ':' or "localhost" is a host, not a namespace.
  std::string first = full.substr(0, slash);
  auto second = full.find('/', slash + 1);
  if ((first.find_first_of(".:") != std::string::npos || first == "localhost") &&
      second != std::string::npos) {
    return RepoName{full.substr(slash + 1, second - slash - 1), full.substr(second + 1)};
  }
  return RepoName{first, full.substr(slash + 1)};
}

Result<AccessLevel> Policy::NamespaceAccess(const meta::Account* user, const std::string& ns) {
  if (user == nullptr || !user->is_active) return AccessLevel::kNone;
  if (user->is_admin || user->name == ns) return AccessLevel::kAdmin;
  auto owner = identity_->GetAccount(ns);
  if (!owner.ok()) return owner.status();
  if (!owner->has_value() || !(*owner)->is_org) return AccessLevel::kNone;
  const meta::Account& org = **owner;
  auto member = identity_->GetOrgMember(org.id, user->id);
  if (!member.ok()) return member.status();
  if (!member->has_value()) return AccessLevel::kNone;
  if ((*member)->is_admin) return AccessLevel::kAdmin;
  AccessLevel level = AccessLevel::kNone;
  auto teams = identity_->ListUserTeams(user->id);
  if (!teams.ok()) return teams.status();
  auto grants = identity_->ListNamespaceGrants(ns);
  if (!grants.ok()) return grants.status();
  for (const auto& g : *grants) {
    for (const auto& t : *teams) {
      if (t.id == g.team_id) level = std::max(level, g.level);
    }
  }
  return level;
}

Result<AccessLevel> Policy::EffectiveAccess(const meta::Account* user, const RepoName& repo) {
  AccessLevel level = AccessLevel::kNone;
  auto record = identity_->GetRepository(repo.ns, repo.name);
  if (!record.ok()) return record.status();
  if (record->has_value() && (*record)->visibility == "public") level = AccessLevel::kReadOnly;
  if (user == nullptr || !user->is_active) return level;
  auto ns_level = NamespaceAccess(user, repo.ns);
  if (!ns_level.ok()) return ns_level.status();
  level = std::max(level, *ns_level);
  if (level == AccessLevel::kAdmin) return level;
  auto grants = identity_->ListRepoGrants(repo.full());
  if (!grants.ok()) return grants.status();
  if (grants->empty()) return level;
  auto teams = identity_->ListUserTeams(user->id);
  if (!teams.ok()) return teams.status();
  for (const auto& g : *grants) {
    for (const auto& t : *teams) {
      if (t.id == g.team_id) level = std::max(level, g.level);
    }
  }
  return level;
}

std::set<std::string> Policy::ActionsFor(AccessLevel level) {
  switch (level) {
    case AccessLevel::kAdmin:
    case AccessLevel::kReadWrite:
      return {kPull, kPush, kDelete};
    case AccessLevel::kReadOnly:
      return {kPull};
    default:
      return {};
  }
}

Result<std::set<std::string>> Policy::Grant(const meta::Account* user, const RepoName& repo,
                                            const std::set<std::string>& requested,
                                            bool create_on_push) {
  if (!repo.valid()) return std::set<std::string>{};
  auto record = identity_->GetRepository(repo.ns, repo.name);
  if (!record.ok()) return record.status();
  std::set<std::string> allowed;
  if (record->has_value()) {
    auto level = EffectiveAccess(user, repo);
    if (!level.ok()) return level.status();
    allowed = ActionsFor(*level);
  } else if (create_on_push) {
    // A repository that does not exist yet: whoever may create it in the namespace may push
    // (which creates it) and then pull.
    auto level = NamespaceAccess(user, repo.ns);
    if (!level.ok()) return level.status();
    if (*level == AccessLevel::kAdmin) allowed = {kPull, kPush, kDelete};
  } else if (user != nullptr && user->is_active && (user->is_admin || user->name == repo.ns)) {
    // Without create-on-push nothing can be pushed to a missing repository, but its
    // owner may still ask about it (and get NAME_UNKNOWN rather than a denial).
    allowed = {kPull};
  }
  std::set<std::string> out;
  for (const auto& a : requested) {
    if (a == "*") {
      out.insert(allowed.begin(), allowed.end());
    } else if (allowed.count(a)) {
      out.insert(a);
    }
  }
  return out;
}

}  // namespace dtr::access
