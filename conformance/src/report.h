// Reporting: the human lines (one per case, then the summary), and the JSON and JUnit
// files CI tools read.
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "runner.h"

namespace dtrc {

// "PASS  group/id  [MUST] clause  reason", plus the evidence indented below a FAIL.
std::string format_result(const CaseResult& result);
// Exactly "N passed, N failed, N skipped".
std::string format_summary(const RunReport& report);
// One line per case for --list.
std::string format_list(const std::vector<const CaseInfo*>& cases);

// Both return "" on success, else why the file could not be written.
std::string write_json(const std::string& path, const Options& options, const RunReport& report);
std::string write_junit(const std::string& path, const RunReport& report);

}  // namespace dtrc
