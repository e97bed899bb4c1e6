// The jobrunner and online garbage collection: atomic claims, cancel, deadlines, retries,
// crons, dead workers, the jobs API, and GC that never loses what a tag needs, even with
// pushes and deletes running beside it.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "jobs/gc.h"
#include "jobs/job_store.h"
#include "jobs/runner.h"
#include "tests/test_registry.h"

namespace dtr::testing {
namespace {

using nlohmann::json;

std::unique_ptr<meta::SqliteDb> OpenDb(const TempDir& dir) {
  return std::move(meta::SqliteDb::Open(dir.path() + "/jobs.db").value());
}

bool WaitFor(const std::function<bool()>& cond, int ms = 10000) {
  for (int i = 0; i < ms / 20; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

std::string StatusOf(jobs::JobStore& store, const std::string& id) {
  auto j = store.Get(id);
  return j.ok() && j->has_value() ? (*j)->status : "<missing>";
}

TEST(JobRunnerTest, TwoWorkersNeverRunOneJobTwice) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto store = std::move(jobs::JobStore::Open(db.get()).value());
  std::mutex mu;
  std::multiset<std::string> ran;
  auto count = [&](jobs::JobContext& ctx) -> Status {
    std::lock_guard lock(mu);
    ran.insert(ctx.job().id);
    return Status::Ok();
  };
  jobs::RunnerOptions a{"worker-a", 3, 10000, 20, {}, {}}, b{"worker-b", 3, 10000, 20, {}, {}};
  jobs::Runner ra(store.get(), a), rb(store.get(), b);
  ra.Register("count", count);
  rb.Register("count", count);
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    jobs::Job j;
    j.action = "count";
    ids.push_back(ra.Submit(j)->id);
  }
  ra.Start();
  rb.Start();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return ran.size() >= 60;
  }));
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& id : ids) {
      if (StatusOf(*store, id) != "done") return false;
    }
    return true;
  }));
  ra.Stop();
  rb.Stop();
  EXPECT_EQ(ran.size(), 60u);
  for (const auto& id : ids) EXPECT_EQ(ran.count(id), 1u) << id;
}

TEST(JobRunnerTest, CancelDeadlineRetriesAndLogs) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto store = std::move(jobs::JobStore::Open(db.get()).value());
  jobs::Runner r(store.get(), jobs::RunnerOptions{"w", 4, 10000, 20, {}, {}});
  std::atomic<int> attempts{0};
  r.Register("wait", [](jobs::JobContext& ctx) -> Status {
    ctx.Log("waiting");
    while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return Status::Ok();
  });
  r.Register("flaky", [&](jobs::JobContext& ctx) -> Status {
    ctx.Log("attempt " + std::to_string(++attempts));
    return attempts < 3 ? Status(Code::kIOError, "transient") : Status::Ok();
  });
  r.Start();
  jobs::Job w;
  w.action = "wait";
  std::string cancel_id = r.Submit(w)->id;
  jobs::Job d = w;
  d.deadline = "300ms";
  std::string deadline_id = r.Submit(d)->id;
  jobs::Job f;
  f.action = "flaky";
  f.retries_left = 3;
  r.Submit(f);
  ASSERT_TRUE(WaitFor([&] { return StatusOf(*store, cancel_id) == "running"; }));
  ASSERT_TRUE(store->RequestCancel(cancel_id).value());
  EXPECT_TRUE(WaitFor([&] { return StatusOf(*store, cancel_id) == "canceled"; }));
  EXPECT_TRUE(WaitFor([&] { return StatusOf(*store, deadline_id) == "errored"; }));
  EXPECT_TRUE(WaitFor([&] { return attempts.load() == 3; }, 20000));
  auto logs = store->Logs(deadline_id, 0, 0);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);
  EXPECT_EQ((*logs)[0].second, "waiting");
  EXPECT_EQ((*logs)[1].second, "deadline exceeded; stopped");
  // The third attempt is a retry of a retry of the first.
  jobs::JobFilter all;
  all.action = "flaky";
  all.limit = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto jobs = store->List(all);
    return jobs.ok() && jobs->size() == 3 && (*jobs)[0].status == "done";
  }));
  auto jobs = store->List(all);
  EXPECT_FALSE((*jobs)[0].retry_from_id.empty());
  EXPECT_EQ((*jobs)[0].retries_left, 1);
  r.Stop();
  EXPECT_FALSE(r.Submit(jobs::Job{}).ok());  // no action
}

