// RegistryGate: DTR's rules in front of the /v2/ API. Before a request runs it checks the
// caller's access (token grants or Policy), answers 401 with a challenge for the token
// realm or 403, creates repositories on push when allowed, drops mounts from repositories
// the caller cannot read, and enforces immutable tags and read-only mode. After a request
// succeeds it records the event (and tells the event hook), counts pulls and pushes, and has
// the tag limit applied; pulls are recorded in the background, in batches.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "access/authenticator.h"
#include "access/policy.h"
#include "access/pull_recorder.h"
#include "http/message.h"
#include "meta/identity_store.h"
#include "registry/api.h"
#include "registry/registry.h"

namespace dtr::access {

struct GateSettings {
  bool create_repository_on_push = false;
  bool read_only = false;
};

class RegistryGate {
 public:
  RegistryGate(meta::IdentityStore* identity, Policy* policy, const AuthConfig* auth,
               registry::Registry* registry, std::function<GateSettings()> settings)
      : identity_(identity),
        policy_(policy),
        auth_(auth),
        registry_(registry),
        settings_(std::move(settings)),
        pulls_(std::make_unique<PullRecorder>(identity, [this](const meta::Event& e) {
          if (on_event_) on_event_(e);
        })) {}

  // True when the request may proceed (possibly modified); otherwise `res` holds the answer.
  bool Before(http::Request& req, http::Response& res, const Principal& who,
              const registry::RouteInfo& route);
  void After(const http::Request& req, const http::Response& res, const Principal& who,
             const registry::RouteInfo& route);

  // Pulls are counted and recorded in the background (PullRecorder): FlushPulls returns once
  // every pull answered so far is stored; StopPulls stores the rest and ends the worker
  // (before what the event hook reaches goes away).
  void FlushPulls() { pulls_->Flush(); }
  void StopPulls() { pulls_->Stop(); }
  // Whether the caller may see `repo` in the catalog.
  bool CanList(const Principal& who, const std::string& repo);

  // A 401 answer with the Bearer challenge for `scope` (may be empty).
  void Challenge(const http::Request& req, http::Response& res, const std::string& scope,
                 bool insufficient, const std::string& message);

  // Hooks App wires to the jobrunner, set once before serving: told about every recorded
  // event (webhooks), and asked to apply a repository's tag limit after a tag push (the
  // eviction code tag pruning shares, jobs::TagPruner).
  void SetHooks(std::function<void(const meta::Event&)> on_event,
                std::function<void(const RepoName&)> apply_tag_limit) {
    on_event_ = std::move(on_event);
    apply_tag_limit_ = std::move(apply_tag_limit);
  }

 private:
  bool Allowed(const Principal& who, const std::string& repo, const std::string& action);
  std::string DenialReason(const Principal& who, const RepoName& name,
                           const registry::RouteInfo& route, const std::string& action);
  Status EnsureRepositoryRecord(const Principal& who, const RepoName& name);
  static meta::Event EventOf(const Principal& who, const std::string& type,
                             const std::string& object_type, const std::string& object_name,
                             const std::string& repo, const std::string& content_json);
  void Record(const Principal& who, const std::string& type, const std::string& object_type,
              const std::string& object_name, const std::string& repo,
              const std::string& content_json);

  meta::IdentityStore* identity_;
  Policy* policy_;
  const AuthConfig* auth_;
  registry::Registry* registry_;
  std::function<GateSettings()> settings_;
  std::function<void(const meta::Event&)> on_event_;
  std::function<void(const RepoName&)> apply_tag_limit_;
  std::unique_ptr<PullRecorder> pulls_;  // last: its worker calls on_event_
};

}  // namespace dtr::access
