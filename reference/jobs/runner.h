// Runner: a jobrunner worker. It heartbeats, claims due jobs from the JobStore, runs their
// actions in a few slots, honours cancel requests and deadlines, retries failures, fires
// crons (one replica per firing), and marks workers whose heartbeat stopped as dead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/job_store.h"

namespace dtr::jobs {

class JobContext {
 public:
  JobContext(JobStore* store, Job job);
  const Job& job() const { return job_; }
  const nlohmann::json& params() const { return params_; }
  // Typed parameters: `def` when absent or null; an error naming the parameter when it is
  // of another type (the job then fails with that message).
  Result<bool> BoolParam(const char* name, bool def) const;
  Result<int64_t> IntParam(const char* name, int64_t def) const;
  Result<std::string> StringParam(const char* name, std::string def = "") const;
  void Log(const std::string& line);
  bool cancelled() const { return cancelled_.load(); }
  void Cancel() { cancelled_.store(true); }

 private:
  JobStore* store_;
  Job job_;
  nlohmann::json params_;
  std::atomic<bool> cancelled_{false};
};

using Action = std::function<Status(JobContext&)>;

struct RunnerOptions {
  std::string worker_id;
  int slots = 2;
  int64_t heartbeat_ttl_ms = 10000;
  int poll_ms = 250;
  // The actions this worker claims jobs for (every registered one when empty) and those it
  // leaves to other workers; the jobs it does not claim stay queued for a worker that does.
  std::vector<std::string> claim;
  std::vector<std::string> leave;
};

class Runner {
 public:
  Runner(JobStore* store, RunnerOptions options);
  ~Runner();

  void Register(const std::string& action, Action fn);
  bool Known(const std::string& action) const;
  void Start();
  void Stop();
  // Validates and queues a job; wakes the loop.
  Result<Job> Submit(Job job);
  const std::string& worker_id() const { return options_.worker_id; }
  JobStore* store() { return store_; }

 private:
  struct Running;
  void Loop();
  void Tick();
  std::vector<std::string> Claimable() const;
  void FireCrons(int64_t now);
  void Execute(std::shared_ptr<Running> r);
  void Retry(const Job& failed);

  JobStore* store_;
  RunnerOptions options_;
  std::map<std::string, Action> actions_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread loop_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  int64_t last_heartbeat_ = 0;
  int64_t last_reap_ = 0;
};

// Parses a Go-style duration ("30s", "1h30m", "500ms"); milliseconds, or an error.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace dtr::jobs
