// dtr-fuzz's engine: a bounded loop of scenarios (blob uploads, manifests, listings, token
// scopes, /api/v0 bodies, trust uploads), each a few requests mutated from valid ones by a
// PRNG seeded with --seed, so one seed gives one sequence of requests against a registry
// that answers the same way. After each response the oracles run:
//   server-error            a 5xx answer
//   hang                    no answer within --timeout-ms
//   blob-digest-mismatch    an upload accepted (201) under a digest its content does not have
//   manifest-digest-mismatch  a manifest PUT by digest accepted with another digest
//   manifest-missing-blob   a manifest accepted (201) that names a blob the repository lacks
//   private-repo-visible    an anonymous caller sees the private repository made at start
//   server-down             the server stopped answering, or /v2/ is not 200/401 at the end
// Each finding is written to the output directory as a replayable file (finding.h).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "client.h"
#include "finding.h"

namespace dtr::blackbox {

struct Options {
  std::string url;
  int seconds = 20;
  std::string user;
  std::string password;
  unsigned long long seed = 1;
  std::string out_dir = "dtr-fuzz-findings";
  int timeout_ms = 5000;
  bool allow_remote = false;
  bool verbose = false;
};

struct RunResult {
  bool unreachable = false;
  long long requests = 0;
  long long scenarios = 0;
  std::vector<Finding> findings;            // distinct findings (the same oracle at the same
  std::vector<std::string> files;           // endpoint counts once), and where each was written
  std::map<std::string, long long> counts;  // every oracle firing, by oracle
};

// Runs for opts.seconds; progress and findings go to `log`.
RunResult Run(const Options& opts, std::ostream& log);

// Sends the steps of `f` again, printing each response to `out`. False when the server
// could not be reached.
bool Replay(const Options& opts, const Finding& f, std::ostream& out);

}  // namespace dtr::blackbox
