// What dtr-fuzz records: the requests of one scenario (Step) and, when an oracle fires, a
// Finding that holds them all. A finding is saved as a small text file that `dtr-fuzz
// --replay FILE` sends again:
//
//   # dtr-fuzz finding
//   oracle: blob-digest-mismatch
//   detail: PUT answered 201 but the blob's content hashes to sha256:...
//   seed: 7
//   step
//   method: PUT
//   path: {location}            (the Location of the previous response; or a literal path)
//   query: digest=sha256:...    (appended with '?' or '&')
//   header: Content-Type: application/octet-stream
//   body: aGVsbG8=              (base64)
//   status: 201                 (what the server answered when the finding was made)
//
// Credentials are never written: replay takes them again on its command line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dtr::blackbox {

struct Step {
  std::string method;
  std::string path;   // literal, or "{location}" for the previous response's Location
  std::string query;  // appended to path with '?' or '&'; may be empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int status = 0;  // the status seen when recorded; 0 when there was no response
};

struct Finding {
  std::string oracle;  // which oracle fired: server-error, hang, blob-digest-mismatch, ...
  std::string detail;
  unsigned long long seed = 0;
  std::vector<Step> steps;
};

std::string Base64Encode(const std::string& in);
std::optional<std::string> Base64Decode(const std::string& in);
std::string Sha256Digest(const std::string& content);  // "sha256:<hex>"

std::string FormatFinding(const Finding& f);
// nullopt with a reason in *error when `text` is not a finding file.
std::optional<Finding> ParseFinding(const std::string& text, std::string* error);

}  // namespace dtr::blackbox
