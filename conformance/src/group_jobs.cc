// Group `jobs` (profile dtr): DTR's jobrunner API as spec/dtr-2x-inventory.md sections 2.8,
// 2.14 and 4 describe it: jobs submitted, watched to a final status, listed with the
// `action`/`running` filters and `start`/`limit` pages, canceled, deleted, their logs; crons
// with six-field schedules (seconds first, UTC) and descriptors; workers and their
// `capacityMap`. With --destructive, online garbage collection: what it must delete and what
// it must keep. Every case needs --user/--password of a system administrator; a registry
// without /api/v0/jobs skips the group as not applicable.
//
// The job actions used are harmless: `onlinegc_joblogs` (compacts job history per the
// registry's own settings) and `sleep`, DTR's test action (inventory 4.3), for cancel.
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "auth.h"
#include "digest.h"
#include "registry_ops.h"

namespace dtrc {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* kHarmless = "onlinegc_joblogs";
// Inventory 4.1: DTR workers wait up to 3 s before claiming; GC may take a while.
constexpr int kJobSeconds = 120;

// Inventory 4.2: the swagger's and the docs' status vocabularies, both accepted.
bool final_status(const std::string& s) {
  static const std::set<std::string> kFinal = {
      "done",        "canceled",        "errored",
      "error",       "cancel",          "deleted",
      "worker_dead", "worker_shutdown", "worker_resurrection"};
  return kFinal.count(s) > 0;
}
bool known_status(const std::string& s) {
  return final_status(s) || s == "waiting" || s == "running" || s == "cancel_request";
}
bool canceled_status(const std::string& s) { return s == "canceled" || s == "cancel"; }

// RFC 3339 ("2006-01-02T15:04:05[.frac](Z|+hh:mm)") as seconds since the epoch.
std::optional<std::int64_t> rfc3339_seconds(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  std::int64_t offset = 0;
  const bool zulu = i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z');
  if (!zulu) {
    int h = 0, m = 0;
    if (i + 6 != s.size() || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
        std::sscanf(s.c_str() + i + 1, "%2d:%2d", &h, &m) != 2) {
      return std::nullopt;
    }
    offset = (s[i] == '-' ? -1 : 1) * (h * 3600 + m * 60);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

class JobsApi {
 public:
  explicit JobsApi(CaseContext& ctx) : ctx_(ctx), oci_(ctx) {
    if (ctx.options().user.empty() || ctx.options().password.empty()) {
      ctx.skip("needs --user/--password of a system administrator (the jobrunner API is theirs)");
    }
    auto& probe = ctx.run().probes()["jobs-api"];
    if (!probe.has_value()) {
      HttpResponse r = call("GET", "/api/v0/jobs?limit=1");
      probe = r.status != 404;
      if (r.status == 401 || r.status == 403) {
        ctx.skip("needs --user/--password of a system administrator: GET /api/v0/jobs answered " +
                 std::to_string(r.status));
      }
    }
    if (!*probe) ctx.skip("not applicable: GET /api/v0/jobs answered 404 (no DTR jobrunner API)");
  }
  CaseContext& ctx() { return ctx_; }
  Oci& oci() { return oci_; }

  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    Headers h = {{"Accept", "application/json"}, {"Authorization", basic_auth()}};
    if (!body.empty() || method == "POST") h.push_back({"Content-Type", "application/json"});
    HttpResponse r = ctx_.http().send(
        {.method = method, .target = path, .headers = h, .body = body, .authenticate = false});
    if (!r.ok()) ctx_.fail(method + " " + path + ": " + r.error, r);
    return r;
  }
  std::string basic_auth() const {
    return "Basic " + base64_encode(ctx_.options().user + ":" + ctx_.options().password);
  }

  json parse(const HttpResponse& r, const std::string& what) {
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) ctx_.fail(what + ": the body is not JSON", r);
    return j;
  }
  void expect_status(const HttpResponse& r, std::initializer_list<int> ok,
                     const std::string& what) {
    oci_.expect_status(r, ok, what);
  }
  void expect_field(const json& j, const char* field, bool (json::*is)() const noexcept,
                    const char* type, const HttpResponse& r, const std::string& what) {
    if (!j.is_object() || !j.contains(field) || !(j[field].*is)()) {
      ctx_.fail(what + ": no " + type + " field \"" + field + "\"", r);
    }
  }
  // `status` and {"errors":[{"code","message"}]} (inventory 2.0).
  void expect_error(const HttpResponse& r, int status, const std::string& what) {
    if (r.status != status) {
      ctx_.fail(what + ": expected " + std::to_string(status) + ", got " + std::to_string(r.status),
                r);
    }
    json j = parse(r, what);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty()) {
      ctx_.fail(what + ": the body is not the error envelope {\"errors\":[...]}", r);
    }
    for (const auto& e : j["errors"]) {
      if (!e.is_object() || !e.contains("code") || !e["code"].is_string() ||
          !e.contains("message") || !e["message"].is_string()) {
        ctx_.fail(what + ": an error without string code and message", r);
      }
    }
  }

