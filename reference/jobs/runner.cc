#include "jobs/runner.h"

#include <algorithm>

#include "app/log.h"
#include "jobs/cron.h"
#include "jobs/json_fields.h"

namespace dtr::jobs {

struct Runner::Running {
  std::unique_ptr<JobContext> ctx;
  std::thread thread;
  std::atomic<bool> finished{false};
  int64_t deadline_ms = 0;  // absolute; 0: none
};

Result<int64_t> ParseDurationMs(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j - i > 12) return InvalidArgument("invalid duration '" + text + "'");
    int64_t n = std::stoll(text.substr(i, j - i));
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string unit = text.substr(j, k - j);
    if (unit == "h") {
      total += n * 3600000;
    } else if (unit == "m") {
      total += n * 60000;
    } else if (unit == "s") {
      total += n * 1000;
    } else if (unit == "ms") {
      total += n;
    } else {
      return InvalidArgument("duration '" + text + "' needs a unit: h, m, s or ms");
    }
    i = k;
  }
  return total;
}

JobContext::JobContext(JobStore* store, Job job) : store_(store), job_(std::move(job)) {
  params_ = nlohmann::json::parse(job_.parameters, nullptr, false);
  if (!params_.is_object()) params_ = nlohmann::json::object();
}

void JobContext::Log(const std::string& line) { store_->AppendLog(job_.id, line); }

namespace {

// A parameter's value, or its type error as the job's failure.
template <class T>
Result<T> Param(const nlohmann::json& params, const char* name, T value) {
  if (Status s = ReadOptional(params, name, &value); !s.ok()) {
    return InvalidArgument("parameter " + s.message());
  }
  return value;
}

}  // namespace

Result<bool> JobContext::BoolParam(const char* name, bool def) const {
  return Param(params_, name, def);
}

Result<int64_t> JobContext::IntParam(const char* name, int64_t def) const {
  return Param(params_, name, def);
}

Result<std::string> JobContext::StringParam(const char* name, std::string def) const {
  return Param(params_, name, std::move(def));
}

Runner::Runner(JobStore* store, RunnerOptions options) : store_(store), options_(options) {}

Runner::~Runner() { Stop(); }

void Runner::Register(const std::string& action, Action fn) { actions_[action] = std::move(fn); }

bool Runner::Known(const std::string& action) const { return actions_.count(action) > 0; }

Result<Job> Runner::Submit(Job job) {
  if (!Known(job.action)) {
    return InvalidArgument("unknown job action '" + job.action + "'");
  }
  if (!job.deadline.empty() && !ParseDurationMs(job.deadline).ok()) {
    return InvalidArgument("deadline: " + ParseDurationMs(job.deadline).status().message());
  }
  auto defaults = store_->GetActionConfig(job.action);
  if (defaults.ok() && defaults->has_value() &&
      (job.parameters.empty() || job.parameters == "{}")) {
    job.parameters = **defaults;
  }
  job.status = status::kWaiting;
  job.retries_total = job.retries_left;
  if (Status s = store_->Insert(&job); !s.ok()) return s;
  cv_.notify_all();
  return job;
}

void Runner::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  loop_ = std::thread([this] { Loop(); });
}

void Runner::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    for (auto& [id, r] : running_) r->ctx->Cancel();
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  for (auto& [id, r] : running_) {
    if (r->thread.joinable()) r->thread.join();
  }
  running_.clear();
  store_->Heartbeat(Worker{options_.worker_id, "shutdown", "{}", NowMs()});
}

void Runner::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [&] { return stopping_; });
      if (stopping_) return;
    }
    try {
      Tick();
    } catch (const std::exception& e) {
      log::Error(std::string("jobrunner: ") + e.what());
    }
  }
}

std::vector<std::string> Runner::Claimable() const {
  std::vector<std::string> out;
  for (const auto& [action, fn] : actions_) {
    bool claimed = options_.claim.empty() || std::find(options_.claim.begin(), options_.claim.end(),
                                                       action) != options_.claim.end();
    bool left =
        std::find(options_.leave.begin(), options_.leave.end(), action) != options_.leave.end();
    if (claimed && !left) out.push_back(action);
  }
  return out;
}

