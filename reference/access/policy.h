// Policy: DTR's permission model. Who may do what to a repository: system admins
// everything; a user everything in their own namespace; organization admins everything in
// the organization; team members what their teams were granted on the repository or on
// its namespace (the highest level wins); anyone, anonymous included, may pull a public
// repository.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "core/status.h"
#include "meta/identity_store.h"

namespace dtr::access {

// The registry actions of the token spec.
inline constexpr const char* kPull = "pull";
inline constexpr const char* kPush = "push";
inline constexpr const char* kDelete = "delete";

// A repository name split DTR's way: the first component is the namespace. A leading
// registry host (a GUN: "dtr.example.com:443/ns/repo") is skipped.
struct RepoName {
  std::string ns;
  std::string name;
  bool valid() const { return !ns.empty() && !name.empty(); }
  std::string full() const { return ns + "/" + name; }
};
RepoName SplitRepoName(const std::string& full);

class Policy {
 public:
  explicit Policy(meta::IdentityStore* identity) : identity_(identity) {}

  // The caller's level on `repo` (whether or not the repository exists yet). `user` is null
  // for anonymous callers.
  Result<meta::AccessLevel> EffectiveAccess(const meta::Account* user, const RepoName& repo);

  // The caller's level on a whole namespace: admin for their own, org admins, namespace
  // team grants. Used for creating repositories.
  Result<meta::AccessLevel> NamespaceAccess(const meta::Account* user, const std::string& ns);

  // The token-spec actions `level` allows on an existing repository, and on a missing one
  // (push there creates it when create_on_push is set and the caller may create).
  static std::set<std::string> ActionsFor(meta::AccessLevel level);

  // The subset of `requested` actions the caller gets on `repo`.
  Result<std::set<std::string>> Grant(const meta::Account* user, const RepoName& repo,
                                      const std::set<std::string>& requested, bool create_on_push);

 private:
  meta::IdentityStore* identity_;
};

}  // namespace dtr::access
