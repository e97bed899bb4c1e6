// Command line of dtr-conformance. Parsing never exits: it returns the options or an error
// text, and main decides (usage errors exit 2).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dtrc {

struct Options {
  std::string url;                 // scheme://host[:port], no trailing slash
  std::string user;                // --user (Basic, and Basic at a token realm)
  std::string password;            // --password
  std::string token;               // --token: a static bearer token sent on every request
  std::string ca_file;             // --ca FILE
  bool insecure = false;           // --insecure: no TLS verification
  std::string ns = "conformance";  // --namespace: where repositories may be created
  std::string profile = "oci";     // --profile oci|dtr
  std::vector<std::string> only;   // --only GROUP[,GROUP]
  bool destructive = false;        // --destructive
  std::string junit_file;          // --junit FILE
  std::string json_file;           // --json FILE
  bool list = false;               // --list
  int timeout_seconds = 30;        // --timeout SECONDS, per request
  bool verbose = false;            // --verbose: print every request
  bool help = false;
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

ParseResult parse_cli(const std::vector<std::string>& args);
std::string usage_text();

}  // namespace dtrc