// `dtr registry` claims only online GC and `dtr jobrunner` everything else: a worker never
// claims a job for an action it leaves to others, and its capacity map says what it runs.
TEST(JobRunnerTest, WorkersClaimOnlyTheActionsTheyRun) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto store = std::move(jobs::JobStore::Open(db.get()).value());
  std::mutex mu;
  std::map<std::string, std::string> ran_by;  // job id -> worker
  auto note = [&](const std::string& worker) {
    return [&, worker](jobs::JobContext& ctx) -> Status {
      std::lock_guard lock(mu);
      ran_by[ctx.job().id] = worker;
      return Status::Ok();
    };
  };
  jobs::RunnerOptions gc_only{"gc-worker", 2, 10000, 20, {"gc"}, {}};
  jobs::RunnerOptions rest{"rest-worker", 2, 10000, 20, {}, {"gc"}};
  jobs::Runner g(store.get(), gc_only), r(store.get(), rest);
  for (jobs::Runner* runner : {&g, &r}) {
    runner->Register("gc", note(runner == &g ? "gc-worker" : "rest-worker"));
    runner->Register("webhook", note(runner == &g ? "gc-worker" : "rest-worker"));
  }
  std::vector<std::pair<std::string, std::string>> jobs_and_action;
  for (int i = 0; i < 20; ++i) {
    jobs::Job j;
    j.action = i % 2 ? "gc" : "webhook";
    jobs_and_action.push_back({g.Submit(j)->id, j.action});
  }
  // Alone, the GC worker leaves the webhook jobs waiting.
  g.Start();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return ran_by.size() == 10;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (const auto& [id, action] : jobs_and_action) {
    if (action == "webhook") {
      EXPECT_EQ(StatusOf(*store, id), "waiting") << id;
    }
  }
  r.Start();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return ran_by.size() == 20;
  }));
  g.Stop();
  r.Stop();
  for (const auto& [id, action] : jobs_and_action) {
    EXPECT_EQ(ran_by[id], action == "gc" ? "gc-worker" : "rest-worker") << id;
  }
  auto workers = store->ListWorkers();
  ASSERT_TRUE(workers.ok());
  std::map<std::string, std::string> capacity;
  for (const auto& w : *workers) capacity[w.id] = w.capacity_map;
  EXPECT_EQ(capacity["gc-worker"], R"({"gc":2})");
  EXPECT_EQ(capacity["rest-worker"], R"({"webhook":2})");
}

TEST(JobRunnerTest, CronsFireOnceAcrossWorkers) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto store = std::move(jobs::JobStore::Open(db.get()).value());
  std::atomic<int> fired{0};
  auto tick = [&](jobs::JobContext&) -> Status {
    ++fired;
    return Status::Ok();
  };
  jobs::Runner a(store.get(), jobs::RunnerOptions{"a", 2, 10000, 20, {}, {}});
  jobs::Runner b(store.get(), jobs::RunnerOptions{"b", 2, 10000, 20, {}, {}});
  a.Register("tick", tick);
  b.Register("tick", tick);
  jobs::Cron c;
  c.action = "tick";
  c.schedule = "* * * * * *";  // every second
  c.next_run = jobs::NowMs();
  ASSERT_TRUE(store->PutCron(&c).ok());
  a.Start();
  b.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  a.Stop();
  b.Stop();
  // About one firing per second, never doubled by the second worker.
  EXPECT_GE(fired.load(), 3);
  EXPECT_LE(fired.load(), 5);
}

TEST(JobRunnerTest, DeadWorkersAreDetectedAndTheirJobsRetried) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto store = std::move(jobs::JobStore::Open(db.get()).value());
  // A worker that claimed a job and then vanished.
  jobs::Job j;
  j.action = "noop";
  j.retries_left = 1;
  j.retries_total = 1;
  ASSERT_TRUE(store->Insert(&j).ok());
  ASSERT_TRUE(store->Heartbeat({"ghost", "running", "{}", jobs::NowMs() - 1}).ok());
  auto claimed = store->Claim("ghost", jobs::NowMs());
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  std::atomic<int> ran{0};
  jobs::Runner live(store.get(), jobs::RunnerOptions{"live", 2, 10000, 20, {}, {}});
  live.Register("noop", [&](jobs::JobContext&) -> Status {
    ++ran;
    return Status::Ok();
  });
  live.Start();
  EXPECT_TRUE(WaitFor([&] { return StatusOf(*store, j.id) == "worker_dead"; }));
  EXPECT_TRUE(WaitFor([&] { return ran.load() == 1; }));
  live.Stop();
  auto workers = store->ListWorkers();
  ASSERT_TRUE(workers.ok());
  bool ghost_dead = false;
  for (const auto& w : *workers) ghost_dead |= w.id == "ghost" && w.status == "dead";
  EXPECT_TRUE(ghost_dead);
}

