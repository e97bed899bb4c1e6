// Runs a scenario: setup, the measured window with one thread per connection, server
// sampling, cleanup, and the report.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench.h"

namespace dtrb {

volatile std::sig_atomic_t g_interrupted = 0;

namespace {

using nlohmann::json;
using std::chrono::duration;

double Seconds(Clock::duration d) { return duration<double>(d).count(); }

double ClientCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

json LatencyJson(const Histogram& h) {
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  return {{"count", h.count()},
          {"min", ms(h.min())},
          {"mean", h.mean() / 1e6},
          {"p50", ms(h.Quantile(0.50))},
          {"p90", ms(h.Quantile(0.90))},
          {"p99", ms(h.Quantile(0.99))},
          {"p99.9", ms(h.Quantile(0.999))},
          {"max", ms(h.max())}};
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string HumanBytes(uint64_t n) {
  if (n >= (1ull << 30) && n % (1ull << 30) == 0) return std::to_string(n >> 30) + " GiB";
  if (n >= (1ull << 20) && n % (1ull << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= (1ull << 10) && n % (1ull << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " B";
}

const char* UploadModeName(UploadMode m) {
  switch (m) {
    case UploadMode::kMonolithic:
      return "monolithic";
    case UploadMode::kChunked:
      return "chunked";
    case UploadMode::kSinglePost:
      return "single-post";
  }
  return "?";
}

struct Cleanup {
  bool attempted = false;
  uint64_t manifests = 0, blobs = 0, failed = 0, left = 0;
  std::map<std::string, uint64_t> errors;
};

// Deletes what the run created: manifests first (that drops their tags), then blobs.
Cleanup CleanUp(Shared& s, const std::vector<std::string>& manifests,
                const std::vector<std::string>& blobs) {
  Cleanup c;
  if (manifests.empty() && blobs.empty()) return c;
  c.attempted = true;
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, s.opt.concurrency)), 8);
  std::vector<std::unique_ptr<Worker>> ws;
  for (size_t i = 0; i < n; ++i) ws.push_back(std::make_unique<Worker>(s, -2, false));
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(120);
  std::vector<uint64_t> done(n, 0), left(n, 0);
  auto phase = [&](const std::vector<std::string>& items, bool manifest) {
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < items.size(); i += n) {
          if (Clock::now() > deadline) {
            ++left[t];
            continue;
          }
          bool ok = manifest ? ws[t]->DeleteManifest(items[i]) : ws[t]->DeleteBlob(items[i]);
          if (ok) ++done[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    uint64_t total = 0;
    for (size_t t = 0; t < n; ++t) {
      total += done[t];
      done[t] = 0;
    }
    return total;
  };
  c.manifests = phase(manifests, true);
  c.blobs = phase(blobs, false);
  for (size_t t = 0; t < n; ++t) {
    c.left += left[t];
    for (const auto& [k, v] : ws[t]->counters.errors) {
      c.errors[k] += v;
      c.failed += v;
    }
  }
  return c;
}

void PrintSkipOrFailure(const Options& opt, const std::string& what, const std::string& why) {
  std::cerr << "dtr-bench: " << opt.scenario << " on " << opt.url << ": " << what << ": " << why
            << "\n";
}

bool WriteJson(const Options& opt, const json& j) {
  if (opt.json_file.empty()) return true;
  std::ofstream out(opt.json_file);
  out << j.dump(2) << "\n";
  if (!out) {
    std::cerr << "dtr-bench: cannot write " << opt.json_file << "\n";
    return false;
  }
  return true;
}

}  // namespace

int RunBench(const Options& opt_in) {
  Shared s(opt_in);
  const Options& opt = s.opt;
  std::string err;
  if (!ParseUrl(opt.url, &s.ep, &s.prefix, &err) ||
      !ResolveEndpoint(s.ep, !opt.allow_remote, &s.addr, &s.addr_len, &err)) {
    std::cerr << "dtr-bench: " << err << "\n";
    return 2;
  }
  if (opt.tls_resume && !s.ep.tls) {
    std::cerr << "dtr-bench: --tls-resume needs an https:// URL\n";
    return 2;
  }
  if (s.ep.tls) {
    s.tls = TlsContext::Create(opt.ca_file, opt.insecure, &err);
    if (s.tls == nullptr) {
      std::cerr << "dtr-bench: " << err << "\n";
      return 2;
    }
  }
  auto scenario = MakeScenario(opt.scenario, opt, &err);
  if (scenario == nullptr) {
    std::cerr << "dtr-bench: " << err << "\n";
    return 2;
  }
  if (opt.pid != 0 && !ProcessExists(opt.pid)) {
    std::cerr << "dtr-bench: --pid " << opt.pid << ": no such process\n";
    return 2;
  }
  s.kind_names = scenario->Kinds();
  Rng rng = SeededRng();
  s.repo = opt.repo;
  if (s.repo.empty()) {
    // With credentials, a repository in the user's namespace: DTR only has namespaces for
    // accounts and organizations. Otherwise any registry takes dtr-bench/...
    std::string ns = "dtr-bench";
    if (!opt.user.empty()) {
      std::string user = opt.user;
      for (char& ch : user) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      bool plain = std::all_of(user.begin(), user.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
      });
      if (plain && std::isalnum(static_cast<unsigned char>(user.front())) &&
          std::isalnum(static_cast<unsigned char>(user.back()))) {
        ns = user;
      }
    }
    s.repo =
        ns + (ns == "dtr-bench" ? "/" : "/dtr-bench-") + opt.scenario + "-" + RandomHex(rng, 4);
  }

  json report = {
      {"tool", "dtr-bench"},
      {"version", "0.1"},
      {"url", opt.url},
      {"scenario", opt.scenario},
      {"repository", s.repo},
      {"concurrency", opt.concurrency},
      {"keep_alive", !opt.close},
      {"tls_resume", opt.tls_resume},
      {"seconds", opt.seconds},
      {"warmup_seconds", opt.warmup},
      {"size", opt.size},
      {"layers", opt.layers},
      {"upload", UploadModeName(opt.upload)},
      {"stream", opt.stream},
      {"chunk_size", opt.chunk_size},
      {"by_digest", opt.by_digest},
      {"read_ratio", opt.read_ratio},
      {"verify", opt.verify},
  };
  if (opt.scenario == "trust-get") report["gun"] = opt.gun;
  if (opt.untagged > 0) report["untagged"] = opt.untagged;

  // Setup, on one keep-alive connection, untimed.
  Worker seed(s, -1, false);
  std::string dtr_note;
  bool dtr_repo = opt.scenario != "ping" && opt.scenario != "token" &&
                  opt.scenario != "trust-get" && seed.CreateDtrRepository(&dtr_note);
  if (dtr_repo) report["dtr_repository_created"] = true;
  if (!dtr_note.empty()) report["dtr_repository_note"] = dtr_note;
  bool skip = false;
  std::string setup_error = scenario->Setup(seed, &skip);
  if (!setup_error.empty() && !dtr_note.empty()) setup_error += "; earlier, " + dtr_note;
  if (skip || !setup_error.empty()) {
    Cleanup c = opt.cleanup ? CleanUp(s, seed.created_manifests, seed.created_blobs) : Cleanup{};
    if (opt.cleanup && dtr_repo) seed.DeleteDtrRepository();
    report[skip ? "skipped" : "setup_error"] = setup_error;
    WriteJson(opt, report);
    PrintSkipOrFailure(opt, skip ? "skipped" : "setup failed", setup_error);
    return skip ? 4 : 3;
  }

  int n = opt.concurrency;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < n; ++i) workers.push_back(std::make_unique<Worker>(s, i, opt.close));
  std::atomic<int> finished{0};
  std::vector<Clock::time_point> finish_times(static_cast<size_t>(n));

