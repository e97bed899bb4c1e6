// dtr-conformance: checks a registry at a URL against the specs, case by case.
// Exit 0 when no MUST case failed, 1 when one did, 2 on usage errors or when the registry
// cannot be reached (or stops answering) at all.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "case_registry.h"
#include "cli.h"
#include "http_client.h"
#include "report.h"
#include "runner.h"

int main(int argc, char** argv) {
  using namespace dtrc;
  // A server may close the connection while a large body is still being sent (the trust
  // group's oversized publish): that is an answer to report, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  ParseResult parsed = parse_cli(args);
  if (!parsed.options) {
    std::cerr << "dtr-conformance: " << parsed.error << "\n\n" << usage_text();
    return 2;
  }
  const Options& options = *parsed.options;
  if (options.help) {
    std::cout << usage_text();
    return 0;
  }
  Selection selection = select_cases(options);
  if (!selection.error.empty()) {
    std::cerr << "dtr-conformance: " << selection.error << "\n";
    return 2;
  }
  if (options.list) {
    std::cout << format_list(selection.cases);
    return 0;
  }

  HttpClient http(ClientConfig{.base_url = options.url,
                               .user = options.user,
                               .password = options.password,
                               .token = options.token,
                               .ca_file = options.ca_file,
                               .insecure = options.insecure,
                               .timeout_seconds = options.timeout_seconds,
                               .verbose = options.verbose});
  // Before the preflight, so the 401s of the first challenge count as seen answers too.
  RunState state(options, http);
  if (std::string problem = preflight(http); !problem.empty()) {
    std::cerr << "dtr-conformance: " << options.url << ": " << problem << "\n";
    return 2;
  }

  std::cout << "dtr-conformance: " << options.url << " profile " << options.profile
            << ", namespace " << options.ns << ", run " << state.run_id() << ", "
            << selection.cases.size() << " cases\n"
            << std::flush;
  RunReport report = run_cases(state, selection.cases, [](const CaseResult& r) {
    std::cout << format_result(r) << std::flush;
  });

  std::cout << "MUST failures: " << report.must_failed
            << ", SHOULD failures: " << report.should_failed << "\n";
  std::cout << format_summary(report) << "\n" << std::flush;
  int rc = report.must_failed > 0 ? 1 : 0;
  if (!options.json_file.empty()) {
    if (auto err = write_json(options.json_file, options, report); !err.empty()) {
      std::cerr << "dtr-conformance: " << err << "\n";
      rc = 2;
    }
  }
  if (!options.junit_file.empty()) {
    if (auto err = write_junit(options.junit_file, report); !err.empty()) {
      std::cerr << "dtr-conformance: " << err << "\n";
      rc = 2;
    }
  }
  if (!report.aborted.empty()) {
    std::cerr << "dtr-conformance: run aborted: " << report.aborted << "\n";
    rc = 2;
  }
  return rc;
}