  // Inventory 4.1's Job: {id, retryFromID, workerID, status, scheduledAt, lastUpdated, action,
  // retriesLeft, retriesTotal, capacityMap, parameters, deadline, stopTimeout}.
  void expect_job(const json& j, const HttpResponse& r, const std::string& what) {
    for (const char* f : {"id", "retryFromID", "workerID", "status", "scheduledAt", "lastUpdated",
                          "action", "deadline", "stopTimeout"}) {
      expect_field(j, f, &json::is_string, "string", r, what);
    }
    expect_field(j, "retriesLeft", &json::is_number_integer, "integer", r, what);
    expect_field(j, "retriesTotal", &json::is_number_integer, "integer", r, what);
    expect_field(j, "capacityMap", &json::is_object, "object", r, what);
    expect_field(j, "parameters", &json::is_object, "object", r, what);
    if (j["id"].get<std::string>().empty()) ctx_.fail(what + ": the job id is empty", r);
    if (!known_status(j["status"])) {
      ctx_.fail(what + ": status " + j["status"].dump() + " is in neither vocabulary of 4.2", r);
    }
    if (!rfc3339_seconds(j["scheduledAt"])) {
      ctx_.fail(what + ": scheduledAt " + j["scheduledAt"].dump() + " is not RFC 3339", r);
    }
  }

  // POST /api/v0/jobs: the 202 Job; blocked when refused. The job is deleted at cleanup.
  json submit(const json& body) {
    HttpResponse r = call("POST", "/api/v0/jobs", body.dump());
    if (r.status != 202) ctx_.blocked("POST /api/v0/jobs " + body.dump(), r);
    json j = parse(r, "POST /api/v0/jobs");
    expect_job(j, r, "the submitted job");
    forget_at_cleanup(j["id"]);
    return j;
  }
  void forget_at_cleanup(const std::string& id) {
    CaseContext* ctx = &ctx_;
    HttpRequest del{.method = "DELETE",
                    .target = "/api/v0/jobs/" + url_encode(id),
                    .headers = {{"Authorization", basic_auth()}},
                    .authenticate = false};
    ctx_.on_cleanup([ctx, del] { ctx->http().send(del); });
  }

  json get_job(const std::string& id, HttpResponse& r) {
    r = call("GET", "/api/v0/jobs/" + url_encode(id));
    expect_status(r, {200}, "GET /api/v0/jobs/{id}");
    json j = parse(r, "GET /api/v0/jobs/{id}");
    expect_job(j, r, "GET /api/v0/jobs/" + id);
    if (j["id"] != id) ctx_.fail("GET /api/v0/jobs/" + id + " answered another job", r);
    return j;
  }

