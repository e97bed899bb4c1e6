#include "jobs/jobs_api.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "core/range.h"
#include "jobs/api_reply.h"
#include "jobs/cron.h"

namespace dtr::jobs {

using nlohmann::json;

namespace {

std::string Rfc3339(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac]Z"; -1 when malformed.
int64_t ParseRfc3339(const std::string& s) {
  std::tm tm{};
  if (s.size() < 20 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return -1;
  }
  if (s.back() != 'Z') return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

json JsonOr(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

json JobJson(const Job& j) {
  return json{{"id", j.id},
              {"retryFromID", j.retry_from_id},
              {"workerID", j.worker_id},
              {"status", j.status},
              {"scheduledAt", Rfc3339(j.scheduled_at)},
              {"lastUpdated", Rfc3339(j.last_updated)},
              {"action", j.action},
              {"retriesLeft", j.retries_left},
              {"retriesTotal", j.retries_total},
              {"capacityMap", JsonOr(j.capacity_map)},
              {"parameters", JsonOr(j.parameters)},
              {"deadline", j.deadline},
              {"stopTimeout", j.stop_timeout}};
}

json CronJson(const Cron& c) {
  return json{{"id", c.id},
              {"action", c.action},
              {"schedule", c.schedule},
              {"retries", c.retries},
              {"capacityMap", JsonOr(c.capacity_map)},
              {"parameters", JsonOr(c.parameters)},
              {"deadline", c.deadline},
              {"stopTimeout", c.stop_timeout},
              {"nextRun", Rfc3339(c.next_run)}};
}

using reply::Error;
using reply::Json;

bool MethodNotAllowed(http::Response& res, const std::string& allow) {
  reply::MethodNotAllowed(res, allow);
  return true;
}

using reply::OptInteger;
using reply::OptObject;
using reply::OptString;

// Job fields from a submission or cron body; errors name the field.
bool FillJobFields(const json& b, Job* j, http::Response& res) {
  if (!OptString(b, "action", &j->action, res) ||
      !OptInteger(b, "retries", &j->retries_left, res) ||
      !OptObject(b, "parameters", &j->parameters, res) ||
      !OptObject(b, "capacityMap", &j->capacity_map, res) ||
      !OptString(b, "deadline", &j->deadline, res) ||
      !OptString(b, "stopTimeout", &j->stop_timeout, res)) {
    return false;
  }
  if (j->action.empty()) return Error(res, 400, "INVALID_PARAMETERS", "action is required"), false;
  if (j->retries_left < 0 || j->retries_left > 100) {
    return Error(res, 400, "INVALID_PARAMETERS", "retries must be between 0 and 100"), false;
  }
  for (const std::string* d : {&j->deadline, &j->stop_timeout}) {
    if (!d->empty() && !ParseDurationMs(*d).ok()) {
      return Error(res, 400, "INVALID_PARAMETERS", "invalid duration '" + *d + "'"), false;
    }
  }
  return true;
}

}  // namespace

bool JobsApi::Handle(http::Request& req, http::Response& res, const access::Principal& who) {
  auto parts = reply::SplitPath(req.path);
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v0") return false;
  const std::string& what = parts[2];
  bool cluster = what == "meta" && parts.size() == 4 && parts[3] == "cluster_status";
  if (what != "jobs" && what != "crons" && what != "workers" && what != "action_configs" &&
      !cluster) {
    return false;
  }
  if (who.anonymous()) {
    res.headers.Set("WWW-Authenticate", "Basic realm=\"dtr\"");
    Error(res, 401, "NOT_AUTHENTICATED", "authentication required");
    return true;
  }
  if (!who.is_admin()) {
    Error(res, 403, "NOT_AUTHORIZED", "only system administrators manage jobs");
    return true;
  }
  if (cluster) {
    if (req.method != "GET") return MethodNotAllowed(res, "GET");
    json health = json::object(), readonly = json::object(), stamp = json::object();
    auto workers = runner_->store()->ListWorkers();
    if (!workers.ok()) return Error(res, 500, "INTERNAL_ERROR", workers.status().message()), true;
    for (const auto& w : *workers) {
      bool alive = w.status == "running" && w.heartbeat_expiration > NowMs();
      health[w.id] = alive ? "OK" : "Replica reported health too long ago";
      readonly[w.id] = false;
      stamp[w.id] = Rfc3339(w.heartbeat_expiration);
    }
    Json(res, 200,
         json{{"replica_health", health},
              {"replica_timestamp", stamp},
              {"replica_readonly", readonly},
              {"gc_lock_holder", gc_lock_holder_()},
              {"rethink_system_tables", json::object()}});
    return true;
  }
  if (what == "jobs") Jobs(req, res, parts);
  if (what == "crons") Crons(req, res, parts);
  if (what == "workers") Workers(req, res, parts);
  if (what == "action_configs") ActionConfigs(req, res, parts);
  return true;
}

void JobsApi::Jobs(http::Request& req, http::Response& res, const std::vector<std::string>& parts) {
  JobStore* store = runner_->store();
  if (parts.size() == 3) {
    if (req.method == "GET") {
      JobFilter f;
      f.action = std::string(req.Query("action").value_or("any"));
      f.worker = std::string(req.Query("worker").value_or("any"));
      f.running = std::string(req.Query("running").value_or("any"));
      auto start = ParseUint(req.Query("start").value_or("0"));
      auto limit = ParseUint(req.Query("limit").value_or("10"));
      if (!start || !limit || *limit < 1 || *limit > 1000) {
        return Error(res, 400, "INVALID_PARAMETERS",
                     "start must be an integer and limit one from 1 to 1000");
      }
      f.start = *start;
      f.limit = *limit;
      auto jobs = store->List(f);
      if (!jobs.ok()) return Error(res, 500, "INTERNAL_ERROR", jobs.status().message());
      json list = json::array();
      for (const auto& j : *jobs) list.push_back(JobJson(j));
      return Json(res, 200, json{{"jobs", list}});
    }
    if (req.method == "POST") {
      json b;
      if (!reply::ReadObject(req, res, &b)) return;
      Job j;
      if (!FillJobFields(b, &j, res)) return;
      std::string at;
      if (!OptString(b, "scheduledAt", &at, res)) return;
      if (!at.empty()) {
        j.scheduled_at = ParseRfc3339(at);
        if (j.scheduled_at < 0) {
          return Error(res, 400, "INVALID_PARAMETERS", "scheduledAt must be RFC 3339 UTC");
        }
      }
      auto submitted = runner_->Submit(j);
      if (submitted.status().is(Code::kInvalidArgument)) {
        return Error(res, 400, "INVALID_PARAMETERS", submitted.status().message());
      }
      if (!submitted.ok()) return Error(res, 500, "INTERNAL_ERROR", submitted.status().message());
      return Json(res, 202, JobJson(*submitted));
    }
    MethodNotAllowed(res, "GET, POST");
    return;
  }
  const std::string& id = parts[3];
  auto job = store->Get(id);
  if (!job.ok()) return Error(res, 500, "INTERNAL_ERROR", job.status().message());
  if (!job->has_value()) return Error(res, 404, "NO_SUCH_JOB", "no job " + id);
  if (parts.size() == 4) {
    if (req.method == "GET") return Json(res, 200, JobJson(**job));
    if (req.method == "DELETE") {
      // A running job is asked to stop and stays listed until it has; others go at once.
      if (auto r = store->RequestCancel(id); !r.ok()) {
        return Error(res, 500, "INTERNAL_ERROR", r.status().message());
      }
      // cancel_request: still running on its worker until it notices.
      if ((*job)->status != status::kRunning && (*job)->status != status::kCancelRequest) {
        if (Status s = store->Delete(id); !s.ok()) {
          return Error(res, 500, "INTERNAL_ERROR", s.message());
        }
      }
      res.status = 204;
      return;
    }
    MethodNotAllowed(res, "GET, DELETE");
    return;
  }
  if (parts.size() == 5 && parts[4] == "cancel") {
    if (req.method != "POST") return (void)MethodNotAllowed(res, "POST");
    auto r = store->RequestCancel(id);
    if (!r.ok()) return Error(res, 500, "INTERNAL_ERROR", r.status().message());
    res.status = 204;
    return;
  }
  if (parts.size() == 5 && parts[4] == "logs") {
    if (req.method != "GET") return (void)MethodNotAllowed(res, "GET");
    auto offset = ParseUint(req.Query("offset").value_or("0"));
    auto limit = ParseUint(req.Query("limit").value_or("0"));
    if (!offset || !limit)
      return Error(res, 400, "INVALID_PARAMETERS", "offset and limit must be integers");
    auto lines = store->Logs(id, static_cast<int64_t>(*offset), static_cast<int64_t>(*limit));
    if (!lines.ok()) return Error(res, 500, "INTERNAL_ERROR", lines.status().message());
    json out = json::array();
    for (const auto& [n, data] : *lines) out.push_back(json{{"lineNum", n}, {"data", data}});
    return Json(res, 200, out);
  }
  Error(res, 404, "NOT_FOUND", "no such endpoint");
}

void JobsApi::Crons(http::Request& req, http::Response& res,
                    const std::vector<std::string>& parts) {
  JobStore* store = runner_->store();
  if (parts.size() == 3) {
    if (req.method == "GET") {
      auto crons = store->ListCrons();
      if (!crons.ok()) return Error(res, 500, "INTERNAL_ERROR", crons.status().message());
      json list = json::array();
      for (const auto& c : *crons) list.push_back(CronJson(c));
      return Json(res, 200, json{{"crons", list}});
    }
    if (req.method == "POST") {
      json b;
      if (!reply::ReadObject(req, res, &b)) return;
      Job fields;
      if (!FillJobFields(b, &fields, res)) return;
      if (!runner_->Known(fields.action)) {
        return Error(res, 400, "INVALID_PARAMETERS", "unknown job action '" + fields.action + "'");
      }
      std::string spec;
      if (!OptString(b, "schedule", &spec, res)) return;
      auto sched = CronSchedule::Parse(spec);
      if (!sched.ok()) return Error(res, 400, "INVALID_PARAMETERS", sched.status().message());
      Cron c;
      c.action = fields.action;
      c.schedule = spec;
      c.retries = fields.retries_left;
      c.parameters = fields.parameters;
      c.capacity_map = fields.capacity_map;
      c.deadline = fields.deadline;
      c.stop_timeout = fields.stop_timeout;
      c.next_run = sched->Next(NowMs() / 1000) * 1000;
      if (auto existing = store->GetCron(c.action); existing.ok() && existing->has_value()) {
        c.id = (*existing)->id;
      }
      if (Status s = store->PutCron(&c); !s.ok())
        return Error(res, 500, "INTERNAL_ERROR", s.message());
      return Json(res, 202, CronJson(c));
    }
    MethodNotAllowed(res, "GET, POST");
    return;
  }
  if (parts.size() != 4) return Error(res, 404, "NOT_FOUND", "no such endpoint");
  const std::string& action = parts[3];
  auto cron = store->GetCron(action);
  if (!cron.ok()) return Error(res, 500, "INTERNAL_ERROR", cron.status().message());
  if (!cron->has_value()) return Error(res, 404, "NO_SUCH_CRON", "no cron for action " + action);
  if (req.method == "GET") return Json(res, 200, CronJson(**cron));
  if (req.method == "DELETE") {
    if (Status s = store->DeleteCron(action); !s.ok()) {
      return Error(res, 500, "INTERNAL_ERROR", s.message());
    }
    res.status = 204;
    return;
  }
  MethodNotAllowed(res, "GET, DELETE");
}

void JobsApi::Workers(http::Request& req, http::Response& res,
                      const std::vector<std::string>& parts) {
  JobStore* store = runner_->store();
  if (parts.size() == 3) {
    if (req.method != "GET") return (void)MethodNotAllowed(res, "GET");
    auto workers = store->ListWorkers();
    if (!workers.ok()) return Error(res, 500, "INTERNAL_ERROR", workers.status().message());
    json list = json::array();
    for (const auto& w : *workers) {
      list.push_back(json{{"id", w.id},
                          {"status", w.status},
                          {"capacityMap", JsonOr(w.capacity_map)},
                          {"heartbeatExpiration", Rfc3339(w.heartbeat_expiration)}});
    }
    return Json(res, 200, json{{"workers", list}});
  }
  if (parts.size() == 5 && parts[4] == "capacity") {
    if (req.method != "POST") return (void)MethodNotAllowed(res, "POST");
    json b;
    if (!reply::ReadObject(req, res, &b)) return;
    if (!b.contains("capacityMap") || !b["capacityMap"].is_object()) {
      return Error(res, 400, "INVALID_PARAMETERS", "capacityMap must be an object");
    }
    for (const auto& [action, slots] : b["capacityMap"].items()) {
      if (!slots.is_number_integer() || slots.get<int64_t>() < 0) {
        return Error(res, 400, "INVALID_PARAMETERS",
                     "capacityMap." + action + " must be a whole number of slots (0 or more)");
      }
    }
    Status s = store->SetCapacity(parts[3], b["capacityMap"].dump());
    if (s.is(Code::kNotFound)) return Error(res, 404, "NO_SUCH_WORKER", s.message());
    if (!s.ok()) return Error(res, 500, "INTERNAL_ERROR", s.message());
    res.status = 202;
    return;
  }
  Error(res, 404, "NOT_FOUND", "no such endpoint");
}

void JobsApi::ActionConfigs(http::Request& req, http::Response& res,
                            const std::vector<std::string>& parts) {
  JobStore* store = runner_->store();
  if (parts.size() == 3) {
    if (req.method == "GET") {
      auto all = store->ListActionConfigs();
      if (!all.ok()) return Error(res, 500, "INTERNAL_ERROR", all.status().message());
      json list = json::array();
      for (const auto& [a, p] : *all)
        list.push_back(json{{"action", a}, {"parameters", JsonOr(p)}});
      return Json(res, 200, json{{"actionConfigs", list}});
    }
    if (req.method == "POST") {
      json b;
      if (!reply::ReadObject(req, res, &b)) return;
      std::string action;
      if (!OptString(b, "action", &action, res)) return;
      if (!runner_->Known(action)) {
        return Error(res, 400, "INVALID_PARAMETERS", "unknown job action '" + action + "'");
      }
      if (!b.contains("parameters") || !b["parameters"].is_object()) {
        return Error(res, 400, "INVALID_PARAMETERS", "parameters must be an object");
      }
      if (Status s = store->PutActionConfig(action, b["parameters"].dump()); !s.ok()) {
        return Error(res, 500, "INTERNAL_ERROR", s.message());
      }
      return Json(res, 202, json{{"action", action}, {"parameters", b["parameters"]}});
    }
    MethodNotAllowed(res, "GET, POST");
    return;
  }
  if (parts.size() != 4) return Error(res, 404, "NOT_FOUND", "no such endpoint");
  const std::string& action = parts[3];
  auto cfg = store->GetActionConfig(action);
  if (!cfg.ok()) return Error(res, 500, "INTERNAL_ERROR", cfg.status().message());
  if (req.method == "GET") {
    if (!cfg->has_value())
      return Error(res, 404, "NO_SUCH_ACTION_CONFIG", "no config for " + action);
    return Json(res, 200, json{{"action", action}, {"parameters", JsonOr(**cfg)}});
  }
  if (req.method == "DELETE") {
    if (Status s = store->DeleteActionConfig(action); !s.ok()) {
      return Error(res, 500, "INTERNAL_ERROR", s.message());
    }
    res.status = 204;
    return;
  }
  MethodNotAllowed(res, "GET, DELETE");
}

}  // namespace dtr::jobs