  Clock::time_point start = Clock::now();
  s.measure_start =
      start + std::chrono::duration_cast<Clock::duration>(duration<double>(opt.warmup));
  s.deadline =
      s.measure_start + std::chrono::duration_cast<Clock::duration>(duration<double>(opt.seconds));

  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Worker& w = *workers[static_cast<size_t>(i)];
      Scenario& sc = *scenario;
      for (;;) {
        if (s.stop.load(std::memory_order_relaxed)) break;
        Clock::time_point t0 = Clock::now();
        if (t0 >= s.deadline) break;
        if (opt.count > 0 && s.ops_started.fetch_add(1) >= opt.count) break;
        w.counters = Counters{};
        size_t kind = 0;
        bool ok = sc.Op(w, &kind);
        Clock::time_point t1 = Clock::now();
        // An operation counts when it ends inside the measured window: in steady state the
        // share of an operation in flight at the window's start that is counted balances
        // the idle tail of workers waiting for the last one at its end.
        if (t1 >= s.measure_start) {
          if (!ok) w.counters.bytes_sent = w.counters.bytes_received = 0;  // MB/s is goodput
          w.measured.Merge(w.counters);
          ++w.measured.ops;
          ++w.kind_ops[kind];
          if (ok) {
            ++w.measured.ok_ops;
            auto ns = static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
            w.all.Record(ns);
            w.by_kind[kind].Record(ns);
          }
        } else {
          for (const auto& e : w.counters.errors) w.warmup_errors += e.second;
        }
        sc.AfterOp(w);  // not counted: its requests land in counters, reset before the next
        // A refused connection fails in microseconds: do not spin on a dead server.
        if (!ok && w.last_connect_failed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      w.client.Close();
      finish_times[static_cast<size_t>(i)] = Clock::now();
      finished.fetch_add(1);
    });
  }