TEST(JobsApiTest, SubmitWatchCancelAndCrons) {
  TestRegistry reg;
  reg.app().runner().Start();  // App::Start would; the in-process registry has no socket
  auto r = reg.Do("POST", "/api/v0/jobs", R"({"action":"sleep","parameters":{"seconds":30}})");
  ASSERT_EQ(r.status, 202) << r.body;
  std::string id = json::parse(r.body)["id"];
  ASSERT_TRUE(WaitFor([&] {
    return json::parse(reg.Do("GET", "/api/v0/jobs/" + id).body)["status"] == "running";
  }));
  EXPECT_EQ(reg.Do("POST", "/api/v0/jobs/" + id + "/cancel").status, 204);
  EXPECT_TRUE(WaitFor([&] {
    return json::parse(reg.Do("GET", "/api/v0/jobs/" + id).body)["status"] == "canceled";
  }));
  auto list = json::parse(reg.Do("GET", "/api/v0/jobs?action=sleep").body);
  EXPECT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(reg.Do("POST", "/api/v0/jobs", R"({"action":"nope"})").status, 400);
  EXPECT_EQ(reg.Do("POST", "/api/v0/jobs", "{broken").status, 400);
  EXPECT_EQ(reg.Do("GET", "/api/v0/jobs/nope").status, 404);
  EXPECT_EQ(reg.Do("GET", "/api/v0/jobs?limit=0").status, 400);  // not "no limit"
  EXPECT_EQ(reg.Do("GET", "/api/v0/jobs?limit=1001").status, 400);
  EXPECT_EQ(json::parse(reg.Do("GET", "/api/v0/jobs?limit=1").body)["jobs"].size(), 1u);
  auto cron = reg.Do(
      "POST", "/api/v0/crons",
      R"({"action":"onlinegc","schedule":"0 0 1 * * 0","retries":0,"deadline":"","stopTimeout":"30s"})");
  ASSERT_EQ(cron.status, 202) << cron.body;
  EXPECT_FALSE(json::parse(cron.body)["nextRun"].get<std::string>().empty());
  EXPECT_EQ(reg.Do("GET", "/api/v0/crons/onlinegc").status, 200);
  EXPECT_EQ(reg.Do("POST", "/api/v0/crons", R"({"action":"onlinegc","schedule":"* * *"})").status,
            400);
  EXPECT_EQ(reg.Do("DELETE", "/api/v0/crons/onlinegc").status, 204);
  EXPECT_EQ(reg.Do("GET", "/api/v0/crons/onlinegc").status, 404);
  auto workers = json::parse(reg.Do("GET", "/api/v0/workers").body);
  ASSERT_TRUE(WaitFor(
      [&] { return !json::parse(reg.Do("GET", "/api/v0/workers").body)["workers"].empty(); }));
  auto status = json::parse(reg.Do("GET", "/api/v0/meta/cluster_status").body);
  EXPECT_TRUE(status.contains("gc_lock_holder"));
  // Capacity is whole slots per action.
  std::string worker = json::parse(reg.Do("GET", "/api/v0/workers").body)["workers"][0]["id"];
  for (const char* bad : {R"({"capacityMap":{"sleep":"2"}})", R"({"capacityMap":{"sleep":-1}})",
                          R"({"capacityMap":{"sleep":1.5}})"}) {
    EXPECT_EQ(reg.Do("POST", "/api/v0/workers/" + worker + "/capacity", bad).status, 400) << bad;
  }
  EXPECT_EQ(reg.Do("POST", "/api/v0/workers/" + worker + "/capacity",
                   R"({"capacityMap":{"sleep":3,"onlinegc":0}})")
                .status,
            202);
  EXPECT_EQ(
      reg.Do("POST", "/api/v0/action_configs", R"({"action":"sleep","parameters":{"seconds":1}})")
          .status,
      202);
  EXPECT_EQ(
      json::parse(reg.Do("GET", "/api/v0/action_configs/sleep").body)["parameters"]["seconds"], 1);
}

