// `dtr`: the reference Docker Trusted Registry. Subcommands run the whole thing
// (`serve`) or one job (`reindex`).
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/log.h"

namespace {

const char* kUsage = R"(usage: dtr <command> [flags]

commands:
  serve     run the registry (and, as they land, every other DTR component) on one port
  reindex   rebuild the metadata index from storage, then exit
  version   print the version

flags (serve, reindex):
  --listen HOST:PORT   where to listen (default 127.0.0.1:5000; http.addr in the config)
  --data DIR           data directory: metadata index, and blobs unless the config says
                       otherwise (default ./dtr-data)
  --config FILE        YAML in CNCF distribution's config.yml format (storage, http, log)
  --auth MODE          token (the default: DTR accounts, /auth/token, permissions) or
                       none (no authentication, for local development and comparisons)
  --workers N          HTTP worker threads (default 64)
  --log-level LEVEL    debug, info, warn, error
  --no-access-log      do not log one line per request
)";

volatile std::sig_atomic_t g_signal = 0;

int Fail(const std::string& message) {
  std::cerr << "dtr: " << message << "\n";
  return 2;
}

struct Args {
  std::string config, listen, data, log_level, auth;
  int workers = 0;
  bool no_access_log = false;
};

bool ParseArgs(const std::vector<std::string>& argv, Args* a, std::string* err) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& f = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argv.size()) {
        *err = f + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string tmp;
    if (f == "--config") {
      if (!value(&a->config)) return false;
    } else if (f == "--listen") {
      if (!value(&a->listen)) return false;
    } else if (f == "--data") {
      if (!value(&a->data)) return false;
    } else if (f == "--log-level") {
      if (!value(&a->log_level)) return false;
    } else if (f == "--auth") {
      if (!value(&a->auth)) return false;
      if (a->auth != "none" && a->auth != "token") {
        *err = "--auth must be token or none";
        return false;
      }
    } else if (f == "--workers") {
      if (!value(&tmp)) return false;
      a->workers = std::atoi(tmp.c_str());
      if (a->workers < 1 || a->workers > 4096) {
        *err = "--workers must be between 1 and 4096";
        return false;
      }
    } else if (f == "--no-access-log") {
      a->no_access_log = true;
    } else {
      *err = "unknown flag " + f;
      return false;
    }
  }
  return true;
}

dtr::Result<dtr::app::Settings> BuildSettings(const Args& a) {
  dtr::app::Settings s;
  if (!a.config.empty()) {
    if (dtr::Status st = dtr::app::LoadYamlFile(a.config, &s); !st.ok()) return st;
  }
  if (!a.listen.empty()) s.listen = a.listen;
  if (!a.data.empty()) s.data_dir = a.data;
  if (!a.log_level.empty()) s.log_level = a.log_level;
  if (!a.auth.empty()) s.auth = a.auth;
  if (a.workers > 0) s.workers = a.workers;
  if (a.no_access_log) s.access_log = false;
  return s;
}

int Serve(const dtr::app::Settings& s) {
  auto app = dtr::app::App::Open(s);
  if (!app.ok()) return Fail(app.status().message());
  if (dtr::Status st = (*app)->Start(); !st.ok()) return Fail(st.message());
  std::string host = s.listen.substr(0, s.listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  dtr::log::Info("dtr serve: registry listening on http://" + host + ":" +
                 std::to_string((*app)->port()) + "/v2/ (data in " + s.data_dir + ")");
  std::signal(SIGINT, [](int sig) { g_signal = sig; });
  std::signal(SIGTERM, [](int sig) { g_signal = sig; });
  std::signal(SIGPIPE, SIG_IGN);
  while (g_signal == 0) pause();
  dtr::log::Info("dtr serve: shutting down");
  (*app)->Stop();
  return 0;
}

int Reindex(const dtr::app::Settings& s) {
  auto app = dtr::app::App::Open(s);  // Open reindexes when needed; force it here.
  if (!app.ok()) return Fail(app.status().message());
  size_t repos, manifests, tags;
  if (dtr::Status st = (*app)->registry().Reindex(&repos, &manifests, &tags); !st.ok()) {
    return Fail(st.message());
  }
  std::cout << "indexed " << repos << " repositories, " << manifests << " manifests, " << tags
            << " tags\n";
  (*app)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "dtr reference 0.1.0 (OCI distribution v1.1)\n";
    return 0;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  Args args;
  std::string err;
  if (!ParseArgs(rest, &args, &err)) return Fail(err + "\n" + kUsage);
  auto settings = BuildSettings(args);
  if (!settings.ok()) return Fail(settings.status().message());
  dtr::log::SetLevel(settings->log_level);
  if (cmd == "serve") return Serve(*settings);
  if (cmd == "reindex") return Reindex(*settings);
  return Fail("unknown command '" + cmd + "'\n" + kUsage);
}
