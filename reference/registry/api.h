// The OCI distribution API (/v2/) over a Registry: routing, headers, status codes and the
// JSON error envelope. Handlers are thin; the content rules live in Registry.
#pragma once

#include <string>

#include "http/message.h"
#include "registry/registry.h"

namespace dtr::registry {

class RegistryApi {
 public:
  explicit RegistryApi(Registry* registry) : registry_(registry) {}

  // Serves any request whose path starts with /v2; false when the path is not ours.
  bool Handle(http::Request& req, http::Response& res);

 private:
  void Base(http::Request& req, http::Response& res);
  void Catalog(http::Request& req, http::Response& res);
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