// A field of the wrong type is the caller's mistake: 400 naming the field, nothing stored
// (these answered 500 with a JSON library exception before).
TEST(JobsApiTest, FieldsOfTheWrongTypeAreNamedAndNothingIsStored) {
  TestRegistry reg;
  auto listed = [&] {
    return reg.Do("GET", "/api/v0/jobs").body + reg.Do("GET", "/api/v0/crons").body +
           reg.Do("GET", "/api/v0/action_configs").body;
  };
  const std::string before = listed();
  struct Case {
    const char* target;
    const char* body;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {"/api/v0/jobs", R"({"action":5})", "action"},
           {"/api/v0/jobs", R"({"action":"sleep","scheduledAt":5})", "scheduledAt"},
           {"/api/v0/jobs", R"({"action":"sleep","retries":"2"})", "retries"},
           {"/api/v0/jobs", R"({"action":"sleep","retries":1.5})", "retries"},
           {"/api/v0/jobs", R"({"action":"sleep","deadline":30})", "deadline"},
           {"/api/v0/jobs", R"({"action":"sleep","stopTimeout":[]})", "stopTimeout"},
           {"/api/v0/jobs", R"({"action":"sleep","parameters":"seconds=1"})", "parameters"},
           {"/api/v0/jobs", R"({"action":"sleep","capacityMap":[1]})", "capacityMap"},
           {"/api/v0/crons", R"({"action":"onlinegc","schedule":5})", "schedule"},
           {"/api/v0/crons", R"({"action":{},"schedule":"0 0 1 * * 0"})", "action"},
           {"/api/v0/action_configs", R"({"action":5,"parameters":{}})", "action"},
       }) {
    auto r = reg.Do("POST", c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["errors"][0]["code"], "INVALID_PARAMETERS") << r.body;
    EXPECT_NE(j["errors"][0]["message"].get<std::string>().find(std::string(c.field) + " must be"),
              std::string::npos)
        << r.body;
  }
  EXPECT_EQ(listed(), before);
  // Null means absent, as elsewhere in the API.
  auto ok = reg.Do("POST", "/api/v0/jobs", R"({"action":"sleep","deadline":null,"retries":null})");
  EXPECT_EQ(ok.status, 202) << ok.body;
  // A cron or action config has no sub-resources.
  ASSERT_EQ(
      reg.Do("POST", "/api/v0/crons", R"({"action":"onlinegc","schedule":"0 0 1 * * 0"})").status,
      202);
  EXPECT_EQ(reg.Do("GET", "/api/v0/crons/onlinegc").status, 200);
  EXPECT_EQ(reg.Do("GET", "/api/v0/crons/onlinegc/extra").status, 404);
  EXPECT_EQ(reg.Do("GET", "/api/v0/action_configs/sleep/extra").status, 404);
}

// A job parameter of the wrong type fails the job with a log line naming it (the JSON
// library's exception text before, and a GC left its lock holder set).
TEST(JobsApiTest, JobParametersOfTheWrongTypeFailTheJobNamingThem) {
  TestRegistry reg;
  reg.app().runner().Start();
  struct Case {
    const char* body;
    const char* line;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"action":"sleep","parameters":{"seconds":"1"}})",
            "parameter seconds must be an integer"},
           {R"({"action":"onlinegc","parameters":{"dryRun":"yes"}})",
            "parameter dryRun must be true or false"},
           {R"({"action":"onlinegc","parameters":{"grace":60}})",
            "parameter grace must be a string"},
           {R"({"action":"onlinegc_joblogs","parameters":{"keep":[]}})",
            "parameter keep must be an integer"},
           {R"({"action":"tag_pruning","parameters":{"repository":{}}})",
            "parameter repository must be a string"},
       }) {
    auto r = reg.Do("POST", "/api/v0/jobs", c.body);
    ASSERT_EQ(r.status, 202) << r.body;
    std::string id = json::parse(r.body)["id"];
    ASSERT_TRUE(WaitFor([&] {
      return json::parse(reg.Do("GET", "/api/v0/jobs/" + id).body)["status"] == "errored";
    })) << c.body;
    std::string logs = reg.Do("GET", "/api/v0/jobs/" + id + "/logs").body;
    EXPECT_NE(logs.find(c.line), std::string::npos) << c.body << ": " << logs;
  }
  auto status = json::parse(reg.Do("GET", "/api/v0/meta/cluster_status").body);
  EXPECT_EQ(status["gc_lock_holder"], "");
}

