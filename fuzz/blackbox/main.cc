// dtr-fuzz: the black-box fuzzer (fuzzer.h). Exit codes: 0 no findings, 1 findings,
// 2 usage, 3 registry unreachable.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "client.h"
#include "fuzzer.h"

namespace {

constexpr const char* kUsage =
    "usage: dtr-fuzz --url URL --seconds N [--user U --password P] [--seed S] [--out DIR]\n"
    "                [--timeout-ms T] [--allow-remote] [--verbose]\n"
    "       dtr-fuzz --url URL --replay FILE [--user U --password P] [--timeout-ms T]\n"
    "Fuzzes a registry with mutated but plausible requests; each finding is written to DIR\n"
    "(default dtr-fuzz-findings) as a file --replay sends again. Exit: 0 no findings,\n"
    "1 findings, 2 usage, 3 unreachable. Only loopback URLs unless --allow-remote.\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "dtr-fuzz: " << why << "\n";
  std::cerr << kUsage;
  return 2;
}

bool ToNumber(const std::string& s, long long lo, long long hi, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  dtr::blackbox::Options opts;
  std::string replay;
  bool have_seconds = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    long long n = 0;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--allow-remote") {
      opts.allow_remote = true;
    } else if (a == "--verbose") {
      opts.verbose = true;
    } else if (!value(&v)) {
      return Usage(a.rfind("--", 0) == 0 ? a + " needs a value" : "unknown argument " + a);
    } else if (a == "--url") {
      opts.url = v;
    } else if (a == "--seconds") {
      if (!ToNumber(v, 1, 86400, &n)) return Usage("--seconds must be 1..86400");
      opts.seconds = static_cast<int>(n);
      have_seconds = true;
    } else if (a == "--user") {
      opts.user = v;
    } else if (a == "--password") {
      opts.password = v;
    } else if (a == "--seed") {
      if (!ToNumber(v, 0, (1LL << 62), &n)) return Usage("--seed must be a number");
      opts.seed = static_cast<unsigned long long>(n);
    } else if (a == "--out") {
      opts.out_dir = v;
    } else if (a == "--timeout-ms") {
      if (!ToNumber(v, 100, 600000, &n)) return Usage("--timeout-ms must be 100..600000");
      opts.timeout_ms = static_cast<int>(n);
    } else if (a == "--replay") {
      replay = v;
    } else {
      return Usage("unknown option " + a);
    }
  }
  if (opts.url.empty()) return Usage("--url is required");
  if (opts.user.empty() != opts.password.empty()) {
    return Usage("--user and --password go together");
  }
  std::string error;
  auto origin = dtr::blackbox::ParseOrigin(opts.url, &error);
  if (!origin) return Usage(error);
  if (!opts.allow_remote && !dtr::blackbox::IsLoopback(origin->host)) {
    return Usage("refusing the non-loopback host '" + origin->host +
                 "': pass --allow-remote to fuzz a registry that is not on this machine");
  }

  if (!replay.empty()) {
    std::ifstream in(replay);
    if (!in) return Usage("cannot read " + replay);
    std::stringstream text;
    text << in.rdbuf();
    auto finding = dtr::blackbox::ParseFinding(text.str(), &error);
    if (!finding) return Usage(replay + ": " + error);
    return dtr::blackbox::Replay(opts, *finding, std::cout) ? 0 : 3;
  }
  if (!have_seconds) return Usage("--seconds is required");

  auto result = dtr::blackbox::Run(opts, std::cerr);
  if (result.unreachable) return 3;
  std::cout << "dtr-fuzz: " << result.scenarios << " scenarios, " << result.requests
            << " requests in " << opts.seconds << " s (seed " << opts.seed << "), "
            << result.findings.size() << " distinct findings\n";
  for (const auto& [oracle, count] : result.counts) {
    std::cout << "  " << oracle << ": fired " << count << " times\n";
  }
  for (size_t i = 0; i < result.findings.size(); ++i) {
    std::cout << "  [" << result.findings[i].oracle << "] " << result.findings[i].detail << "\n";
    if (i < result.files.size()) std::cout << "    " << result.files[i] << "\n";
  }
  return result.findings.empty() ? 0 : 1;
}