void Runner::Tick() {
  int64_t now = NowMs();
  if (now - last_heartbeat_ >= 1000) {
    last_heartbeat_ = now;
    // The capacity map a new worker row starts with: what this worker claims, and how many
    // at once (an administrator's /api/v0/workers change is kept).
    nlohmann::json capacity = nlohmann::json::object();
    for (const auto& action : Claimable()) capacity[action] = options_.slots;
    store_->Heartbeat(
        Worker{options_.worker_id, "running", capacity.dump(), now + options_.heartbeat_ttl_ms});
  }
  if (now - last_reap_ >= 2000) {
    last_reap_ = now;
    auto orphans = store_->ReapDeadWorkers(now);
    if (orphans.ok()) {
      for (const auto& j : *orphans) {
        log::Warn("jobrunner: worker " + j.worker_id + " died running job " + j.id);
        Retry(j);
      }
    }
  }
  FireCrons(now);
  std::lock_guard lock(mu_);
  // Reap finished threads; deliver cancel requests and deadlines.
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second->finished.load()) {
      it->second->thread.join();
      it = running_.erase(it);
    } else {
      if (it->second->deadline_ms && now > it->second->deadline_ms) it->second->ctx->Cancel();
      ++it;
    }
  }
  auto cancels = store_->ByStatus(status::kCancelRequest, options_.worker_id);
  if (cancels.ok()) {
    for (const auto& j : *cancels) {
      auto it = running_.find(j.id);
      if (it != running_.end()) {
        it->second->ctx->Cancel();
      } else {
        store_->Finish(j.id, status::kCanceled);  // not ours any more (e.g. after a restart)
      }
    }
  }
  std::vector<std::string> claimable = Claimable();  // never empty: Claim({}) takes any job
  while (!claimable.empty() && static_cast<int>(running_.size()) < options_.slots && !stopping_) {
    auto claimed = store_->Claim(options_.worker_id, now, claimable);
    if (!claimed.ok() || !claimed->has_value()) break;
    auto r = std::make_shared<Running>();
    r->ctx = std::make_unique<JobContext>(store_, **claimed);
    if (!(*claimed)->deadline.empty()) {
      auto d = ParseDurationMs((*claimed)->deadline);
      if (d.ok() && *d > 0) r->deadline_ms = now + *d;
    }
    running_[(*claimed)->id] = r;
    r->thread = std::thread([this, r] { Execute(r); });
  }
}

void Runner::FireCrons(int64_t now) {
  auto crons = store_->ListCrons();
  if (!crons.ok()) return;
  for (const auto& c : *crons) {
    if (c.next_run > now) continue;
    auto sched = CronSchedule::Parse(c.schedule);
    if (!sched.ok()) continue;
    int64_t next = sched->Next(now / 1000) * 1000;
    auto won = store_->AdvanceCron(c.action, c.next_run, next);
    if (!won.ok() || !*won) continue;  // another replica fired it
    Job j;
    j.action = c.action;
    j.parameters = c.parameters;
    j.capacity_map = c.capacity_map;
    j.retries_left = c.retries;
    j.deadline = c.deadline;
    j.stop_timeout = c.stop_timeout;
    auto submitted = Submit(j);
    if (!submitted.ok()) log::Warn("cron " + c.action + ": " + submitted.status().message());
  }
}

void Runner::Retry(const Job& failed) {
  if (failed.retries_left <= 0) return;
  Job j = failed;
  j.id.clear();
  j.retry_from_id = failed.id;
  j.worker_id.clear();
  j.retries_left = failed.retries_left - 1;
  j.status = status::kWaiting;
  int64_t attempt = failed.retries_total - failed.retries_left;
  j.scheduled_at = NowMs() + std::min<int64_t>(1000LL << std::min<int64_t>(attempt, 6), 60000);
  if (Status s = store_->Insert(&j); !s.ok()) log::Warn("retry not queued: " + s.message());
}

void Runner::Execute(std::shared_ptr<Running> r) {
  JobContext& ctx = *r->ctx;
  const Job& job = ctx.job();
  Status result;
  auto it = actions_.find(job.action);
  if (it == actions_.end()) {
    result = InvalidArgument("unknown action " + job.action);
  } else {
    try {
      result = it->second(ctx);
    } catch (const std::exception& e) {
      result = Status(Code::kInternal, e.what());
    }
  }
  std::string final_status;
  if (ctx.cancelled()) {
    bool deadline = r->deadline_ms && NowMs() > r->deadline_ms;
    ctx.Log(deadline ? "deadline exceeded; stopped" : "canceled");
    final_status = deadline ? status::kErrored : status::kCanceled;
  } else if (result.ok()) {
    final_status = status::kDone;
  } else {
    ctx.Log("error: " + result.message());
    final_status = status::kErrored;
  }
  store_->Finish(job.id, final_status);
  if (final_status == status::kErrored) Retry(job);
  r->finished.store(true);
  cv_.notify_all();
}

}  // namespace dtr::jobs
