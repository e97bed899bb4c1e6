// Azure Storage "Shared Key" authorization for the Blob service (version 2009-09-19 and
// later): the string to sign (verb, the standard headers, canonicalized x-ms-* headers and
// the canonicalized resource) and its HMAC-SHA256 under the account key. Pure: no clock and
// no I/O, so Microsoft's documented examples pin it down.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dtr::storage::sharedkey {

struct Request {
  std::string method;
  // The request path exactly as sent (percent-encoded), e.g. "/mycontainer/a%20blob"; with
  // the emulator's path-style URLs it starts with the account: "/devstoreaccount1/c/b".
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;    // raw (decoded) names and values
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, any case
};

// The string to sign. A Content-Length of "0" signs as empty (version 2015-02-21+).
std::string StringToSign(std::string_view account, const Request& req);

// "SharedKey <account>:<base64 HMAC-SHA256 of the string to sign under the decoded key>".
// nullopt when `key_base64` is not base64.
std::optional<std::string> Authorization(std::string_view account, std::string_view key_base64,
                                         const Request& req);

std::optional<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace dtr::storage::sharedkey
