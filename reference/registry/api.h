// The OCI distribution API (/v2/) over a Registry: routing, headers, status codes and the
// JSON error envelope. Handlers are thin; the content rules live in Registry.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/message.h"
#include "registry/registry.h"

namespace dtr::registry {

// What a /v2/ request touches, for authorization before it runs.
struct RouteInfo {
  enum class Kind { kNone, kBase, kCatalog, kRepository } kind = Kind::kNone;
  std::string repo;                  // kRepository
  std::vector<std::string> actions;  // token-spec actions needed: pull, push, delete
  std::string mount_from;            // a cross-repository mount's source (needs pull there)
  bool manifest = false;             // a manifest endpoint
  std::string reference;             // the manifest reference (tag or digest)
};
RouteInfo ClassifyRequest(const http::Request& req);

class RegistryApi {
 public:
  explicit RegistryApi(Registry* registry) : registry_(registry) {}

  // Which repositories the caller may see in the catalog; empty: all.
  using Visibility = std::function<bool(const std::string& repo)>;

  // Serves any request whose path starts with /v2; false when the path is not ours.
  bool Handle(http::Request& req, http::Response& res, const Visibility& visible = {});

 private:
  void Base(http::Request& req, http::Response& res);
  void Catalog(http::Request& req, http::Response& res, const Visibility& visible);
  void Tags(const std::string& repo, http::Request& req, http::Response& res);
  void Manifest(const std::string& repo, const std::string& ref, http::Request& req,
                http::Response& res);
  void Blob(const std::string& repo, const std::string& digest, http::Request& req,
            http::Response& res);
  void UploadStart(const std::string& repo, http::Request& req, http::Response& res);
  void Upload(const std::string& repo, const std::string& uuid, http::Request& req,
              http::Response& res);
  void Referrers(const std::string& repo, const std::string& digest, http::Request& req,
                 http::Response& res);

  Registry* registry_;
};

// Writes the OCI error envelope {"errors":[{"code","message","detail"}]}.
void WriteError(http::Response& res, int status, const std::string& code,
                const std::string& message, const std::string& detail_json = "");
// Maps a Status from Registry (its tag is the OCI code) to an error response.
void WriteStatus(http::Response& res, const Status& s);

}  // namespace dtr::registry
