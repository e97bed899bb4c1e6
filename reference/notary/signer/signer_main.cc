#include "notary/signer/signer_main.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include "app/log.h"
#include "http/server.h"
#include "http/tls.h"
#include "notary/signer/local_signer.h"
#include "notary/signer/signer_service.h"
#include "proxy/ca.h"

namespace dtr::notary {

namespace {

volatile std::sig_atomic_t g_stop = 0;

int Fail(const std::string& m) {
  std::cerr << "dtr notary-signer: " << m << "\n";
  return 2;
}

bool SplitListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  *port = std::atoi(listen.substr(colon + 1).c_str());
  return *port >= 0 && *port <= 65535 && !(*port == 0 && listen.substr(colon + 1) != "0");
}

}  // namespace

int NotarySignerMain(const std::vector<std::string>& args) {
  std::string listen = "127.0.0.1:7899", data = "./dtr-signer-data", log_level;
  http::TlsFiles tls;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    const std::string& f = args[i];
    bool ok = true;
    if (f == "--listen") {
      ok = value(&listen);
    } else if (f == "--data") {
      ok = value(&data);
    } else if (f == "--tls-cert") {
      ok = value(&tls.cert_file);
    } else if (f == "--tls-key") {
      ok = value(&tls.key_file);
    } else if (f == "--client-ca") {
      ok = value(&tls.client_ca_file);
    } else if (f == "--log-level") {
      ok = value(&log_level);
    } else {
      return Fail("unknown flag " + f);
    }
    if (!ok) return Fail(f + " needs a value");
  }
  if (!log_level.empty()) log::SetLevel(log_level);
  std::string host;
  int port;
  if (!SplitListen(listen, &host, &port)) return Fail("--listen must be HOST:PORT");
  std::error_code ec;
  std::filesystem::create_directories(data, ec);

  bool own_pki = tls.cert_file.empty() && tls.key_file.empty() && tls.client_ca_file.empty();
  if (own_pki) {
    auto ca = proxy::CertificateAuthority::LoadOrCreate(data + "/ca");
    if (!ca.ok()) return Fail(ca.status().message());
    tls = {data + "/server.pem", data + "/server-key.pem", ca->cert_path()};
    std::vector<std::string> hosts;
    if (!host.empty() && host != "0.0.0.0" && host != "::") hosts.push_back(host);
    auto issued = ca->EnsureServerCert(proxy::ServerCertNames(hosts), tls.cert_file, tls.key_file);
    if (!issued.ok()) return Fail(issued.status().message());
    if (::access((data + "/client.pem").c_str(), R_OK) != 0) {
      Status s =
          ca->IssueClientCert("notary-server", data + "/client.pem", data + "/client-key.pem");
      if (!s.ok()) return Fail(s.message());
    }
  } else if (tls.cert_file.empty() || tls.key_file.empty() || tls.client_ca_file.empty()) {
    return Fail("--tls-cert, --tls-key and --client-ca go together (mutual TLS is required)");
  }

  auto passphrase = LoadSignerPassphrase(data);
  if (!passphrase.ok()) return Fail(passphrase.status().message());
  auto signer = LocalSigner::Open(data, *passphrase);
  if (!signer.ok()) return Fail(signer.status().message());
  SignerService service(signer->get());

  auto ctx = http::TlsContext::Create(tls);
  if (!ctx.ok()) return Fail(ctx.status().message());
  http::ServerOptions opt;
  opt.workers = 16;
  opt.tls = *ctx;
  opt.on_event = [](const std::string& e) { log::Warn(e); };
  http::Server server(opt,
                      [&](http::Request& req, http::Response& res) { service.Handle(req, res); });
  if (Status s = server.Start(host, port); !s.ok()) return Fail(s.message());
  log::Info("dtr notary-signer: listening on https://" + host + ":" +
            std::to_string(server.port()) + " (mutual TLS; keys in " + data + "/signer.db)");
  if (own_pki) {
    std::cout << "dtr notary-signer: ready; notary-server connects with DTR_NOTARY_SIGNER=https://"
              << (host.empty() || host == "0.0.0.0" ? "127.0.0.1" : host) << ":" << server.port()
              << " DTR_NOTARY_SIGNER_CA=" << tls.client_ca_file
              << " DTR_NOTARY_SIGNER_CERT=" << data << "/client.pem DTR_NOTARY_SIGNER_KEY=" << data
              << "/client-key.pem" << std::endl;
  }
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  while (!g_stop) pause();
  log::Info("dtr notary-signer: shutting down");
  server.Stop();
  return 0;
}

}  // namespace dtr::notary
