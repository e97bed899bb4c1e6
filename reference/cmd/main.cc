// `dtr`: the reference Docker Trusted Registry. Subcommands run the whole thing
// (`serve`) or one job (`reindex`).
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/log.h"
#include "app/storage_copy.h"
#include "notary/signer/signer_main.h"
#include "proxy/ca.h"
#include "proxy/nginx_config.h"
#include "storage/factory.h"

namespace {

const char* kUsage = R"(usage: dtr <command> [flags]

commands:
  serve     run every DTR component in one process, on one port (the registry, the API and
            token auth, Notary, a job worker, the built-in front)
  registry | api | notary | jobrunner
            run one component alone, on a data directory it shares with the others (same
            --data, same storage); a jobrunner serves HTTP (health) only with --listen
  front --registry HOST:PORT --api HOST:PORT --notary HOST:PORT
            the built-in front alone: one host and port (--listen, --tls-listen) routed to
            the components above, health from theirs
  reindex   rebuild the metadata index from storage, then exit
  notary-signer  the content-trust signer as its own process, over mutual TLS (see
            reference/notary/signer/signer_main.h; dtr serve uses it via DTR_NOTARY_SIGNER)
  nginx-config   write an nginx.conf for nginx in front of replicas (dtr nginx-config -h)
  client-cert --user NAME --out DIR [--data DIR]
            issue a client certificate for mutual TLS from the reference's CA: DIR gets
            client.cert, client.key and ca.crt (the layout of docker's certs.d and
            skopeo's --cert-dir)
  storage copy --from CONFIG --to CONFIG [--verify] [--data DIR]
            copy all content between two storage backends, each named by the storage
            section of a config.yml (blobs verified against their digests, tags last,
            resumable: run it again after an interruption; --verify re-hashes blobs
            already at the destination). Stop writes (read-only mode) while it runs.
  version   print the version

flags (serve, reindex):
  --listen HOST:PORT   where to listen (default 127.0.0.1:5000; http.addr in the config)
  --data DIR           data directory: metadata index, and blobs unless the config says
                       otherwise (default ./dtr-data)
  --config FILE        YAML in CNCF distribution's config.yml format (storage, http, log)
  --auth MODE          token (the default: DTR accounts, /auth/token, permissions) or
                       none (no authentication, for local development and comparisons)
  --config-store SPEC  sqlite (the default: beside the metadata) or etcd://HOST:PORT[,...]:
                       a real etcd v3 that replicas share; settings changed through any
                       replica reach the others without a restart
  --workers N          HTTP worker threads (default 64)
  --log-level LEVEL    debug, info, warn, error
  --no-access-log      do not log one line per request
  --trusted-proxies LIST
                       addresses and CIDR blocks of proxies (nginx, load balancers) whose
                       X-Forwarded-For/-Proto/-Host are believed: the client address for
                       login rate limits and logs, the host in token realms and Location
                       headers. Default 127.0.0.0/8,::1; "none" believes no one. Others'
                       X-Forwarded-* fields are dropped. (`dtr front` and the components of
                       one --data directory also trust each other through a shared secret.)

TLS (serve):
  --tls-listen HOST:PORT  also serve HTTPS there (TLS 1.2 and 1.3). Plain HTTP stays on
                       --listen: use http://HOST:PORT for local tools that are told
                       --tls-verify=false, https:// for clients that trust GET /ca
  --host NAME          a name clients use to reach this registry; it goes into the
                       certificate the reference CA issues (repeatable; localhost and
                       127.0.0.1 are always in it)
  --tls-cert FILE, --tls-key FILE
                       an operator's certificate instead (http.tls.certificate/key);
                       replaced files are picked up without a restart (also on SIGHUP)
  --client-ca FILE     accept client certificates issued by these CAs (mutual TLS); the
                       certificate's CN names the user (http.tls.clientcas)
)";

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_reload = 0;

int Fail(const std::string& message) {
  std::cerr << "dtr: " << message << "\n";
  return 2;
}

struct Args {
  std::string config, listen, data, log_level, auth, config_store;
  std::string tls_listen, tls_cert, tls_key, client_ca;
  std::string upstream_registry, upstream_api, upstream_notary;
  std::optional<std::string> trusted_proxies;
  std::vector<std::string> hosts;
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
    } else if (f == "--config-store") {
      if (!value(&a->config_store)) return false;
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
    } else if (f == "--registry") {
      if (!value(&a->upstream_registry)) return false;
    } else if (f == "--api") {
      if (!value(&a->upstream_api)) return false;
    } else if (f == "--notary") {
      if (!value(&a->upstream_notary)) return false;
    } else if (f == "--tls-listen") {
      if (!value(&a->tls_listen)) return false;
    } else if (f == "--tls-cert") {
      if (!value(&a->tls_cert)) return false;
    } else if (f == "--tls-key") {
      if (!value(&a->tls_key)) return false;
    } else if (f == "--client-ca") {
      if (!value(&a->client_ca)) return false;
    } else if (f == "--trusted-proxies") {
      if (!value(&tmp)) return false;
      a->trusted_proxies = tmp == "none" ? "" : tmp;
    } else if (f == "--host") {
      if (!value(&tmp)) return false;
      a->hosts.push_back(tmp);
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
  if (!a.tls_listen.empty()) s.tls_listen = a.tls_listen;
  if (!a.config_store.empty()) s.config_store = a.config_store;
  if (!a.tls_cert.empty()) s.tls_cert = a.tls_cert;
  if (!a.tls_key.empty()) s.tls_key = a.tls_key;
  if (!a.client_ca.empty()) s.client_ca = a.client_ca;
  if (a.trusted_proxies) s.trusted_proxies = *a.trusted_proxies;
  s.hosts.insert(s.hosts.end(), a.hosts.begin(), a.hosts.end());
  s.upstream_registry = a.upstream_registry;
  s.upstream_api = a.upstream_api;
  s.upstream_notary = a.upstream_notary;
  return s;
}

int Serve(const dtr::app::Settings& s) {
  auto app = dtr::app::App::Open(s);
  if (!app.ok()) return Fail(app.status().message());
  if (dtr::Status st = (*app)->Start(); !st.ok()) return Fail(st.message());
  std::string host = s.listen.substr(0, s.listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  std::string what = s.role == "all" ? "dtr serve: registry" : "dtr " + s.role;
  if ((*app)->port() != 0) {
    dtr::log::Info(what + " listening on http://" + host + ":" + std::to_string((*app)->port()) +
                   (s.role == "all" || s.role == "registry" || s.role == "front" ? "/v2/" : "/") +
                   " (data in " + s.data_dir + ")");
  } else {
    dtr::log::Info(what + " running (data in " + s.data_dir + "); no HTTP listener");
  }
  if ((*app)->tls_port() != 0) {
    std::string tls_host = s.tls_listen.substr(0, s.tls_listen.rfind(':'));
    if (tls_host.empty() || tls_host == "0.0.0.0") {
      tls_host = s.hosts.empty() ? "localhost" : s.hosts[0];
    }
    dtr::log::Info("dtr serve: HTTPS on https://" + tls_host + ":" +
                   std::to_string((*app)->tls_port()) + "/; clients trust the CA from " +
                   "GET /ca (" + (*app)->ca().cert_path() + ")" +
                   (s.client_ca.empty() ? "" : "; client certificates from " + s.client_ca));
  }
  std::signal(SIGINT, [](int sig) { g_signal = sig; });
  std::signal(SIGTERM, [](int sig) { g_signal = sig; });
  std::signal(SIGHUP, [](int) { g_reload = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  while (g_signal == 0) {
    pause();
    if (g_reload != 0 && (*app)->tls_port() != 0) {
      g_reload = 0;
      dtr::Status st = (*app)->ReloadTls();
      if (st.ok()) {
        dtr::log::Info("dtr serve: TLS certificate reloaded");
      } else {
        dtr::log::Warn("dtr serve: TLS reload failed, still serving the old certificate: " +
                       st.message());
      }
    }
  }
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

int NginxConfig(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << dtr::proxy::kNginxConfigUsage;
      return 0;
    }
  }
  dtr::proxy::NginxOptions options;
  std::string out;
  if (dtr::Status st = dtr::proxy::ParseNginxConfigArgs(args, &options, &out); !st.ok()) {
    return Fail(st.message() + "\n" + dtr::proxy::kNginxConfigUsage);
  }
  auto conf = dtr::proxy::RenderNginxConfig(options);
  if (!conf.ok()) return Fail(conf.status().message());
  if (out.empty()) {
    std::cout << *conf;
    return 0;
  }
  std::ofstream f(out, std::ios::trunc);
  if (!(f << *conf) || !f.flush()) return Fail("cannot write " + out);
  return 0;
}

int ClientCert(const std::vector<std::string>& args) {
  std::string user, out, data = "./dtr-data";
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--user") {
      user = args[i + 1];
    } else if (args[i] == "--out") {
      out = args[i + 1];
    } else if (args[i] == "--data") {
      data = args[i + 1];
    } else {
      return Fail("unknown flag " + args[i] + "\n" + kUsage);
    }
  }
  if (user.empty() || out.empty() || args.size() % 2 != 0) {
    return Fail("client-cert needs --user NAME and --out DIR");
  }
  auto ca = dtr::proxy::CertificateAuthority::LoadOrCreate(data + "/ca");
  if (!ca.ok()) return Fail(ca.status().message());
  if (::mkdir(out.c_str(), 0700) != 0 && errno != EEXIST) return Fail("cannot create " + out);
  if (dtr::Status st = ca->IssueClientCert(user, out + "/client.cert", out + "/client.key");
      !st.ok()) {
    return Fail(st.message());
  }
  std::ofstream f(out + "/ca.crt", std::ios::trunc);
  if (!(f << ca->cert_pem()) || !f.flush()) return Fail("cannot write " + out + "/ca.crt");
  std::cout << "wrote " << out << "/client.cert, client.key (for user " << user << ") and ca.crt\n";
  return 0;
}

int StorageCopy(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "copy")
    return Fail("usage: dtr storage copy --from CONFIG --to CONFIG [--verify] [--data DIR]");
  std::string from, to, data = "./dtr-data";
  bool verify = false;
  for (size_t i = 1; i < args.size(); ++i) {
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    if (args[i] == "--from" && value(&from)) continue;
    if (args[i] == "--to" && value(&to)) continue;
    if (args[i] == "--data" && value(&data)) continue;
    if (args[i] == "--verify") {
      verify = true;
      continue;
    }
    return Fail("dtr storage copy: unknown or incomplete flag " + args[i]);
  }
  if (from.empty() || to.empty())
    return Fail("dtr storage copy needs --from CONFIG and --to CONFIG");
  auto open =
      [&](const std::string& path) -> dtr::Result<std::unique_ptr<dtr::storage::BlobDriver>> {
    dtr::app::Settings s;
    s.data_dir = data;
    if (dtr::Status st = dtr::app::LoadYamlFile(path, &s); !st.ok()) return st;
    return dtr::storage::CreateDriver(s.storage_driver, s.storage_params, s.data_dir);
  };
  auto src = open(from);
  if (!src.ok()) return Fail("--from " + from + ": " + src.status().message());
  auto dst = open(to);
  if (!dst.ok()) return Fail("--to " + to + ": " + dst.status().message());
  dtr::app::CopyOptions o;
  o.verify_existing = verify;
  o.log = [](const std::string& line) { std::cerr << "dtr storage copy: " << line << "\n"; };
  auto report = dtr::app::CopyStorage(src->get(), dst->get(), o);
  if (!report.ok())
    return Fail("dtr storage copy: " + report.status().message() + " (run it again to resume)");
  std::cout << "copied " << report->files_copied << " files (" << report->bytes_copied
            << " bytes), skipped " << report->files_skipped << " already there, verified "
            << report->blobs_verified << " blobs\n";
  return 0;
}

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
  if (cmd == "nginx-config") return NginxConfig(rest);
  if (cmd == "client-cert") return ClientCert(rest);
  if (cmd == "storage") return StorageCopy(rest);
  if (cmd == "notary-signer") return dtr::notary::NotarySignerMain(rest);
  Args args;
  std::string err;
  if (!ParseArgs(rest, &args, &err)) return Fail(err + "\n" + kUsage);
  auto settings = BuildSettings(args);
  if (!settings.ok()) return Fail(settings.status().message());
  dtr::log::SetLevel(settings->log_level);
  if (cmd == "serve") return Serve(*settings);
  if (cmd == "registry" || cmd == "api" || cmd == "notary" || cmd == "jobrunner" ||
      cmd == "front") {
    settings->role = cmd;
    if (cmd == "jobrunner" && args.listen.empty()) settings->listen.clear();
    if (cmd != "front" && !(args.upstream_registry.empty() && args.upstream_api.empty() &&
                            args.upstream_notary.empty())) {
      return Fail("--registry, --api and --notary are flags of dtr front");
    }
    return Serve(*settings);
  }
  if (cmd == "reindex") return Reindex(*settings);
  return Fail("unknown command '" + cmd + "'\n" + kUsage);
}
