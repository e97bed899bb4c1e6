#include "cli.h"

#include <charconv>
#include <regex>

namespace dtrc {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::string usage_text() {
  return "usage: dtr-conformance --url URL [options]\n"
         "  --url URL              registry base URL (http:// or https://)\n"
         "  --user U --password P  credentials (Basic, or at a Bearer token realm)\n"
         "  --token T              static bearer token for every request\n"
         "  --ca FILE              CA bundle to verify the registry's certificate\n"
         "  --insecure             do not verify TLS certificates\n"
         "  --namespace NS         where test repositories are created (default conformance)\n"
         "  --profile oci|dtr      which cases apply (default oci)\n"
         "  --only GROUP[,GROUP]   run only these groups\n"
         "  --destructive          allow cases that cannot be undone\n"
         "  --junit FILE           write a JUnit XML report\n"
         "  --json FILE            write a JSON report\n"
         "  --list                 print every case with its clause and level, run nothing\n"
         "  --timeout SECONDS      per-request timeout (default 30)\n"
         "  --verbose              print every request and response status\n"
         "exit: 0 no MUST failed, 1 a MUST failed, 2 usage error or registry unreachable\n";
}

ParseResult parse_cli(const std::vector<std::string>& args) {
  Options o;
  ParseResult r;
  auto fail = [&](std::string msg) {
    r.error = std::move(msg);
    return r;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    bool has_inline = false;
    std::string name = a;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_inline = true;
    }
    auto need = [&](std::string& out) -> bool {
      if (has_inline) {
        out = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto flag_only = [&]() { return !has_inline; };
    std::string v;
    if (name == "--help" || name == "-h") {
      o.help = true;
    } else if (name == "--insecure" && flag_only()) {
      o.insecure = true;
    } else if (name == "--destructive" && flag_only()) {
      o.destructive = true;
    } else if (name == "--list" && flag_only()) {
      o.list = true;
    } else if (name == "--verbose" && flag_only()) {
      o.verbose = true;
    } else if (name == "--url" || name == "--user" || name == "--password" || name == "--token" ||
               name == "--ca" || name == "--namespace" || name == "--profile" || name == "--only" ||
               name == "--junit" || name == "--json" || name == "--timeout") {
      if (!need(v)) return fail(name + " needs a value");
      if (name == "--url") o.url = v;
      if (name == "--user") o.user = v;
      if (name == "--password") o.password = v;
      if (name == "--token") o.token = v;
      if (name == "--ca") o.ca_file = v;
      if (name == "--namespace") o.ns = v;
      if (name == "--profile") o.profile = v;
      if (name == "--only") o.only = split_commas(v);
      if (name == "--junit") o.junit_file = v;
      if (name == "--json") o.json_file = v;
      if (name == "--timeout") {
        int t = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
        if (ec != std::errc() || p != v.data() + v.size() || t <= 0 || t > 3600) {
          return fail("--timeout needs a number of seconds between 1 and 3600");
        }
        o.timeout_seconds = t;
      }
    } else {
      return fail("unknown argument: " + a);
    }
  }
  if (o.help) {
    r.options = o;
    return r;
  }
  if (o.profile != "oci" && o.profile != "dtr") return fail("--profile must be oci or dtr");
  if (!o.list) {
    if (o.url.empty()) return fail("--url is required");
    static const std::regex kUrl(R"(^(http|https)://[^/?#\s]+/?$)");
    if (!std::regex_match(o.url, kUrl)) {
      return fail("--url must look like http(s)://host[:port], got: " + o.url);
    }
    while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  }
  if (!o.token.empty() && (!o.user.empty() || !o.password.empty())) {
    return fail("--token and --user/--password exclude each other");
  }
  if (o.user.empty() != o.password.empty()) {
    return fail("--user and --password go together");
  }
  if (o.insecure && !o.ca_file.empty()) return fail("--ca and --insecure exclude each other");
  static const std::regex kNs(
      R"(^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$)");
  if (!std::regex_match(o.ns, kNs)) {
    return fail("--namespace must be a valid repository name prefix, got: " + o.ns);
  }
  r.options = o;
  return r;
}

}  // namespace dtrc
