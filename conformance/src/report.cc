#include "report.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace dtrc {
namespace {

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += prefix + line + "\n";
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string format_result(const CaseResult& r) {
  std::string line = std::string(outcome_name(r.outcome)) + "  " + full_id(*r.info) + "  [" +
                     level_name(r.info->level) + "] " + r.info->clause;
  if (!r.reason.empty()) line += "  " + r.reason;
  line += "\n";
  if (r.outcome == Outcome::kFail && !r.evidence.empty()) line += indent(r.evidence, "    | ");
  return line;
}

std::string format_summary(const RunReport& report) {
  return std::to_string(report.passed) + " passed, " + std::to_string(report.failed) + " failed, " +
         std::to_string(report.skipped) + " skipped";
}

std::string format_list(const std::vector<const CaseInfo*>& cases) {
  std::string out;
  for (const CaseInfo* c : cases) {
    std::string profiles;
    if (c->profiles & kProfileOci) profiles += "oci";
    if (c->profiles & kProfileDtr) profiles += profiles.empty() ? "dtr" : ",dtr";
    out += full_id(*c) + "  [" + level_name(c->level) + "]  (" + profiles +
           (c->destructive ? ", destructive" : "") + ")  " + c->clause + "\n";
  }
  return out;
}

std::string write_json(const std::string& path, const Options& options, const RunReport& report) {
  nlohmann::json j;
  j["url"] = options.url;
  j["profile"] = options.profile;
  j["namespace"] = options.ns;
  j["destructive"] = options.destructive;
  j["summary"] = {{"passed", report.passed},
                  {"failed", report.failed},
                  {"skipped", report.skipped},
                  {"must_failed", report.must_failed},
                  {"should_failed", report.should_failed}};
  if (!report.aborted.empty()) j["aborted"] = report.aborted;
  j["cases"] = nlohmann::json::array();
  for (const auto& r : report.results) {
    nlohmann::json c = {{"id", full_id(*r.info)},
                        {"group", r.info->group},
                        {"level", level_name(r.info->level)},
                        {"clause", r.info->clause},
                        {"status", r.outcome == Outcome::kPass   ? "pass"
                                   : r.outcome == Outcome::kFail ? "fail"
                                                                 : "skip"},
                        {"reason", r.reason},
                        {"seconds", r.seconds}};
    if (!r.evidence.empty()) c["evidence"] = r.evidence;
    j["cases"].push_back(std::move(c));
  }
  std::ofstream out(path);
  if (!out) return "cannot write " + path;
  // Evidence holds server bytes: never let invalid UTF-8 abort the report.
  out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return out ? "" : "cannot write " + path;
}

std::string write_junit(const std::string& path, const RunReport& report) {
  std::map<std::string, std::vector<const CaseResult*>> by_group;
  for (const auto& r : report.results) by_group[r.info->group].push_back(&r);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"dtr-conformance\" tests=\"" << report.results.size() << "\" failures=\""
    << report.failed << "\" skipped=\"" << report.skipped << "\">\n";
  for (const auto& [group, results] : by_group) {
    int failures = 0, skipped = 0;
    double seconds = 0;
    for (const auto* r : results) {
      failures += r->outcome == Outcome::kFail;
      skipped += r->outcome == Outcome::kSkip;
      seconds += r->seconds;
    }
    x << "  <testsuite name=\"" << xml_escape(group) << "\" tests=\"" << results.size()
      << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\" time=\"" << seconds
      << "\">\n";
    for (const auto* r : results) {
      x << "    <testcase classname=\"" << xml_escape(group) << "\" name=\""
        << xml_escape(r->info->id) << "\" time=\"" << r->seconds << "\">\n";
      x << "      <properties><property name=\"level\" value=\"" << level_name(r->info->level)
        << "\"/><property name=\"clause\" value=\"" << xml_escape(r->info->clause)
        << "\"/></properties>\n";
      if (r->outcome == Outcome::kFail) {
        x << "      <failure message=\"" << xml_escape(r->reason) << "\" type=\""
          << level_name(r->info->level) << "\">" << xml_escape(r->evidence) << "</failure>\n";
      } else if (r->outcome == Outcome::kSkip) {
        x << "      <skipped message=\"" << xml_escape(r->reason) << "\"/>\n";
      }
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  std::ofstream out(path);
  if (!out) return "cannot write " + path;
  out << x.str();
  return out ? "" : "cannot write " + path;
}

}  // namespace dtrc
