// dtr-bench: a load generator for any OCI / Docker registry. See bench/README.md.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench.h"

namespace {

const char* kUsage = R"(usage: dtr-bench --url URL --scenario S [flags]

Loads a registry with one scenario for a bounded time and reports operations/s, requests/s,
MB/s, latency percentiles, errors by kind, and (with --pid) the server's CPU and memory.
It seeds its own data in a fresh repository and deletes it afterwards.

scenarios:
  ping          GET /v2/
  manifest-get  GET a manifest by tag (--by-digest: by digest)
  blob-head     HEAD a blob of --size bytes
  blob-get      GET a blob of --size bytes
  push-blob     push a new blob of --size bytes per operation: POST then PUT with the body
                (default), --chunked: POST, PATCH, PUT; --single-post: POST ?digest= with body
  push-image    push a new image per operation: config + --layers layers of --size bytes
                (HEAD, upload, as clients do) + manifest PUT by tag
  pull-image    pull an image: manifest by tag, config, --layers layers of --size bytes
  mixed         pull-image or push-image, chosen at random with --read-ratio
  token         the auth round trip: GET /v2/ (401), GET the token realm, GET /v2/ with the
                token; skipped when the registry has no token auth
  trust-get     GET /v2/<--gun>/_trust/tuf/root.json and timestamp.json in turn (Notary v1
                trust data, published beforehand); skipped when the GUN has none

flags:
  --url URL            registry base URL, http:// or https:// (127.0.0.1/::1 only unless
                       --allow-remote)
  --scenario S         one of the scenarios above (--list prints them)
  --concurrency N      connections, one thread each (default 32 for ping, manifest-get,
                       blob-head, token and trust-get; 4 otherwise; at most 1024)
  --seconds T          measured time (default 10); operations in flight at the end finish
  --warmup T           run this long before measuring (default 0)
  --count N            stop after N operations in all
  --json FILE          write the full result as JSON
  --user U --password P
                       credentials for Basic or token auth (or DTR_BENCH_PASSWORD)
  --insecure           https without certificate verification
  --ca FILE            https trusting this CA bundle
  --size BYTES         blob or layer size; suffixes K, M, G (binary): default 1M
  --layers N           layers per image (default 3)
  --close              send Connection: close and open a new connection for every request
                       (what skopeo does); default keep-alive
  --tls-resume         https: offer the TLS session of a connection when the same worker
                       opens its next one (a client with a session cache). Default off:
                       every connection is a full handshake, as with Go's default client
                       (skopeo, notary). The report counts handshakes and resumed ones
  --pid PID            sample this process's CPU time and RSS from /proc during the run
  --repo NAME          repository to use (default <user>/dtr-bench-<scenario>-<random> with
                       --user, else dtr-bench/<scenario>-<random>); on Docker Trusted
                       Registry it is created through /api/v0 and deleted afterwards
  --by-digest          manifest-get and pull-image by digest instead of tag
  --chunked            uploads as POST + PATCH + PUT
  --chunk-size BYTES   with --chunked, PATCH this much at a time (default: the whole blob)
  --stream             with --chunked, send PATCH bodies with Transfer-Encoding: chunked
  --single-post        uploads as one POST ?digest= with the body
  --read-ratio R       mixed: share of reads, 0..1 (default 0.9)
  --untagged R         push-image: push this share of the images (0..1) by digest, without
                       a tag, so garbage collection has something to delete (default 0)
  --gun GUN            trust-get: the Notary GUN to read, e.g. 127.0.0.1:5443/admin/app
  --verify             hash every body received and check it against its digest
  --timeout S          per socket operation (default 60)
  --max-push-bytes B   stop pushing after this much (default 32G)
  --no-cleanup         leave the seeded and pushed data in place
  --quiet              no human report (use with --json)

SIGINT or SIGTERM ends the measured window early; the report is still written (a second
one kills).

exit status: 0 no errors, 1 some operations failed, 2 bad usage, 3 could not run,
4 scenario does not apply to this registry (skipped).
)";

