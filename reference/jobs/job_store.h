// JobStore: DTR's cluster-wide job queue (the jobrunner database): jobs with their logs,
// crons, workers with heartbeats and capacities, and default parameters per action. Claims
// are atomic in the database, so two workers never run one job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "meta/sqlite_db.h"

namespace dtr::jobs {

namespace status {
inline constexpr const char* kWaiting = "waiting";
inline constexpr const char* kRunning = "running";
inline constexpr const char* kDone = "done";
inline constexpr const char* kErrored = "errored";
inline constexpr const char* kCanceled = "canceled";
inline constexpr const char* kCancelRequest = "cancel_request";
inline constexpr const char* kWorkerDead = "worker_dead";
}  // namespace status

struct Job {
  std::string id;
  std::string retry_from_id;
  std::string worker_id;
  std::string status = status::kWaiting;
  int64_t scheduled_at = 0;  // unix milliseconds
  int64_t last_updated = 0;
  std::string action;
  int64_t retries_left = 0;
  int64_t retries_total = 0;
  std::string capacity_map = "{}";  // JSON
  std::string parameters = "{}";    // JSON
  std::string deadline;             // Go duration, empty: none
  std::string stop_timeout;
};

struct Cron {
  std::string id;
  std::string action;
  std::string schedule;
  int64_t retries = 0;
  std::string capacity_map = "{}";
  std::string parameters = "{}";
  std::string deadline;
  std::string stop_timeout;
  int64_t next_run = 0;  // unix milliseconds
};

struct Worker {
  std::string id;
  std::string status = "running";
  std::string capacity_map = "{}";
  int64_t heartbeat_expiration = 0;  // unix milliseconds
};

struct JobFilter {
  std::string action;   // "any" or empty: all
  std::string worker;   // "any" or empty: all
  std::string running;  // "any", "true", "false"
  size_t start = 0;
  size_t limit = 10;
};

int64_t NowMs();

class JobStore {
 public:
  static Result<std::unique_ptr<JobStore>> Open(meta::SqliteDb* db);

  Status Insert(Job* job);  // fills id and timestamps
  Result<std::optional<Job>> Get(const std::string& id);
  Result<std::vector<Job>> List(const JobFilter& f);  // newest first
  Status Delete(const std::string& id);
  // waiting -> canceled; running -> cancel_request. False when already finished.
  Result<bool> RequestCancel(const std::string& id);
  // Claims the oldest due waiting job for `worker` (atomically); nullopt when none. With
  // `actions`, only a job for one of them (a worker claims only what it can run).
  Result<std::optional<Job>> Claim(const std::string& worker, int64_t now_ms,
                                   const std::vector<std::string>& actions = {});
  // Sets a final or intermediate status of a job this worker runs.
  Status Finish(const std::string& id, const std::string& status);
  Result<std::vector<Job>> ByStatus(const std::string& status, const std::string& worker);

  Status AppendLog(const std::string& job_id, const std::string& line);
  // Lines from `offset` (0-based), at most `limit` (0: all): (line number, text).
  Result<std::vector<std::pair<int64_t, std::string>>> Logs(const std::string& job_id,
                                                            int64_t offset, int64_t limit);
  // Deletes finished jobs and their logs beyond the newest `keep` or older than `max_age_ms`.
  Result<int64_t> CompactHistory(int64_t keep, int64_t max_age_ms);

  Status PutCron(Cron* c);  // one cron per action: create or replace
  Result<std::optional<Cron>> GetCron(const std::string& action);
  Result<std::vector<Cron>> ListCrons();
  Status DeleteCron(const std::string& action);
  // Moves a due cron to `next_run` if it is still at `expected` (one replica fires it).
  Result<bool> AdvanceCron(const std::string& action, int64_t expected, int64_t next_run);

  Status Heartbeat(const Worker& w);
  Result<std::vector<Worker>> ListWorkers();
  Status SetCapacity(const std::string& worker, const std::string& capacity_json);
  // Marks workers whose heartbeat expired as dead and their running jobs worker_dead;
  // returns those jobs.
  Result<std::vector<Job>> ReapDeadWorkers(int64_t now_ms);

  Result<std::optional<std::string>> GetActionConfig(const std::string& action);
  Result<std::vector<std::pair<std::string, std::string>>> ListActionConfigs();
  Status PutActionConfig(const std::string& action, const std::string& parameters);
  Status DeleteActionConfig(const std::string& action);

 private:
  explicit JobStore(meta::SqliteDb* db) : db_(db) {}
  meta::SqliteDb* db_;
};

}  // namespace dtr::jobs