  // Polls the job until `until` holds for it (bounded): the job as last seen.
  template <typename Pred>
  json wait_job(const std::string& id, Pred until, const std::string& what,
                int seconds = kJobSeconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    HttpResponse r;
    while (true) {
      json j = get_job(id, r);
      if (until(j["status"].get<std::string>())) return j;
      if (Clock::now() > deadline) {
        ctx_.fail("job " + id + " is still " + j["status"].dump() + " after " +
                      std::to_string(seconds) + " s: " + what,
                  r);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  json wait_final(const std::string& id, int seconds = kJobSeconds) {
    return wait_job(id, final_status, "expected a final status", seconds);
  }
  // Submits the harmless action and waits for it to be done.
  json run_harmless() {
    json j = submit({{"action", kHarmless}});
    json done = wait_final(j["id"]);
    if (done["status"] != "done") {
      HttpResponse r;
      get_job(j["id"], r);
      ctx_.fail(std::string(kHarmless) + " job ended " + done["status"].dump() + ", not \"done\"",
                r);
    }
    return done;
  }

  // GET /api/v0/jobs?<query>: the jobs array.
  json list(const std::string& query, HttpResponse& r) {
    r = call("GET", "/api/v0/jobs?" + query);
    expect_status(r, {200}, "GET /api/v0/jobs?" + query);
    json j = parse(r, "GET /api/v0/jobs?" + query);
    if (!j.is_object() || !j.contains("jobs") || !j["jobs"].is_array()) {
      ctx_.fail("GET /api/v0/jobs?" + query + ": not {\"jobs\":[...]}", r);
    }
    for (const auto& job : j["jobs"]) expect_job(job, r, "a listed job");
    return j["jobs"];
  }

 private:
  CaseContext& ctx_;
  Oci oci_;
};

bool lists_id(const json& jobs, const std::string& id) {
  for (const auto& j : jobs) {
    if (j["id"] == id) return true;
  }
  return false;
}

// ---- jobs ---------------------------------------------------------------------------------

void job_submit(CaseContext& ctx) {
  JobsApi api(ctx);
  json j = api.submit({{"action", kHarmless}, {"retries", 0}});
  HttpResponse r = ctx.http().last();
  if (j["action"] != kHarmless) ctx.fail("the submitted job's action is " + j["action"].dump(), r);
  // Inventory 4.1: a new job is `waiting` until a worker claims it (a fast one may be done).
  const std::string s = j["status"];
  if (s != "waiting" && s != "running" && s != "done") {
    ctx.fail("a new job's status is " + j["status"].dump() + ", not waiting", r);
  }
  HttpResponse g;
  json again = api.get_job(j["id"], g);
  if (again["action"] != kHarmless) ctx.fail("GET of the job shows another action", g);
}

void job_lifecycle(CaseContext& ctx) {
  JobsApi api(ctx);
  json j = api.submit({{"action", kHarmless}});
  json done = api.wait_final(j["id"]);
  HttpResponse r;
  api.get_job(j["id"], r);
  if (done["status"] != "done") {
    ctx.fail(std::string(kHarmless) + " ended " + done["status"].dump() + ", not \"done\"", r);
  }
  // Inventory 4.1: the worker that claimed it wrote its ID into workerID.
  if (done["workerID"].get<std::string>().empty()) {
    ctx.fail("a finished job has an empty workerID: no worker claimed it", r);
  }
  auto scheduled = rfc3339_seconds(done["scheduledAt"]);
  auto updated = rfc3339_seconds(done["lastUpdated"]);
  if (!updated) ctx.fail("lastUpdated " + done["lastUpdated"].dump() + " is not RFC 3339", r);
  if (*updated < *scheduled) ctx.fail("a finished job was last updated before it was scheduled", r);
}

void job_logs(CaseContext& ctx) {
  JobsApi api(ctx);
  json done = api.run_harmless();
  const std::string path = "/api/v0/jobs/" + url_encode(done["id"].get<std::string>()) + "/logs";
  HttpResponse r = api.call("GET", path);
  api.expect_status(r, {200}, "GET " + path);
  json j = api.parse(r, "GET " + path);
  // 2.7: [{data, lineNum}]; 2.1: {jobLogs:[{data}]} (inventory 4.5, 10.1).
  bool numbered = j.is_array();
  const json lines = numbered ? j : (j.is_object() ? j.value("jobLogs", json()) : json());
  if (!lines.is_array()) ctx.fail("the logs are neither [{data, lineNum}] nor {jobLogs:[...]}", r);
  long long previous = -1;
  for (const auto& l : lines) {
    if (!l.is_object() || !l.contains("data") || !l["data"].is_string()) {
      ctx.fail("a log line without a string \"data\"", r);
    }
    if (!numbered) continue;
    if (!l.contains("lineNum") || !l["lineNum"].is_number_integer()) {
      ctx.fail("a log line without an integer \"lineNum\"", r);
    }
    if (l["lineNum"].get<long long>() <= previous) ctx.fail("log lines are out of order", r);
    previous = l["lineNum"].get<long long>();
  }
  if (numbered && lines.size() > 1) {
    HttpResponse p = api.call("GET", path + "?offset=1&limit=1");
    api.expect_status(p, {200}, "GET " + path + "?offset=1&limit=1");
    json page = api.parse(p, "logs page");
    if (!page.is_array() || page.size() != 1 || page[0] != lines[1]) {
      ctx.fail("logs?offset=1&limit=1 is not the second line alone", p);
    }
  }
}

void job_not_found(CaseContext& ctx) {
  JobsApi api(ctx);
  api.expect_error(api.call("GET", "/api/v0/jobs/dtrc-" + random_hex(8)), 404,
                   "GET a job that does not exist");
}

void job_delete(CaseContext& ctx) {
  JobsApi api(ctx);
  json done = api.run_harmless();
  const std::string path = "/api/v0/jobs/" + url_encode(done["id"].get<std::string>());
  api.expect_status(api.call("DELETE", path), {204}, "DELETE " + path);
  api.expect_error(api.call("GET", path), 404, "GET of a deleted job");
}

void jobs_list(CaseContext& ctx) {
  JobsApi api(ctx);
  json a = api.run_harmless();
  json b = api.run_harmless();
  const std::string filter = std::string("action=") + kHarmless;
  HttpResponse r;
  json all = api.list(filter + "&start=0&limit=100", r);
  for (const json* j : {&a, &b}) {
    if (!lists_id(all, (*j)["id"])) ctx.fail("job " + (*j)["id"].dump() + " is not listed", r);
  }
  std::optional<std::int64_t> previous;
  for (const auto& j : all) {
    if (j["action"] != kHarmless)
      ctx.fail("action=" + std::string(kHarmless) + " lists " + j["action"].dump(), r);
    // Inventory 2.8: newest first.
    auto at = rfc3339_seconds(j["scheduledAt"]);
    if (previous && *at > *previous) ctx.fail("jobs are not listed newest first", r);
    previous = at;
  }
  HttpResponse d;
  json finished = api.list(filter + "&running=false&limit=100", d);
  if (!lists_id(finished, b["id"])) ctx.fail("running=false does not list a finished job", d);
  for (const auto& j : finished) {
    if (j["status"] == "running" || j["status"] == "cancel_request") {
      ctx.fail("running=false lists a job that is " + j["status"].dump(), d);
    }
  }
  HttpResponse g;
  json running = api.list(filter + "&running=true&limit=100", g);
  if (lists_id(running, a["id"]) || lists_id(running, b["id"])) {
    ctx.fail("running=true lists a finished job", g);
  }
  for (const auto& j : running) {
    if (j["status"] != "running" && j["status"] != "cancel_request") {
      ctx.fail("running=true lists a job that is " + j["status"].dump(), g);
    }
  }
  // Inventory 2.0: the jobs API pages by `start` (an offset) and `limit`.
  if (all.size() >= 2) {
    HttpResponse p0, p1;
    json first = api.list(filter + "&start=0&limit=1", p0);
    if (first.size() != 1) ctx.fail("limit=1 lists " + std::to_string(first.size()) + " jobs", p0);
    json second = api.list(filter + "&start=1&limit=1", p1);
    if (second.size() != 1) {
      ctx.fail("start=1&limit=1 lists " + std::to_string(second.size()) + " jobs", p1);
    }
    if (first[0]["id"] == second[0]["id"]) ctx.fail("start=1 lists the same job as start=0", p1);
    if (second[0]["id"] != all[1]["id"]) {
      ctx.fail("start=1&limit=1 is not the second job of the full list", p1);
    }
  }
}

void job_cancel(CaseContext& ctx) {
  JobsApi api(ctx);
  const json body = {{"action", "sleep"}, {"parameters", {{"seconds", 60}}}};
  HttpResponse r = api.call("POST", "/api/v0/jobs", body.dump());
  if (r.status >= 400 && r.status < 500) {
    ctx.skip(
        "no long-running harmless action to cancel: the test action `sleep` (inventory 4.3) "
        "was refused " +
        std::to_string(r.status));
  }
  api.expect_status(r, {202}, "POST /api/v0/jobs {\"action\":\"sleep\"}");
  json j = api.parse(r, "POST /api/v0/jobs");
  api.expect_job(j, r, "the submitted sleep job");
  const std::string id = j["id"];
  api.forget_at_cleanup(id);
  CaseContext* c = &ctx;
  const std::string auth = api.basic_auth();
  ctx.on_cleanup([c, id, auth] {
    c->http().send({.method = "POST",
                    .target = "/api/v0/jobs/" + url_encode(id) + "/cancel",
                    .headers = {{"Authorization", auth}},
                    .authenticate = false});
  });
  api.wait_job(
      id, [](const std::string& s) { return s != "waiting"; }, "expected a worker to claim it");
  const auto started = Clock::now();
  HttpResponse cr = api.call("POST", "/api/v0/jobs/" + url_encode(id) + "/cancel");
  api.expect_status(cr, {204}, "POST /api/v0/jobs/{id}/cancel");
  json end = api.wait_final(id, 45);
  HttpResponse g;
  api.get_job(id, g);
  if (!canceled_status(end["status"])) {
    ctx.fail("a canceled sleep job ended " + end["status"].dump() + ", not canceled", g);
  }
  if (Clock::now() - started > std::chrono::seconds(40)) {
    ctx.fail("the sleep job ran on after its cancel", g);
  }
}

// ---- crons --------------------------------------------------------------------------------

// Keeps the registry's own cron for `action` (one per action) and puts it back at cleanup.
void preserve_cron(JobsApi& api, const std::string& action) {
  HttpResponse r = api.call("GET", "/api/v0/crons/" + action);
  CaseContext* ctx = &api.ctx();
  const std::string auth = api.basic_auth();
  if (r.status == 200) {
    json old = api.parse(r, "GET /api/v0/crons/" + action);
    json body = json::object();
    for (const char* f : {"action", "schedule", "retries", "capacityMap", "parameters", "deadline",
                          "stopTimeout"}) {
      if (old.is_object() && old.contains(f)) body[f] = old[f];
    }
    ctx->on_cleanup([ctx, auth, body] {
      ctx->http().send({.method = "POST",
                        .target = "/api/v0/crons",
                        .headers = {{"Authorization", auth}, {"Content-Type", "application/json"}},
                        .body = body.dump(),
                        .authenticate = false});
    });
  } else {
    ctx->on_cleanup([ctx, auth, action] {
      ctx->http().send({.method = "DELETE",
                        .target = "/api/v0/crons/" + action,
                        .headers = {{"Authorization", auth}},
                        .authenticate = false});
    });
  }
}

// Inventory 4.4's Cron: {id, action, schedule, retries, capacityMap, parameters, deadline,
// stopTimeout, nextRun}.
void expect_cron(JobsApi& api, const json& c, const HttpResponse& r, const std::string& what) {
  for (const char* f : {"id", "action", "schedule", "deadline", "stopTimeout", "nextRun"}) {
    api.expect_field(c, f, &json::is_string, "string", r, what);
  }
  api.expect_field(c, "retries", &json::is_number_integer, "integer", r, what);
  api.expect_field(c, "capacityMap", &json::is_object, "object", r, what);
  api.expect_field(c, "parameters", &json::is_object, "object", r, what);
}

// nextRun of `schedule`: RFC 3339, within `horizon` seconds, at `want` (h, m, s) UTC.
void expect_next_run(JobsApi& api, const json& c, const HttpResponse& r, int horizon,
                     std::optional<int> hour, int minute, int second, const std::string& what) {
  auto next = rfc3339_seconds(c["nextRun"]);
  if (!next) api.ctx().fail(what + ": nextRun " + c["nextRun"].dump() + " is not RFC 3339", r);
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  // A registry's clock may differ a little from ours.
  if (*next < now - 300 || *next > now + horizon + 300) {
    api.ctx().fail(what + ": nextRun " + c["nextRun"].dump() + " is not the next firing", r);
  }
  std::time_t t = static_cast<std::time_t>(*next);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_sec != second || tm.tm_min != minute || (hour && tm.tm_hour != *hour)) {
    api.ctx().fail(what + ": nextRun " + c["nextRun"].dump() +
                       " is not at the schedule's time (UTC, seconds first)",
                   r);
  }
}

void cron_crud(CaseContext& ctx) {
  JobsApi api(ctx);
  preserve_cron(api, kHarmless);
  const std::string schedule = "17 42 3 * * *";  // 03:42:17 UTC daily
  const json body = {{"action", kHarmless}, {"schedule", schedule}, {"retries", 0}};
  HttpResponse r = api.call("POST", "/api/v0/crons", body.dump());
  api.expect_status(r, {202}, "POST /api/v0/crons");
  json c = api.parse(r, "POST /api/v0/crons");
  expect_cron(api, c, r, "the created cron");
  if (c["action"] != kHarmless || c["schedule"] != schedule) {
    ctx.fail("the created cron's action/schedule are not what was posted", r);
  }
  expect_next_run(api, c, r, 86400, 3, 42, 17, "the created cron");
  const std::string path = std::string("/api/v0/crons/") + kHarmless;
  HttpResponse g = api.call("GET", path);
  api.expect_status(g, {200}, "GET " + path);
  json got = api.parse(g, "GET " + path);
  expect_cron(api, got, g, "GET " + path);
  if (got["schedule"] != schedule || got["action"] != kHarmless) {
    ctx.fail("GET " + path + " does not read back the posted schedule", g);
  }
  HttpResponse l = api.call("GET", "/api/v0/crons");
  api.expect_status(l, {200}, "GET /api/v0/crons");
  json all = api.parse(l, "GET /api/v0/crons");
  if (!all.is_object() || !all.contains("crons") || !all["crons"].is_array()) {
    ctx.fail("GET /api/v0/crons: not {\"crons\":[...]}", l);
  }
  bool found = false;
  for (const auto& x : all["crons"]) {
    found = found || (x.is_object() && x.value("action", "") == kHarmless &&
                      x.value("schedule", "") == schedule);
  }
  if (!found) ctx.fail("GET /api/v0/crons does not list the created cron", l);
  api.expect_status(api.call("DELETE", path), {204}, "DELETE " + path);
  api.expect_error(api.call("GET", path), 404, "GET of a deleted cron");
}

void cron_descriptor(CaseContext& ctx) {
  JobsApi api(ctx);
  preserve_cron(api, kHarmless);
  const json body = {{"action", kHarmless}, {"schedule", "@hourly"}};
  HttpResponse r = api.call("POST", "/api/v0/crons", body.dump());
  api.expect_status(r, {202}, "POST /api/v0/crons @hourly");
  json c = api.parse(r, "POST /api/v0/crons");
  expect_cron(api, c, r, "the @hourly cron");
  expect_next_run(api, c, r, 3600, std::nullopt, 0, 0, "the @hourly cron");
}

void cron_invalid(CaseContext& ctx) {
  JobsApi api(ctx);
  preserve_cron(api, kHarmless);
  HttpResponse before = api.call("GET", std::string("/api/v0/crons/") + kHarmless);
  for (const char* bad : {"61 * * * * *", "every tuesday", "0 0 25 * * *"}) {
    const json body = {{"action", kHarmless}, {"schedule", bad}};
    api.expect_error(api.call("POST", "/api/v0/crons", body.dump()), 400,
                     std::string("POST /api/v0/crons with schedule \"") + bad + "\"");
  }
  HttpResponse after = api.call("GET", std::string("/api/v0/crons/") + kHarmless);
  if (after.status != before.status || (after.status == 200 && after.body != before.body)) {
    ctx.fail("a refused schedule still changed the action's cron", after);
  }
}

// ---- workers ------------------------------------------------------------------------------

json workers(JobsApi& api, HttpResponse& r) {
  r = api.call("GET", "/api/v0/workers");
  api.expect_status(r, {200}, "GET /api/v0/workers");
  json j = api.parse(r, "GET /api/v0/workers");
  if (!j.is_object() || !j.contains("workers") || !j["workers"].is_array()) {
    api.ctx().fail("GET /api/v0/workers: not {\"workers\":[...]}", r);
  }
  for (const auto& w : j["workers"]) {
    for (const char* f : {"id", "status", "heartbeatExpiration"}) {
      api.expect_field(w, f, &json::is_string, "string", r, "a listed worker");
    }
    api.expect_field(w, "capacityMap", &json::is_object, "object", r, "a listed worker");
  }
  return j["workers"];
}

void workers_list(CaseContext& ctx) {
  JobsApi api(ctx);
  json done = api.run_harmless();
  HttpResponse r;
  json list = workers(api, r);
  bool found = false;
  for (const auto& w : list) found = found || w["id"] == done["workerID"];
  if (!found) {
    ctx.fail("the worker " + done["workerID"].dump() + " that ran a job is not listed", r);
  }
  for (const auto& w : list) {
    if (w["id"] == done["workerID"] &&
        !rfc3339_seconds(w["heartbeatExpiration"].get<std::string>())) {
      ctx.fail("heartbeatExpiration " + w["heartbeatExpiration"].dump() + " is not RFC 3339", r);
    }
  }
}

void worker_capacity(CaseContext& ctx) {
  JobsApi api(ctx);
  json done = api.run_harmless();
  HttpResponse r;
  json original;
  for (const auto& w : workers(api, r)) {
    if (w["id"] == done["workerID"]) original = w["capacityMap"];
  }
  if (original.is_null()) ctx.blocked("finding the worker that ran a job", r);
  const std::string path =
      "/api/v0/workers/" + url_encode(done["workerID"].get<std::string>()) + "/capacity";
  CaseContext* c = &ctx;
  const std::string auth = api.basic_auth();
  ctx.on_cleanup([c, auth, path, original] {
    c->http().send({.method = "POST",
                    .target = path,
                    .headers = {{"Authorization", auth}, {"Content-Type", "application/json"}},
                    .body = json{{"capacityMap", original}}.dump(),
                    .authenticate = false});
  });
  json changed = original;
  changed["dtrcProbe"] = 7;
  HttpResponse p = api.call("POST", path, json{{"capacityMap", changed}}.dump());
  api.expect_status(p, {202}, "POST " + path);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past a heartbeat
  HttpResponse g;
  for (const auto& w : workers(api, g)) {
    if (w["id"] == done["workerID"] && w["capacityMap"] != changed) {
      ctx.fail("the worker's capacityMap is " + w["capacityMap"].dump() + " after setting " +
                   changed.dump(),
               g);
    }
  }
  HttpResponse back = api.call("POST", path, json{{"capacityMap", original}}.dump());
  api.expect_status(back, {202}, "POST " + path + " (restoring it)");
}

// ---- garbage collection (--destructive) ---------------------------------------------------

void gc_unreferenced(CaseContext& ctx) {
  JobsApi api(ctx);
  Oci& oci = api.oci();
  const std::string repo = ctx.new_repo();
  CaseContext* c = &ctx;
  const std::string auth = api.basic_auth();
  ctx.on_cleanup([c, auth, repo] {
    c->http().send({.method = "DELETE",
                    .target = "/api/v0/repositories/" + repo,
                    .headers = {{"Authorization", auth}},
                    .authenticate = false});
  });
  Oci::Image gone = oci.push_image(repo, "gone", kDockerManifest);
  HttpResponse d = oci.del(Oci::manifest_path(repo, gone.manifest.digest));
  if (d.status != 202) ctx.blocked("DELETE the first image's manifest", d);
  Oci::Image kept = oci.push_image(repo, "kept", kDockerManifest);
  // `grace` is the reference's minimum age of what it sweeps; a registry without one
  // ignores the parameter.
  json job = api.submit({{"action", "onlinegc"}, {"parameters", {{"grace", "0s"}}}});
  json end = api.wait_final(job["id"]);
  HttpResponse g;
  api.get_job(job["id"], g);
  if (end["status"] != "done") ctx.fail("onlinegc ended " + end["status"].dump(), g);
  for (const auto& [what, digest] :
       {std::pair<std::string, std::string>{"layer", gone.layer.digest},
        {"config", gone.config.digest}}) {
    HttpResponse h = oci.head(Oci::blob_path(repo, digest));
    if (h.status != 404) {
      ctx.fail("after onlinegc the deleted image's " + what + " blob " + digest +
                   " is still there (HEAD " + std::to_string(h.status) + ", not 404)",
               h);
    }
  }
  HttpResponse m = oci.get(Oci::manifest_path(repo, "kept"), {{"Accept", kDockerManifest}});
  if (m.status != 200 || m.body != kept.manifest.body) {
    ctx.fail("after onlinegc the tagged manifest does not pull byte for byte", m);
  }
  for (const auto& [what, digest, bytes] : {std::tuple<std::string, std::string, std::string>{
                                                "layer", kept.layer.digest, kept.layer_bytes},
                                            {"config", kept.config.digest, kept.config_bytes}}) {
    HttpResponse b = oci.get(Oci::blob_path(repo, digest));
    if (b.status != 200 || b.body != bytes) {
      ctx.fail("after onlinegc the tagged image's " + what + " blob " + digest +
                   " does not pull byte for byte",
               b);
    }
  }
}

#define CASE(ID, LEVEL, FN, ORDER, CLAUSE) \
  DTRC_CASE({.group = "jobs",              \
             .id = ID,                     \
             .clause = CLAUSE,             \
             .level = Level::LEVEL,        \
             .fn = FN,                     \
             .profiles = kProfileDtr,      \
             .order = ORDER})

CASE("job-submit", kMust, job_submit, 0,
     "inventory 2.8/4.1: POST /api/v0/jobs {action,...} -> 202 Job {id, retryFromID, workerID, "
     "status, scheduledAt, lastUpdated, action, retriesLeft, retriesTotal, capacityMap, "
     "parameters, deadline, stopTimeout}, status waiting; GET /api/v0/jobs/{id} returns it");
CASE("job-lifecycle", kMust, job_lifecycle, 1,
     "inventory 4.1/4.2: a worker claims the job (workerID) and runs it to a final status: "
     "onlinegc_joblogs ends done");
CASE("job-logs", kMust, job_logs, 2,
     "inventory 2.8/4.5: GET /api/v0/jobs/{id}/logs?offset=&limit= -> [{data, lineNum}] "
     "(2.1: {jobLogs:[{data}]})");
CASE("job-not-found", kMust, job_not_found, 3,
     "inventory 2.8/2.0: GET of a missing job is 404 in {\"errors\":[{\"code\",\"message\"}]}");
CASE("job-delete", kMust, job_delete, 4,
     "inventory 2.8: DELETE /api/v0/jobs/{id} -> 204, then GET is 404");
CASE("jobs-list", kMust, jobs_list, 5,
     "inventory 2.8/2.0: GET /api/v0/jobs?action=&running=&start=&limit= -> {jobs:[Job]} newest "
     "first, filtered by action and running, paged by start (offset) and limit");
CASE("job-cancel", kMust, job_cancel, 6,
     "inventory 2.8/4.1/4.3: POST /api/v0/jobs/{id}/cancel -> 204 stops a running job (the "
     "`sleep` test action), which ends canceled");
CASE("cron-crud", kMust, cron_crud, 10,
     "inventory 2.8/4.4: POST /api/v0/crons with a six-field schedule (seconds first, UTC) -> "
     "202 Cron {id, action, schedule, retries, capacityMap, parameters, deadline, stopTimeout, "
     "nextRun}; GET /api/v0/crons/{action}, GET /api/v0/crons list it; DELETE -> 204, then 404");
CASE("cron-descriptor", kMust, cron_descriptor, 11,
     "inventory 4.4: a schedule may be a descriptor such as @hourly: nextRun on the hour");
CASE("cron-invalid-schedule", kMust, cron_invalid, 12,
     "inventory 4.4/2.0: an invalid schedule is refused 400 in {\"errors\":[{\"code\","
     "\"message\"}]} and changes nothing");
CASE("workers-list", kMust, workers_list, 20,
     "inventory 2.8/4.1: GET /api/v0/workers -> {workers:[{id, status, capacityMap, "
     "heartbeatExpiration}]}, naming the worker whose ID a job's workerID carries");
CASE("worker-capacity", kMust, worker_capacity, 21,
     "inventory 2.8/4.1: POST /api/v0/workers/{id}/capacity {capacityMap} -> 202, and the "
     "worker then advertises that capacityMap");

DTRC_CASE({.group = "jobs",
           .id = "gc-unreferenced",
           .clause = "inventory 2.14/4.3 and issue 8: onlinegc deletes the blobs of a deleted "
                     "manifest (HEAD 404) and keeps every blob of a tagged image (pulls byte "
                     "for byte)",
           .level = Level::kMust,
           .fn = gc_unreferenced,
           .profiles = kProfileDtr,
           .destructive = true,
           .order = 30});

}  // namespace
}  // namespace dtrc