TEST(JobsApiTest, OnlyAdminsManageJobs) {
  app::Settings s;
  s.auth = "token";
  TestRegistry reg(s);
  EXPECT_EQ(reg.Do("GET", "/api/v0/jobs").status, 401);
}

// ---- garbage collection ----

class GcTest : public ::testing::Test {
 protected:
  jobs::GcReport Gc(bool untagged = true, std::function<bool()> cancelled = {}) {
    jobs::GcOptions opt;
    opt.grace = std::chrono::seconds(0);
    opt.delete_untagged = untagged;
    opt.cancelled = std::move(cancelled);
    auto r = jobs::RunGarbageCollection(reg.app().registry(), opt);
    EXPECT_TRUE(r.ok() || r.status().message() == "canceled") << r.status().message();
    return r.ok() ? *r : jobs::GcReport{};
  }
  bool Pulls(const std::string& repo, const std::string& tag, const std::string& layer) {
    auto m = reg.Do("GET", "/v2/" + repo + "/manifests/" + tag);
    if (m.status != 200) return false;
    auto j = json::parse(m.body);
    for (const auto& l : j["layers"]) {
      auto b = reg.Do("GET", "/v2/" + repo + "/blobs/" + l["digest"].get<std::string>());
      if (b.status != 200 || DigestOf(b.body) != l["digest"]) return false;
      if (!layer.empty() && b.body != layer) return false;
    }
    auto c = reg.Do("GET", "/v2/" + repo + "/blobs/" + j["config"]["digest"].get<std::string>());
    return c.status == 200;
  }
  TestRegistry reg;
};

TEST_F(GcTest, SweepsWhatNoTagReaches) {
  reg.PushImage("gc/a", "keep", "kept layer");
  std::string gone = reg.PushImage("gc/a", "drop", "dropped layer");
  reg.PushBlob("gc/a", "orphan blob");
  ASSERT_EQ(reg.Do("DELETE", "/v2/gc/a/manifests/drop").status, 202);
  auto before = Gc();
  EXPECT_EQ(before.manifests_deleted, 1u);
  EXPECT_GE(before.blobs_deleted, 3u);  // the dropped layer, its manifest, the orphan
  EXPECT_TRUE(Pulls("gc/a", "keep", "kept layer"));
  EXPECT_EQ(reg.Do("GET", "/v2/gc/a/manifests/" + DigestOf(gone)).status, 404);
  EXPECT_EQ(reg.Do("HEAD", "/v2/gc/a/blobs/" + DigestOf("dropped layer")).status, 404);
  EXPECT_EQ(reg.Do("HEAD", "/v2/gc/a/blobs/" + DigestOf("orphan blob")).status, 404);
  // A second run finds nothing more.
  auto again = Gc();
  EXPECT_EQ(again.blobs_deleted, 0u);
  EXPECT_EQ(again.manifests_deleted, 0u);
}

TEST_F(GcTest, KeepsIndexChildrenReferrersAndSharedBlobs) {
  std::string child = reg.PushImage("gc/idx", "tmp", "child layer");
  reg.Do("DELETE", "/v2/gc/idx/manifests/tmp");  // untag the child...
  reg.PushManifest("gc/idx", DigestOf(child), "application/vnd.oci.image.manifest.v1+json", child);
  std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      DigestOf(child) + R"(","size":)" + std::to_string(child.size()) + "}]}";
  ASSERT_EQ(
      reg.PushManifest("gc/idx", "multi", "application/vnd.oci.image.index.v1+json", index).status,
      201);
  // ... which stays reachable through the tagged index. A referrer of it too.
  std::string config = "{}";
  reg.PushBlob("gc/idx", config);
  std::string sig = ImageManifest(
      config, {},
      R"(,"artifactType":"application/x-sig","subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
          DigestOf(child) + R"(","size":1})");
  ASSERT_EQ(
      reg.PushManifest("gc/idx", DigestOf(sig), "application/vnd.oci.image.manifest.v1+json", sig)
          .status,
      201);
  // The same layer in another repository, whose only tag is deleted.
  reg.PushImage("gc/other", "x", "child layer");
  reg.Do("DELETE", "/v2/gc/other/manifests/x");
  Gc();
  EXPECT_TRUE(Pulls("gc/idx", DigestOf(child), "child layer"));
  EXPECT_EQ(reg.Do("GET", "/v2/gc/idx/manifests/" + DigestOf(sig)).status, 200);
  EXPECT_EQ(reg.Do("GET", "/v2/gc/idx/manifests/multi").status, 200);
  // gc/other lost its link, but the shared bytes stay for gc/idx.
  EXPECT_EQ(reg.Do("HEAD", "/v2/gc/other/blobs/" + DigestOf("child layer")).status, 404);
  EXPECT_EQ(reg.Do("HEAD", "/v2/gc/idx/blobs/" + DigestOf("child layer")).status, 200);
}