  // Sample the server (and ourselves) over the measured window.
  auto check_interrupt = [&s] {
    if (g_interrupted != 0 && !s.stop.load()) s.Stop("interrupted (SIGINT or SIGTERM)");
  };
  while (finished.load() < n && Clock::now() < s.measure_start) {
    check_interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ProcSample server_start = opt.pid != 0 ? SampleProcess(opt.pid) : ProcSample{};
  double client_start = ClientCpuSeconds();
  uint64_t rss_peak = server_start.rss_bytes, rss_sum = server_start.rss_bytes, rss_n = 1;
  ProcSample server_end = server_start;
  while (finished.load() < n) {
    check_interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (opt.pid != 0) {
      ProcSample p = SampleProcess(opt.pid);
      if (p.ok) {
        server_end = p;
        rss_peak = std::max(rss_peak, p.rss_bytes);
        rss_sum += p.rss_bytes;
        ++rss_n;
      }
    }
  }
  for (auto& t : threads) t.join();
  if (opt.pid != 0) {
    if (ProcSample p = SampleProcess(opt.pid); p.ok) server_end = p;
  }
  double client_cpu = ClientCpuSeconds() - client_start;
  Clock::time_point end = *std::max_element(finish_times.begin(), finish_times.end());
  double elapsed = std::max(0.0, Seconds(end - s.measure_start));

  Counters total;
  Histogram all;
  std::vector<Histogram> by_kind(workers[0]->by_kind.size());
  std::vector<uint64_t> kind_ops(by_kind.size(), 0);
  uint64_t connections = 0, warmup_errors = 0, handshakes = 0, resumed = 0;
  std::vector<std::string> manifests = seed.created_manifests, blobs = seed.created_blobs;
  for (auto& w : workers) {
    total.Merge(w->measured);
    all.Merge(w->all);
    for (size_t k = 0; k < by_kind.size(); ++k) {
      by_kind[k].Merge(w->by_kind[k]);
      kind_ops[k] += w->kind_ops[k];
    }
    connections += w->client.connections_opened();
    handshakes += w->client.tls_handshakes();
    resumed += w->client.tls_resumed();
    warmup_errors += w->warmup_errors;
    manifests.insert(manifests.end(), w->created_manifests.begin(), w->created_manifests.end());
    blobs.insert(blobs.end(), w->created_blobs.begin(), w->created_blobs.end());
  }
  uint64_t error_total = 0;
  for (const auto& [k, v] : total.errors) error_total += v;
  auto rate = [&](double v) { return elapsed > 0 ? v / elapsed : 0.0; };
  double mbps = rate(static_cast<double>(total.bytes_sent + total.bytes_received)) / 1e6;

  report["elapsed_seconds"] = elapsed;
  report["operations"] = total.ops;
  report["operations_ok"] = total.ok_ops;
  report["ops_per_second"] = rate(static_cast<double>(total.ok_ops));
  report["requests"] = total.requests;
  report["requests_per_second"] = rate(static_cast<double>(total.requests));
  report["bytes_sent"] = total.bytes_sent;
  report["bytes_received"] = total.bytes_received;
  report["mb_per_second"] = mbps;
  report["connections_opened"] = connections;
  if (s.ep.tls) report["tls"] = {{"handshakes", handshakes}, {"resumed", resumed}};
  report["latency_ms"] = LatencyJson(all);
  if (!s.kind_names.empty()) {
    json kinds = json::object();
    for (size_t k = 0; k < s.kind_names.size(); ++k) {
      json kj = LatencyJson(by_kind[k]);
      kj["operations"] = kind_ops[k];
      kj["ops_per_second"] = rate(static_cast<double>(by_kind[k].count()));
      kinds[s.kind_names[k]] = kj;
    }
    report["by_kind"] = kinds;
  }
  json errors = {{"total", error_total},
                 {"by_kind", total.errors},
                 {"samples", total.error_samples},
                 {"during_warmup", warmup_errors}};
  report["errors"] = errors;
  if (s.stop_reason_set) report["stopped_early"] = s.stop_reason;
  if (opt.pid != 0) {
    double cpu = server_end.cpu_seconds - server_start.cpu_seconds;
    report["server"] = {
        {"pid", opt.pid},
        {"sampled", server_start.ok && server_end.ok},
        {"cpu_seconds", cpu},
        {"cpu_percent", elapsed > 0 ? 100 * cpu / elapsed : 0.0},
        {"rss_peak_mb", static_cast<double>(rss_peak) / 1e6},
        {"rss_avg_mb", static_cast<double>(rss_sum) / static_cast<double>(rss_n) / 1e6}};
  }
  report["client"] = {{"cpu_seconds", client_cpu},
                      {"cpu_percent", elapsed > 0 ? 100 * client_cpu / elapsed : 0.0}};

  Cleanup c;
  if (opt.cleanup) c = CleanUp(s, manifests, blobs);
  bool dtr_repo_deleted = opt.cleanup && dtr_repo && seed.DeleteDtrRepository();
  report["cleanup"] = {{"enabled", opt.cleanup},
                       {"manifests_deleted", c.manifests},
                       {"blobs_deleted", c.blobs},
                       {"failed", c.failed},
                       {"skipped_for_time", c.left},
                       {"errors", c.errors},
                       {"dtr_repository_deleted", dtr_repo_deleted}};

  // The human report.
  if (!opt.quiet) {
    std::ostream& o = std::cout;
    auto ms = [](uint64_t ns) { return Fmt("%.3f ms", static_cast<double>(ns) / 1e6); };
    o << "dtr-bench " << opt.scenario << " on " << opt.url;
    if (opt.scenario == "trust-get") {
      o << " (GUN " << opt.gun << ")\n";
    } else {
      o << " (repository " << s.repo << ")\n";
    }
    o << "  setup        " << n << " connection" << (n == 1 ? "" : "s") << ", "
      << (opt.close ? "Connection: close (new connection per request)" : "keep-alive")
      << (opt.tls_resume ? ", TLS sessions resumed" : "") << ", " << Fmt("%.1f s", opt.seconds);
    if (opt.warmup > 0) o << Fmt(" after %.1f s warm-up", opt.warmup);
    if (opt.count > 0) o << ", at most " << opt.count << " operations";
    if (opt.scenario != "ping" && opt.scenario != "manifest-get" && opt.scenario != "token" &&
        opt.scenario != "trust-get") {
      o << ", size " << HumanBytes(opt.size);
    }
    if (opt.scenario == "push-image" || opt.scenario == "pull-image" || opt.scenario == "mixed") {
      o << " x " << opt.layers << " layers";
    }
    if (opt.scenario == "push-blob" || opt.scenario == "push-image" || opt.scenario == "mixed") {
      o << ", " << UploadModeName(opt.upload) << (opt.stream ? " streamed" : "") << " upload";
    }
    if (opt.untagged > 0) o << Fmt(", %.0f%% untagged", 100 * opt.untagged);
    o << "\n";
    if (dtr_repo) o << "  repository   created through the DTR API (/api/v0/repositories)\n";
    if (!dtr_note.empty()) o << "  note         " << dtr_note << "\n";
    o << "  operations   " << total.ok_ops << " ok of " << total.ops << " in "
      << Fmt("%.2f s", elapsed) << "   "
      << Fmt("%.1f ops/s", rate(static_cast<double>(total.ok_ops))) << "\n";
    o << "  requests     " << total.requests << "   "
      << Fmt("%.1f req/s", rate(static_cast<double>(total.requests))) << "   (" << connections
      << " connections opened)\n";
    if (s.ep.tls) {
      o << "  tls          " << handshakes << " handshakes, " << resumed << " resumed a session"
        << (opt.tls_resume ? "" : " (--tls-resume offers sessions)") << "\n";
    }
    o << "  throughput   " << Fmt("%.1f MB/s", mbps) << "   (bodies: sent "
      << Fmt("%.1f MB", static_cast<double>(total.bytes_sent) / 1e6) << ", received "
      << Fmt("%.1f MB", static_cast<double>(total.bytes_received) / 1e6) << ")\n";
    o << "  latency      p50 " << ms(all.Quantile(0.5)) << "  p90 " << ms(all.Quantile(0.9))
      << "  p99 " << ms(all.Quantile(0.99)) << "  p99.9 " << ms(all.Quantile(0.999)) << "  max "
      << ms(all.max()) << "\n";
    for (size_t k = 0; k < s.kind_names.size(); ++k) {
      const Histogram& h = by_kind[k];
      o << "    " << s.kind_names[k]
        << std::string(9 - std::min<size_t>(8, s.kind_names[k].size()), ' ') << h.count() << " ok, "
        << Fmt("%.1f ops/s", rate(static_cast<double>(h.count()))) << "  p50 "
        << ms(h.Quantile(0.5)) << "  p99 " << ms(h.Quantile(0.99)) << "  max " << ms(h.max())
        << "\n";
    }
    o << "  errors       " << error_total;
    if (warmup_errors > 0) o << " (and " << warmup_errors << " during warm-up)";
    o << "\n";
    for (const auto& [k, v] : total.errors) {
      o << "    " << v << " x " << k;
      auto sample = total.error_samples.find(k);
      if (sample != total.error_samples.end()) o << ": " << sample->second.substr(0, 160);
      o << "\n";
    }
    if (s.stop_reason_set) o << "  stopped      early: " << s.stop_reason << "\n";
    if (opt.pid != 0) {
      const json& sv = report["server"];
      o << "  server       pid " << opt.pid << ": cpu "
        << Fmt("%.2f s", sv["cpu_seconds"].get<double>()) << " ("
        << Fmt("%.0f%% of one core", sv["cpu_percent"].get<double>()) << "), rss peak "
        << Fmt("%.1f MB", sv["rss_peak_mb"].get<double>()) << ", avg "
        << Fmt("%.1f MB", sv["rss_avg_mb"].get<double>()) << "\n";
    }
    o << "  client       cpu " << Fmt("%.2f s", client_cpu) << " ("
      << Fmt("%.0f%% of one core", elapsed > 0 ? 100 * client_cpu / elapsed : 0.0) << ")\n";
    if (c.attempted) {
      o << "  cleanup      deleted " << c.manifests << " manifests, " << c.blobs << " blobs";
      if (c.failed > 0) {
        o << "; " << c.failed << " deletes failed (";
        bool first = true;
        for (const auto& [k, v] : c.errors) {
          o << (first ? "" : ", ") << v << " x " << k;
          first = false;
        }
        o << ")";
      }
      if (c.left > 0) o << "; " << c.left << " left (cleanup time limit)";
      if (dtr_repo) o << (dtr_repo_deleted ? "; repository deleted" : "; repository NOT deleted");
      o << "\n";
    }
  }
  if (!WriteJson(opt, report)) return 3;
  return error_total == 0 ? 0 : 1;
}

}  // namespace dtrb
