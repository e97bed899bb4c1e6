// The OpenStack Swift object API over HTTP(S) for one container: authenticates (tempauth
// v1 or Keystone v3), keeps the token and storage URL, authenticates again when a request is
// answered 401, creates the container on first use if it is missing, and turns failures
// into Status values whose messages name the backend, the operation and the object. No
// storage semantics here.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/object_http.h"
#include "storage/swift_config.h"

namespace dtr::storage {

using SwiftCall = ObjectCall;

class SwiftClient {
 public:
  explicit SwiftClient(SwiftConfig config);
  SwiftClient(const SwiftClient&) = delete;
  SwiftClient& operator=(const SwiftClient&) = delete;

  const SwiftConfig& config() const { return config_; }

  // Sends the call with the current token (authenticating first if there is none, and once
  // more on a 401). 2xx and accepted statuses come back as a reply; others as a Status
  // (see HttpFailure).
  Result<HttpReply> Do(const SwiftCall& call);

  // "swift (container "c" at http://127.0.0.1:8080/auth/v1.0)".
  std::string Describe() const;

  // "/container/object", encoded: for X-Copy-From and manifests' logical paths.
  std::string ObjectPath(const std::string& object) const;

  // Forgets the token (tests: the next call authenticates again).
  void InvalidateToken();

 private:
  struct Session {
    std::string token;
    std::string storage_url;   // .../v1/AUTH_account
    std::string storage_path;  // its path part
    std::shared_ptr<ObjectHttp> http;
    uint64_t generation = 0;
  };
  Result<Session> CurrentSession();
  // Authenticates unless another thread did after `stale` was handed out.
  Result<Session> Reauthenticate(uint64_t stale);
  Result<Session> Authenticate();
  // Sends an authentication request; a refusal names the settings to `check`.
  Result<HttpReply> SendAuth(const HttpCall& call, const std::string& check);
  Result<Session> AuthenticateV1();
  Result<Session> AuthenticateV3();
  Status EnsureContainer(const Session& s);
  Result<HttpReply> Send(const Session& s, const SwiftCall& call);

  SwiftConfig config_;
  std::shared_ptr<ObjectHttp> auth_http_;
  std::mutex mu_;
  Session session_;
  bool container_ready_ = false;
};

// A short, one-line excerpt of an error body (Swift answers HTML or plain text).
std::string SwiftErrorDetail(const std::string& body);

}  // namespace dtr::storage