TEST_F(GcTest, BlobsOnlyModeKeepsUntaggedManifests) {
  std::string m = reg.PushImage("gc/b", "t", "layer b");
  reg.Do("DELETE", "/v2/gc/b/manifests/t");
  reg.PushManifest("gc/b", DigestOf(m), "application/vnd.oci.image.manifest.v1+json", m);
  Gc(/*untagged=*/false);
  EXPECT_TRUE(Pulls("gc/b", DigestOf(m), "layer b"));
}

TEST_F(GcTest, InterruptedGcLosesNothingReferenced) {
  for (int i = 0; i < 20; ++i) {
    reg.PushImage("gc/k", "t" + std::to_string(i), "layer " + std::to_string(i));
    reg.PushBlob("gc/k", "garbage " + std::to_string(i));
  }
  for (int i = 0; i < 20; i += 2) reg.Do("DELETE", "/v2/gc/k/manifests/t" + std::to_string(i));
  std::atomic<int> checks{0};
  Gc(true, [&] { return ++checks > 15; });  // "killed" midway through the sweep
  for (int i = 1; i < 20; i += 2) {
    EXPECT_TRUE(Pulls("gc/k", "t" + std::to_string(i), "layer " + std::to_string(i))) << i;
  }
  Gc();  // a later run finishes the job
  for (int i = 1; i < 20; i += 2) EXPECT_TRUE(Pulls("gc/k", "t" + std::to_string(i), ""));
  for (int i = 0; i < 20; i += 2) {
    EXPECT_EQ(reg.Do("HEAD", "/v2/gc/k/blobs/" + DigestOf("layer " + std::to_string(i))).status,
              404);
  }
}

TEST_F(GcTest, ConcurrentPushesDeletesAndGcNeverLoseATaggedImage) {
  // Writers push images that share a small pool of layers (so GC keeps finding layers whose
  // last reference was just deleted while another push is about to reuse them) and delete
  // tags; GC runs over and over with no grace period. At the end every tag pulls.
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < 60 && !stop; ++i) {
        std::string repo = "stress/r" + std::to_string(w % 2);
        std::string layer = "shared layer " + std::to_string(rng() % 6);
        std::string tag = "w" + std::to_string(w) + "-" + std::to_string(i % 8);
        // As clients do: HEAD, upload when missing, then the manifest.
        if (reg.Do("HEAD", "/v2/" + repo + "/blobs/" + DigestOf(layer)).status != 200) {
          reg.PushBlob(repo, layer);
        }
        std::string config = R"({"w":)" + std::to_string(w) + R"(,"i":)" + std::to_string(i) + "}";
        reg.PushBlob(repo, config);
        std::string m = ImageManifest(config, {layer});
        auto put = reg.PushManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", m);
        if (put.status != 201) {
          // A blob was collected between our HEAD and PUT: push it again, as clients do.
          reg.PushBlob(repo, layer);
          reg.PushBlob(repo, config);
          put = reg.PushManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", m);
        }
        if (rng() % 3 == 0) reg.Do("DELETE", "/v2/" + repo + "/manifests/" + tag);
      }
    });
  }
  std::thread gc([&] {
    while (!stop) Gc();
  });
  for (auto& t : writers) t.join();
  stop = true;
  gc.join();
  Gc();
  int tags = 0;
  for (const char* repo : {"stress/r0", "stress/r1"}) {
    auto list = json::parse(reg.Do("GET", std::string("/v2/") + repo + "/tags/list").body);
    for (const auto& t : list["tags"]) {
      ++tags;
      EXPECT_TRUE(Pulls(repo, t, "")) << repo << ":" << t;
    }
  }
  EXPECT_GT(tags, 5);
}

}  // namespace
}  // namespace dtr::testing
