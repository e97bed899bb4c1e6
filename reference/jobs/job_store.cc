#include "jobs/job_store.h"

#include <chrono>

#include "meta/sqlite_identity_store.h"

namespace dtr::jobs {

using meta::SqliteConn;
using meta::SqliteStmt;

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  retry_from_id TEXT NOT NULL DEFAULT '',
  worker_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  scheduled_at INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  action TEXT NOT NULL,
  retries_left INTEGER NOT NULL DEFAULT 0,
  retries_total INTEGER NOT NULL DEFAULT 0,
  capacity_map TEXT NOT NULL DEFAULT '{}',
  parameters TEXT NOT NULL DEFAULT '{}',
  deadline TEXT NOT NULL DEFAULT '',
  stop_timeout TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, scheduled_at);
CREATE TABLE IF NOT EXISTS job_logs (
  job_id TEXT NOT NULL,
  line_num INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (job_id, line_num)
);
CREATE TABLE IF NOT EXISTS crons (
  id TEXT NOT NULL,
  action TEXT PRIMARY KEY,
  schedule TEXT NOT NULL,
  retries INTEGER NOT NULL DEFAULT 0,
  capacity_map TEXT NOT NULL DEFAULT '{}',
  parameters TEXT NOT NULL DEFAULT '{}',
  deadline TEXT NOT NULL DEFAULT '',
  stop_timeout TEXT NOT NULL DEFAULT '',
  next_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS workers (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  capacity_map TEXT NOT NULL DEFAULT '{}',
  heartbeat_expiration INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS action_configs (
  action TEXT PRIMARY KEY,
  parameters TEXT NOT NULL
);
)sql";

const char* kJobCols =
    "id, retry_from_id, worker_id, status, scheduled_at, last_updated, action, retries_left, "
    "retries_total, capacity_map, parameters, deadline, stop_timeout";

Job JobRow(SqliteStmt& s) {
  Job j;
  j.id = s.Text(0);
  j.retry_from_id = s.Text(1);
  j.worker_id = s.Text(2);
  j.status = s.Text(3);
  j.scheduled_at = s.Int(4);
  j.last_updated = s.Int(5);
  j.action = s.Text(6);
  j.retries_left = s.Int(7);
  j.retries_total = s.Int(8);
  j.capacity_map = s.Text(9);
  j.parameters = s.Text(10);
  j.deadline = s.Text(11);
  j.stop_timeout = s.Text(12);
  return j;
}

const char* kCronCols =
    "id, action, schedule, retries, capacity_map, parameters, deadline, stop_timeout, next_run";
Cron CronRow(SqliteStmt& s) {
  return Cron{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Text(4),
              s.Text(5), s.Text(6), s.Text(7), s.Int(8)};
}

const char* kStore = "job store";

template <class Fn>
auto Guard(Fn&& fn) -> decltype(fn()) {
  return meta::GuardSql(kStore, std::forward<Fn>(fn));
}

template <class T, class Bind, class Row>
Result<std::vector<T>> Query(meta::SqliteDb* db, const std::string& sql, Bind&& bind, Row&& row) {
  return meta::QueryRows<T>(kStore, db, sql, std::forward<Bind>(bind), std::forward<Row>(row));
}

template <class Bind>
Status Exec(meta::SqliteDb* db, const std::string& sql, Bind&& bind) {
  auto n = meta::ExecSql(kStore, db, sql, std::forward<Bind>(bind));
  return n.ok() ? Status::Ok() : n.status();
}

// Number of rows the statement changed.
template <class Bind>
Result<int64_t> ExecCount(meta::SqliteDb* db, const std::string& sql, Bind&& bind) {
  return meta::ExecSql(kStore, db, sql, std::forward<Bind>(bind));
}

template <class T>
Result<std::optional<T>> First(Result<std::vector<T>> rows) {
  return meta::FirstRow(std::move(rows));
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<JobStore>> JobStore::Open(meta::SqliteDb* db) {
  Status s =
      Guard([&]() -> Status { return db->With([](SqliteConn& c) { return c.Exec(kSchema); }); });
  if (!s.ok()) return s;
  return std::unique_ptr<JobStore>(new JobStore(db));
}

Status JobStore::Insert(Job* j) {
  if (j->id.empty()) j->id = meta::NewId();
  j->last_updated = NowMs();
  if (!j->scheduled_at) j->scheduled_at = j->last_updated;
  return Exec(db_,
              std::string("INSERT INTO jobs (") + kJobCols +
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              [&](SqliteStmt& st) {
                st.Bind(1, j->id).Bind(2, j->retry_from_id).Bind(3, j->worker_id);
                st.Bind(4, j->status).Bind(5, j->scheduled_at).Bind(6, j->last_updated);
                st.Bind(7, j->action).Bind(8, j->retries_left).Bind(9, j->retries_total);
                st.Bind(10, j->capacity_map).Bind(11, j->parameters).Bind(12, j->deadline);
                st.Bind(13, j->stop_timeout);
              });
}

Result<std::optional<Job>> JobStore::Get(const std::string& id) {
  return First(Query<Job>(
      db_, std::string("SELECT ") + kJobCols + " FROM jobs WHERE id = ?",
      [&](SqliteStmt& st) { st.Bind(1, id); }, JobRow));
}

Result<std::vector<Job>> JobStore::List(const JobFilter& f) {
  std::string where = " WHERE 1=1";
  bool by_action = !f.action.empty() && f.action != "any";
  bool by_worker = !f.worker.empty() && f.worker != "any";
  if (by_action) where += " AND action = ?";
  if (by_worker) where += " AND worker_id = ?";
  if (f.running == "true") where += " AND status IN ('running', 'cancel_request')";
  if (f.running == "false") where += " AND status NOT IN ('running', 'cancel_request')";
  return Query<Job>(
      db_,
      std::string("SELECT ") + kJobCols + " FROM jobs" + where +
          " ORDER BY scheduled_at DESC, id LIMIT ? OFFSET ?",
      [&](SqliteStmt& st) {
        int i = 1;
        if (by_action) st.Bind(i++, f.action);
        if (by_worker) st.Bind(i++, f.worker);
        st.Bind(i++, f.limit ? static_cast<int64_t>(f.limit) : int64_t{-1});
        st.Bind(i, static_cast<int64_t>(f.start));
      },
      JobRow);
}

Status JobStore::Delete(const std::string& id) {
  Status s =
      Exec(db_, "DELETE FROM job_logs WHERE job_id = ?", [&](SqliteStmt& st) { st.Bind(1, id); });
  if (!s.ok()) return s;
  return Exec(db_, "DELETE FROM jobs WHERE id = ?", [&](SqliteStmt& st) { st.Bind(1, id); });
}

Result<bool> JobStore::RequestCancel(const std::string& id) {
  auto waiting = ExecCount(db_,
                           "UPDATE jobs SET status = 'canceled', last_updated = ? WHERE id = ? AND "
                           "status = 'waiting'",
                           [&](SqliteStmt& st) { st.Bind(1, NowMs()).Bind(2, id); });
  if (!waiting.ok()) return waiting.status();
  if (*waiting) return true;
  auto running = ExecCount(db_,
                           "UPDATE jobs SET status = 'cancel_request', last_updated = ? WHERE id = "
                           "? AND status = 'running'",
                           [&](SqliteStmt& st) { st.Bind(1, NowMs()).Bind(2, id); });
  if (!running.ok()) return running.status();
  return *running > 0;
}

Result<std::optional<Job>> JobStore::Claim(const std::string& worker, int64_t now_ms,
                                           const std::vector<std::string>& actions) {
  std::string only;
  for (size_t i = 0; i < actions.size(); ++i) only += i ? ", ?" : " AND action IN (?";
  if (!only.empty()) only += ")";
  return First(Query<Job>(
      db_,
      std::string("UPDATE jobs SET status = 'running', worker_id = ?, last_updated = ? WHERE id = "
                  "(SELECT id FROM jobs WHERE status = 'waiting' AND scheduled_at <= ?") +
          only + " ORDER BY scheduled_at, id LIMIT 1) AND status = 'waiting' RETURNING " + kJobCols,
      [&](SqliteStmt& st) {
        st.Bind(1, worker).Bind(2, now_ms).Bind(3, now_ms);
        for (size_t i = 0; i < actions.size(); ++i) st.Bind(static_cast<int>(4 + i), actions[i]);
      },
      JobRow));
}

Status JobStore::Finish(const std::string& id, const std::string& st_name) {
  return Exec(db_, "UPDATE jobs SET status = ?, last_updated = ? WHERE id = ?",
              [&](SqliteStmt& st) { st.Bind(1, st_name).Bind(2, NowMs()).Bind(3, id); });
}

Result<std::vector<Job>> JobStore::ByStatus(const std::string& st_name, const std::string& worker) {
  return Query<Job>(
      db_,
      std::string("SELECT ") + kJobCols +
          " FROM jobs WHERE status = ? AND (worker_id = ? OR ? = '')",
      [&](SqliteStmt& st) { st.Bind(1, st_name).Bind(2, worker).Bind(3, worker); }, JobRow);
}

Status JobStore::AppendLog(const std::string& job_id, const std::string& line) {
  return Exec(db_,
              "INSERT INTO job_logs (job_id, line_num, data) VALUES (?, (SELECT COALESCE(MAX("
              "line_num), -1) + 1 FROM job_logs WHERE job_id = ?), ?)",
              [&](SqliteStmt& st) { st.Bind(1, job_id).Bind(2, job_id).Bind(3, line); });
}

Result<std::vector<std::pair<int64_t, std::string>>> JobStore::Logs(const std::string& job_id,
                                                                    int64_t offset, int64_t limit) {
  return Query<std::pair<int64_t, std::string>>(
      db_,
      "SELECT line_num, data FROM job_logs WHERE job_id = ? AND line_num >= ? ORDER BY line_num "
      "LIMIT ?",
      [&](SqliteStmt& st) {
        st.Bind(1, job_id).Bind(2, offset).Bind(3, limit > 0 ? limit : int64_t{-1});
      },
      [](SqliteStmt& s) { return std::make_pair(s.Int(0), s.Text(1)); });
}

Result<int64_t> JobStore::CompactHistory(int64_t keep, int64_t max_age_ms) {
  const char* finished = "status IN ('done', 'errored', 'canceled', 'worker_dead')";
  auto victims = Query<std::string>(
      db_,
      std::string("SELECT id FROM jobs WHERE ") + finished +
          " AND (last_updated < ? OR id NOT IN (SELECT id FROM jobs WHERE " + finished +
          " ORDER BY last_updated DESC LIMIT ?))",
      [&](SqliteStmt& st) { st.Bind(1, NowMs() - max_age_ms).Bind(2, keep); },
      [](SqliteStmt& s) { return s.Text(0); });
  if (!victims.ok()) return victims.status();
  for (const auto& id : *victims) {
    if (Status s = Delete(id); !s.ok()) return s;
  }
  return static_cast<int64_t>(victims->size());
}

Status JobStore::PutCron(Cron* c) {
  if (c->id.empty()) c->id = meta::NewId();
  return Exec(db_,
              std::string("INSERT INTO crons (") + kCronCols +
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (action) DO UPDATE SET "
                  "schedule = excluded.schedule, retries = excluded.retries, capacity_map = "
                  "excluded.capacity_map, parameters = excluded.parameters, deadline = "
                  "excluded.deadline, stop_timeout = excluded.stop_timeout, next_run = "
                  "excluded.next_run",
              [&](SqliteStmt& st) {
                st.Bind(1, c->id).Bind(2, c->action).Bind(3, c->schedule).Bind(4, c->retries);
                st.Bind(5, c->capacity_map).Bind(6, c->parameters).Bind(7, c->deadline);
                st.Bind(8, c->stop_timeout).Bind(9, c->next_run);
              });
}

Result<std::optional<Cron>> JobStore::GetCron(const std::string& action) {
  return First(Query<Cron>(
      db_, std::string("SELECT ") + kCronCols + " FROM crons WHERE action = ?",
      [&](SqliteStmt& st) { st.Bind(1, action); }, CronRow));
}

Result<std::vector<Cron>> JobStore::ListCrons() {
  return Query<Cron>(
      db_, std::string("SELECT ") + kCronCols + " FROM crons ORDER BY action", [](SqliteStmt&) {},
      CronRow);
}

Status JobStore::DeleteCron(const std::string& action) {
  return Exec(db_, "DELETE FROM crons WHERE action = ?",
              [&](SqliteStmt& st) { st.Bind(1, action); });
}

Result<bool> JobStore::AdvanceCron(const std::string& action, int64_t expected, int64_t next_run) {
  auto n =
      ExecCount(db_, "UPDATE crons SET next_run = ? WHERE action = ? AND next_run = ?",
                [&](SqliteStmt& st) { st.Bind(1, next_run).Bind(2, action).Bind(3, expected); });
  if (!n.ok()) return n.status();
  return *n > 0;
}

Status JobStore::Heartbeat(const Worker& w) {
  return Exec(db_,
              "INSERT INTO workers (id, status, capacity_map, heartbeat_expiration) VALUES (?, ?, "
              "?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
              "heartbeat_expiration = excluded.heartbeat_expiration",
              [&](SqliteStmt& st) {
                st.Bind(1, w.id).Bind(2, w.status).Bind(3, w.capacity_map);
                st.Bind(4, w.heartbeat_expiration);
              });
}

Result<std::vector<Worker>> JobStore::ListWorkers() {
  return Query<Worker>(
      db_, "SELECT id, status, capacity_map, heartbeat_expiration FROM workers ORDER BY id",
      [](SqliteStmt&) {},
      [](SqliteStmt& s) {
        return Worker{s.Text(0), s.Text(1), s.Text(2), s.Int(3)};
      });
}

Status JobStore::SetCapacity(const std::string& worker, const std::string& capacity_json) {
  auto n = ExecCount(db_, "UPDATE workers SET capacity_map = ? WHERE id = ?",
                     [&](SqliteStmt& st) { st.Bind(1, capacity_json).Bind(2, worker); });
  if (!n.ok()) return n.status();
  return *n ? Status::Ok() : NotFound("no worker " + worker);
}

Result<std::vector<Job>> JobStore::ReapDeadWorkers(int64_t now_ms) {
  auto dead = Query<std::string>(
      db_, "SELECT id FROM workers WHERE status != 'dead' AND heartbeat_expiration < ?",
      [&](SqliteStmt& st) { st.Bind(1, now_ms); }, [](SqliteStmt& s) { return s.Text(0); });
  if (!dead.ok()) return dead.status();
  std::vector<Job> orphans;
  for (const auto& w : *dead) {
    auto jobs = Query<Job>(
        db_,
        std::string("UPDATE jobs SET status = 'worker_dead', last_updated = ? "
                    "WHERE worker_id = ? AND status IN ('running', "
                    "'cancel_request') RETURNING ") +
            kJobCols,
        [&](SqliteStmt& st) { st.Bind(1, now_ms).Bind(2, w); }, JobRow);
    if (!jobs.ok()) return jobs.status();
    orphans.insert(orphans.end(), jobs->begin(), jobs->end());
    Status s = Exec(db_, "UPDATE workers SET status = 'dead' WHERE id = ?",
                    [&](SqliteStmt& st) { st.Bind(1, w); });
    if (!s.ok()) return s;
  }
  return orphans;
}

Result<std::optional<std::string>> JobStore::GetActionConfig(const std::string& action) {
  return First(Query<std::string>(
      db_, "SELECT parameters FROM action_configs WHERE action = ?",
      [&](SqliteStmt& st) { st.Bind(1, action); }, [](SqliteStmt& s) { return s.Text(0); }));
}

Result<std::vector<std::pair<std::string, std::string>>> JobStore::ListActionConfigs() {
  return Query<std::pair<std::string, std::string>>(
      db_, "SELECT action, parameters FROM action_configs ORDER BY action", [](SqliteStmt&) {},
      [](SqliteStmt& s) { return std::make_pair(s.Text(0), s.Text(1)); });
}

Status JobStore::PutActionConfig(const std::string& action, const std::string& parameters) {
  return Exec(db_,
              "INSERT INTO action_configs (action, parameters) VALUES (?, ?) ON CONFLICT (action) "
              "DO UPDATE SET parameters = excluded.parameters",
              [&](SqliteStmt& st) { st.Bind(1, action).Bind(2, parameters); });
}

Status JobStore::DeleteActionConfig(const std::string& action) {
  return Exec(db_, "DELETE FROM action_configs WHERE action = ?",
              [&](SqliteStmt& st) { st.Bind(1, action); });
}

}  // namespace dtr::jobs
