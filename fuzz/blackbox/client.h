// The HTTP side of dtr-fuzz: sends one Step to the registry and authenticates the way a
// docker client does. A 401 with a Bearer challenge makes it fetch a token from the realm
// (with Basic credentials when it has them, anonymously otherwise) and send the request once
// more; a 401 with a Basic challenge (DTR's /api/v0) is answered with Basic credentials.
// Tokens are cached per repository, so a run does not fetch one per request.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "finding.h"

namespace httplib {
class Client;
}

namespace dtr::blackbox {

// "http://host:port" split; the path of the URL must be empty or "/".
struct Origin {
  std::string host;
  int port = 0;
  std::string text;  // "http://host:port"
};
std::optional<Origin> ParseOrigin(const std::string& url, std::string* error);
bool IsLoopback(const std::string& host);

struct Response {
  bool received = false;   // false: no response at all (error says why)
  bool timed_out = false;  // no answer within the timeout
  bool connect_failed = false;
  std::string error;
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;
  long long elapsed_ms = 0;
  std::string Header(const std::string& lower_name) const;
};

struct Credentials {
  std::string user;
  std::string password;
};

class Client {
 public:
  Client(Origin origin, int timeout_ms, std::optional<Credentials> creds);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `step`; "{location}" in its path is replaced by `location` (a previous
  // response's Location header, absolute or not). Token fetches are not part of the result.
  Response Send(const Step& step, const std::string& location = "");
  // The path actually requested for `step` (Location resolved, query appended).
  std::string Target(const Step& step, const std::string& location) const;

  bool has_credentials() const { return creds_.has_value(); }

 private:
  Response Raw(const std::string& method, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& headers,
               const std::string& body);
  std::optional<std::string> FetchToken(const std::string& challenge);

  Origin origin_;
  int timeout_ms_;
  std::optional<Credentials> creds_;
  std::unique_ptr<httplib::Client> http_;
  std::map<std::string, std::string> tokens_;  // cache key -> "Bearer ..."
};

}  // namespace dtr::blackbox