bool ParseSize(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  size_t pos = 0;
  uint64_t v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    uint64_t d = static_cast<uint64_t>(text[pos] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    ++pos;
  }
  if (pos == 0) return false;
  std::string suffix = text.substr(pos);
  for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    shift = 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    shift = 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    shift = 30;
  } else {
    return false;
  }
  if (shift > 0 && v > (UINT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

bool ParseDouble(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end != nullptr && *end == '\0';
}

bool ParseInt(const std::string& text, long long* out) {
  char* end = nullptr;
  *out = std::strtoll(text.c_str(), &end, 10);
  return !text.empty() && end != nullptr && *end == '\0';
}

int Usage(const std::string& why) {
  std::cerr << "dtr-bench: " << why << "\n(dtr-bench --help for usage)\n";
  return 2;
}

void OnInterrupt(int) { dtrb::g_interrupted = 1; }

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // The first SIGINT or SIGTERM ends the measured window early (the report is still
  // written); SA_RESETHAND: a second one kills as usual.
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  dtrb::Options opt;
  int concurrency = 0;
  bool chunked = false, single_post = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    long long n = 0;
    double d = 0;
    if (f == "-h" || f == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (f == "--list") {
      for (const auto& s : dtrb::ScenarioNames()) std::cout << s << "\n";
      return 0;
    } else if (f == "--insecure") {
      opt.insecure = true;
    } else if (f == "--close") {
      opt.close = true;
    } else if (f == "--tls-resume") {
      opt.tls_resume = true;
    } else if (f == "--by-digest") {
      opt.by_digest = true;
    } else if (f == "--chunked") {
      chunked = true;
    } else if (f == "--single-post") {
      single_post = true;
    } else if (f == "--stream") {
      opt.stream = true;
    } else if (f == "--verify") {
      opt.verify = true;
    } else if (f == "--no-cleanup") {
      opt.cleanup = false;
    } else if (f == "--allow-remote") {
      opt.allow_remote = true;
    } else if (f == "--quiet") {
      opt.quiet = true;
    } else if (!value()) {
      return Usage(f.rfind("--", 0) == 0 ? f + " needs a value (or is unknown)"
                                         : "unexpected argument " + f);
    } else if (f == "--url") {
      opt.url = v;
    } else if (f == "--scenario") {
      opt.scenario = v;
    } else if (f == "--json") {
      opt.json_file = v;
    } else if (f == "--user") {
      opt.user = v;
    } else if (f == "--password") {
      opt.password = v;
    } else if (f == "--ca") {
      opt.ca_file = v;
    } else if (f == "--repo") {
      opt.repo = v;
    } else if (f == "--gun") {
      opt.gun = v;
    } else if (f == "--untagged") {
      if (!ParseDouble(v, &d) || !(d >= 0 && d <= 1)) return Usage("--untagged must be in [0, 1]");
      opt.untagged = d;
    } else if (f == "--concurrency") {
      if (!ParseInt(v, &n) || n < 1 || n > 1024) return Usage("--concurrency must be 1..1024");
      concurrency = static_cast<int>(n);
    } else if (f == "--seconds") {
      if (!ParseDouble(v, &d) || !(d > 0) || d > 3600)
        return Usage("--seconds must be in (0, 3600]");
      opt.seconds = d;
    } else if (f == "--warmup") {
      if (!ParseDouble(v, &d) || !(d >= 0) || d > 600) return Usage("--warmup must be in [0, 600]");
      opt.warmup = d;
    } else if (f == "--count") {
      if (!ParseInt(v, &n) || n < 1) return Usage("--count must be a positive number");
      opt.count = static_cast<uint64_t>(n);
    } else if (f == "--size") {
      if (!ParseSize(v, &opt.size) || opt.size > (64ull << 30)) {
        return Usage("--size must be a byte count up to 64G (suffixes K, M, G)");
      }
    } else if (f == "--chunk-size") {
      if (!ParseSize(v, &opt.chunk_size) || opt.chunk_size == 0) {
        return Usage("--chunk-size must be a positive byte count");
      }
    } else if (f == "--max-push-bytes") {
      if (!ParseSize(v, &opt.max_push_bytes)) return Usage("--max-push-bytes must be a byte count");
    } else if (f == "--layers") {
      if (!ParseInt(v, &n) || n < 1 || n > 128) return Usage("--layers must be 1..128");
      opt.layers = static_cast<int>(n);
    } else if (f == "--pid") {
      if (!ParseInt(v, &n) || n < 1) return Usage("--pid must be a process id");
      opt.pid = static_cast<pid_t>(n);
    } else if (f == "--read-ratio") {
      if (!ParseDouble(v, &d) || !(d >= 0 && d <= 1))
        return Usage("--read-ratio must be in [0, 1]");
      opt.read_ratio = d;
    } else if (f == "--timeout") {
      if (!ParseInt(v, &n) || n < 1 || n > 3600) return Usage("--timeout must be 1..3600 seconds");
      opt.timeout_seconds = static_cast<int>(n);
    } else {
      return Usage("unknown flag " + f);
    }
  }
  if (opt.url.empty()) return Usage("--url is required");
  if (opt.scenario.empty()) return Usage("--scenario is required (--list shows them)");
  bool known = false;
  for (const auto& s : dtrb::ScenarioNames()) known = known || s == opt.scenario;
  if (!known) return Usage("unknown scenario '" + opt.scenario + "' (--list shows them)");
  if (chunked && single_post) return Usage("--chunked and --single-post exclude each other");
  if (opt.stream && !chunked) return Usage("--stream goes with --chunked");
  if (opt.chunk_size != 0 && !chunked) return Usage("--chunk-size goes with --chunked");
  opt.upload = chunked       ? dtrb::UploadMode::kChunked
               : single_post ? dtrb::UploadMode::kSinglePost
                             : dtrb::UploadMode::kMonolithic;
  if (opt.password.empty()) {
    if (const char* p = std::getenv("DTR_BENCH_PASSWORD")) opt.password = p;
  }
  if (!opt.password.empty() && opt.user.empty()) return Usage("--password needs --user");
  if (opt.scenario == "trust-get" && opt.gun.empty()) return Usage("trust-get needs --gun GUN");
  if (opt.untagged > 0 && opt.scenario != "push-image")
    return Usage("--untagged goes with push-image");
  bool small = opt.scenario == "ping" || opt.scenario == "manifest-get" ||
               opt.scenario == "blob-head" || opt.scenario == "token" ||
               opt.scenario == "trust-get";
  opt.concurrency = concurrency > 0 ? concurrency : (small ? 32 : 4);
  return dtrb::RunBench(opt);
}
