// dtr-bench's core: options, the per-connection worker with the registry operations it
// performs, the scenario interface, and the runner that measures them.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth.h"
#include "content.h"
#include "http_client.h"
#include "stats.h"

namespace dtrb {

using Clock = std::chrono::steady_clock;

enum class UploadMode {
  kMonolithic,  // POST, then PUT ?digest= with the body
  kChunked,     // POST, PATCH (one or several chunks), PUT ?digest= without body
  kSinglePost,  // POST ?digest= with the body (OCI v1.1; distribution 2.8 refuses it)
};

struct Options {
  std::string url;
  std::string scenario;
  int concurrency = 1;
  double seconds = 10;
  double warmup = 0;
  uint64_t count = 0;  // at most this many operations in all (0: no limit)
  std::string json_file;
  std::string user, password;
  bool insecure = false;
  std::string ca_file;
  uint64_t size = 1 << 20;
  int layers = 3;
  bool close = false;
  bool tls_resume = false;  // https: resume TLS sessions (ClientOptions::tls_resume)
  pid_t pid = 0;
  std::string repo;
  bool by_digest = false;
  UploadMode upload = UploadMode::kMonolithic;
  uint64_t chunk_size = 0;  // 0: the whole blob in one PATCH
  bool stream = false;      // PATCH bodies with Transfer-Encoding: chunked
  double read_ratio = 0.9;
  bool verify = false;
  int timeout_seconds = 60;
  bool cleanup = true;
  bool allow_remote = false;
  uint64_t max_push_bytes = 32ull << 30;
  bool quiet = false;
  std::string gun;      // trust-get: the globally unique name whose TUF metadata is read
  double untagged = 0;  // push-image: share of images pushed by digest, without a tag
};

// State every worker sees.
struct Shared {
  explicit Shared(Options o) : opt(std::move(o)), auth(opt.user, opt.password) {}
  Options opt;
  Endpoint ep;
  std::string prefix;  // URL path prefix
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::shared_ptr<TlsContext> tls;
  Auth auth;
  std::atomic<bool> auth_active{false};
  std::string repo;
  Clock::time_point measure_start{}, deadline{};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ops_started{0};
  std::atomic<uint64_t> pushed_bytes{0};
  std::string stop_reason;  // set once, by whoever sets `stop` for a reason other than time
  std::atomic<bool> stop_reason_set{false};
  std::vector<std::string> kind_names;  // kinds of operation the scenario reports apart

  void Stop(const std::string& why);
  std::string V2(std::string_view repo_path) const;  // prefix + "/v2/" + repo + repo_path
};

struct Counters {
  uint64_t ops = 0;     // operations that started in the measured window
  uint64_t ok_ops = 0;  // ... and succeeded
  uint64_t requests = 0;
  uint64_t bytes_sent = 0;      // request body bytes
  uint64_t bytes_received = 0;  // response body bytes
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::string> error_samples;  // first detail per error kind
  void Merge(const Counters& o);
};

// The seeded image or blob a read scenario fetches.
struct Image {
  std::string tag;
  std::string manifest;
  std::string manifest_digest;
  std::string media_type;
  std::string config_digest;
  uint64_t config_size = 0;
  std::vector<std::pair<std::string, uint64_t>> layers;  // digest, size
};

class Worker {
 public:
  Worker(Shared& s, int id, bool close_mode);

  Shared& s;
  int id;
  HttpClient client;
  Rng rng;
  Counters counters;  // the current operation's (the runner keeps or drops them)
  Counters measured;  // the operations that counted
  Histogram all;
  std::vector<Histogram> by_kind;
  std::vector<uint64_t> kind_ops;
  std::string last_error;  // for setup failures
  bool last_connect_failed = false;
  uint64_t warmup_errors = 0;
  std::vector<std::string> created_manifests, created_blobs;
  Response scratch;  // reused by operations that do not keep the answer

  // One request: adds Authorization when the registry asked for it, answers challenges,
  // counts it, and records an error (labelled `label`) unless the status is in `expect`.
  // `via`: another client (a token realm); default the worker's own.
  bool Send(std::string_view label, Request& req, Response* resp, std::initializer_list<int> expect,
            bool authenticate = true, HttpClient* via = nullptr);
  // A client for an absolute URL's origin (token realms); `target` gets the rest.
  HttpClient* ClientFor(const std::string& url, std::string* target, std::string* why);
  void Fail(const std::string& kind, const std::string& detail);

  // Registry operations. Each returns false after recording what went wrong.
  bool PushBlob(const Body& blob, const std::string& digest);
  bool HeadBlob(const std::string& digest, uint64_t expected_size, bool expect_missing = false,
                bool* exists = nullptr);
  bool GetBlob(const std::string& digest, uint64_t size);
  bool PutManifest(const std::string& reference, const Image& img);
  bool GetManifest(const std::string& reference, uint64_t expected_size,
                   const std::string& expected_digest, std::string* body);
  // Pushes a new image of `layers` unique layers of `size` bytes, tagged `tag`, like a
  // client: HEAD each blob, upload the missing, then PUT the manifest (by its digest, so
  // it stays untagged, when `tag` is empty).
  bool PushImage(int layers, uint64_t size, const std::string& tag, Image* out);
  bool PullImage(const std::string& reference, const Image& expected);
  bool DeleteManifest(const std::string& digest);
  bool DeleteBlob(const std::string& digest);
  // Docker Trusted Registry only lets you push to a repository that exists: creates the run's
  // repository with `POST /api/v0/repositories/<namespace>` (Basic auth). Returns true when
  // it created it; `note` says why not when the registry has such an API but refused.
  bool CreateDtrRepository(std::string* note);
  bool DeleteDtrRepository();

 private:
  std::optional<std::string> FetchToken(const std::string& url, const std::string& authorization,
                                        std::string* why);
  bool UploadLocation(const Response& resp, std::string* target);
  std::map<std::string, std::unique_ptr<HttpClient>> others_;  // token realms
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  // Kinds of operation reported apart ("read", "write"); empty for one kind.
  virtual std::vector<std::string> Kinds() const { return {}; }
  // Seeds data with `w`. Returns "" or why the run cannot go on; sets *skip when the
  // scenario does not apply to this registry (a reason, not a failure).
  virtual std::string Setup(Worker& w, bool* skip) = 0;
  // One operation; `kind` indexes Kinds(). False when it failed (error recorded).
  virtual bool Op(Worker& w, size_t* kind) = 0;
  // After each operation, outside its timing (e.g. deleting a 1 GiB blob just pushed).
  virtual void AfterOp(Worker& /*w*/) {}
};

std::unique_ptr<Scenario> MakeScenario(const std::string& name, const Options& opt,
                                       std::string* err);
const std::vector<std::string>& ScenarioNames();

// Runs everything: resolve, setup, workers, sampling, cleanup. Writes the report to stdout
// and --json. Returns the process exit code.
int RunBench(const Options& opt);

// Set by main's SIGINT/SIGTERM handler: the run stops as if its time were up (operations in
// flight finish), then cleans up and reports as usual.
extern volatile std::sig_atomic_t g_interrupted;

}  // namespace dtrb
