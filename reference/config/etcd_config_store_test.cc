// The shared suite against real etcd 3.4, plus what only etcd has: members that fail. etcd is
// started by the test through ci/start-etcd (one member for EtcdSingle*, three for
// EtcdCluster*), each ctest test with its own; the members stop when the test process exits.
#include "config/etcd_config_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "config/config_store_suite.h"
#include "config/etcd_test_cluster.h"

namespace dtr::config {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::ChangeLog;
using testing::ConfigStoreSuite;
using testing::EtcdTestCluster;
using testing::StoreFactory;

// One cluster per shape for the whole process, started on first use.
Result<EtcdTestCluster*> Cluster(int members) {
  static std::map<int, std::unique_ptr<EtcdTestCluster>> clusters;
  static std::map<int, Status> failures;
  if (auto it = clusters.find(members); it != clusters.end()) return it->second.get();
  if (auto it = failures.find(members); it != failures.end()) return it->second;
  auto c = EtcdTestCluster::Start(members);
  if (!c.ok()) {
    failures[members] = c.status();
    return c.status();
  }
  return (clusters[members] = std::move(c.value())).get();
}

Result<std::unique_ptr<EtcdConfigStore>> StoreOn(const std::vector<std::string>& endpoints,
                                                 EtcdOptions options = {}) {
  options.endpoints = endpoints;
  return EtcdConfigStore::Open(std::move(options));
}

Result<std::unique_ptr<ConfigStore>> MakeSingle() {
  auto c = Cluster(1);
  if (!c.ok()) return c.status();
  auto s = StoreOn((*c)->endpoints());
  if (!s.ok()) return s.status();
  return std::unique_ptr<ConfigStore>(std::move(s.value()));
}

// The leader of the three is killed (SIGKILL) when this many stores have been made, so the
// second half of the suite runs on the two survivors, right through the election; the dead
// member stays first in the endpoint list when it was the first.
constexpr int kKillLeaderAtStore = 8;

Result<std::unique_ptr<ConfigStore>> MakeCluster() {
  static int made = 0;
  auto c = Cluster(3);
  if (!c.ok()) return c.status();
  if (++made == kKillLeaderAtStore) {
    auto leader = (*c)->Leader();
    if (!leader.ok()) return leader.status();
    if (Status s = (*c)->Kill(*leader); !s.ok()) return s;
    std::fprintf(stderr, "[etcd cluster] killed the leader, member %d\n", *leader);
  }
  auto s = StoreOn((*c)->endpoints());
  if (!s.ok()) return s.status();
  return std::unique_ptr<ConfigStore>(std::move(s.value()));
}

INSTANTIATE_TEST_SUITE_P(EtcdSingle, ConfigStoreSuite,
                         ::testing::Values(StoreFactory{"etcd1", MakeSingle}),
                         testing::StoreFactoryName);
INSTANTIATE_TEST_SUITE_P(EtcdCluster, ConfigStoreSuite,
                         ::testing::Values(StoreFactory{"etcd3", MakeCluster}),
                         testing::StoreFactoryName);

// A 127.0.0.1 port that nothing listens on.
std::string DeadEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

#define ASSERT_CLUSTER(var, members)                       \
  auto var##_r = Cluster(members);                         \
  ASSERT_TRUE(var##_r.ok()) << var##_r.status().message(); \
  EtcdTestCluster* var = *var##_r

TEST(EtcdSingleOnly, FailsOverFromADeadEndpoint) {
  ASSERT_CLUSTER(c, 1);
  auto s = StoreOn({DeadEndpoint(), c->endpoints()[0]});
  ASSERT_TRUE(s.ok());
  auto v = (*s)->Put("failover/a", "1");
  ASSERT_TRUE(v.ok()) << v.status().message();
  auto e = (*s)->Get("failover/a");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->version, *v);
  EXPECT_GE((*s)->stats().failovers, 1u);
}

TEST(EtcdSingleOnly, UnreachableClusterIsUnavailableWithinTheTimeout) {
  EtcdOptions o;
  o.operation_timeout = milliseconds(800);
  auto s = StoreOn({DeadEndpoint(), DeadEndpoint()}, o);
  ASSERT_TRUE(s.ok());
  auto start = Clock::now();
  auto g = (*s)->Get("x");
  auto took = Clock::now() - start;
  EXPECT_TRUE(g.status().is(Code::kUnavailable)) << g.status().message();
  EXPECT_NE(g.status().message().find("tries"), std::string::npos) << g.status().message();
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_TRUE((*s)->Put("x", "1").status().is(Code::kUnavailable));
  EXPECT_TRUE((*s)->CompareAndSwap("x", 0, "1").status().is(Code::kUnavailable));
  EXPECT_TRUE((*s)->List("").status().is(Code::kUnavailable));
  ChangeLog log;
  EXPECT_TRUE((*s)->Watch("x", 0, log.Callback()).status().is(Code::kUnavailable));
}

TEST(EtcdSingleOnly, WatchFromCompactedRevisionEnds) {
  ASSERT_CLUSTER(c, 1);
  auto s = StoreOn(c->endpoints());
  ASSERT_TRUE(s.ok());
  std::string p = testing::UniquePrefix();
  auto v1 = (*s)->Put(p + "a", "1");
  auto v2 = (*s)->Put(p + "a", "2");
  ASSERT_TRUE(v1.ok() && v2.ok());
  ASSERT_TRUE(c->Compact(*v2).ok());
  ChangeLog log;
  auto w = (*s)->Watch(p, *v1, log.Callback(), log.EndCallback());
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(log.WaitForEnd());
  EXPECT_TRUE(log.end_status().is(Code::kOutOfRange)) << log.end_status().message();
  EXPECT_EQ(log.size(), 0u);
}

// A stream that stays silent past the idle timeout is reopened; nothing is lost or repeated.
TEST(EtcdSingleOnly, WatchResumesAfterReconnectsWithoutLossOrRepeats) {
  ASSERT_CLUSTER(c, 1);
  EtcdOptions o;
  o.watch_idle_timeout = milliseconds(150);
  auto s = StoreOn(c->endpoints(), o);
  ASSERT_TRUE(s.ok());
  std::string p = testing::UniquePrefix();
  ChangeLog log;
  auto w = (*s)->Watch(p, 0, log.Callback());
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE((*s)->Put(p + "k", std::to_string(i)).ok());
    std::this_thread::sleep_for(milliseconds(i % 3 == 0 ? 250 : 20));
  }
  ASSERT_TRUE(log.WaitFor(12));
  std::this_thread::sleep_for(milliseconds(300));
  auto got = log.changes();
  ASSERT_EQ(got.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got[i].value, std::to_string(i));
  EXPECT_GE((*s)->stats().watch_reconnects, 2u);
}

// Four writers (put, get, list, compare-and-swap increments) and a watch run on a three-member
// cluster whose leader, the member every client talks to first, is SIGKILLed a third of the
// way through. Every operation must succeed (a compare-and-swap whose answer was lost is
// resolved by re-reading, as a caller must), and the watch must deliver every revision, in
// order, exactly once across its reconnect.
TEST(EtcdClusterFailover, LeaderKilledDuringWorkload) {
  auto started = EtcdTestCluster::Start(3);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto& cluster = *started;
  auto leader = cluster->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status().message();
  std::vector<std::string> endpoints = cluster->endpoints();
  std::rotate(endpoints.begin(), endpoints.begin() + *leader, endpoints.end());
  EtcdOptions o;
  o.request_timeout = milliseconds(1000);
  auto store_r = StoreOn(endpoints, o);
  ASSERT_TRUE(store_r.ok());
  EtcdConfigStore& store = **store_r;

  const std::string p = "failover/";
  ASSERT_TRUE(store.Put(p + "counter", "0").ok());
  ChangeLog log;
  auto watch = store.Watch(p, 0, log.Callback());
  ASSERT_TRUE(watch.ok());

  constexpr int kWriters = 4;
  const auto run_for = milliseconds(4500);
  const auto kill_after = milliseconds(1500);
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> errors;
  // Start and completion times of successful writes.
  std::vector<std::pair<Clock::time_point, Clock::time_point>> write_done;
  milliseconds max_latency{0};
  std::atomic<int> increments{0}, unknown_outcomes{0}, unresolved{0};
  std::vector<int> puts(kWriters, 0);
  auto note = [&](bool ok, Clock::time_point t0, bool write, const std::string& what) {
    auto t1 = Clock::now();
    std::lock_guard lock(mu);
    max_latency = std::max(max_latency, std::chrono::duration_cast<milliseconds>(t1 - t0));
    if (!ok) errors.push_back(what);
    if (ok && write) write_done.emplace_back(t0, t1);
  };

  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      const std::string mine = p + "w" + std::to_string(t);
      for (int i = 0; !stop.load(); ++i) {
        auto t0 = Clock::now();
        auto v = store.Put(mine, std::to_string(i));
        note(v.ok(), t0, true, "put: " + v.status().message());
        if (v.ok()) ++puts[t];
        t0 = Clock::now();
        auto g = store.Get(mine);
        note(g.ok() && g->value == std::to_string(i), t0, false, "get: " + g.status().message());
        if (i % 10 == 0) {
          t0 = Clock::now();
          auto l = store.List(p);
          note(l.ok(), t0, false, "list: " + l.status().message());
        }
        if (i % 3 != 0) continue;
        // Increment the shared counter with compare-and-swap; values are unique per attempt
        // so a lost answer can be resolved by reading.
        t0 = Clock::now();
        bool done = false;
        for (int attempt = 0; attempt < 100 && !done; ++attempt) {
          auto cur = store.Get(p + "counter");
          if (!cur.ok()) break;
          int n = std::stoi(cur->value.substr(0, cur->value.find(' ')));
          std::string next = std::to_string(n + 1) + " by " + std::to_string(t) + "/" +
                             std::to_string(i) + "/" + std::to_string(attempt);
          auto r = store.CompareAndSwap(p + "counter", cur->version, next);
          if (r.ok()) {
            done = true;
          } else if (r.status().is(Code::kUnavailable)) {
            ++unknown_outcomes;
            auto again = store.Get(p + "counter");
            done = again.ok() && again->value == next;
            // Not there: ours was lost, or landed and another writer already moved on; the
            // checks on the counter's history below tell.
            if (!done) ++unresolved;
          }
        }
        if (done) ++increments;
        note(done, t0, true, "increment did not complete");
      }
    });
  }

  std::this_thread::sleep_for(kill_after);
  auto killed_at = Clock::now();
  ASSERT_TRUE(cluster->Kill(*leader).ok());
  std::this_thread::sleep_for(run_for - kill_after);
  stop = true;
  for (auto& th : writers) th.join();

  // How long after the kill did the first write that was sent after it succeed? And the
  // largest gap between two successful writes: the outage that clients saw.
  std::sort(write_done.begin(), write_done.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  milliseconds first_after{-1}, gap{0};
  for (size_t i = 0; i < write_done.size(); ++i) {
    if (write_done[i].first > killed_at && first_after.count() < 0) {
      first_after = std::chrono::duration_cast<milliseconds>(write_done[i].second - killed_at);
    }
    if (i > 0) {
      gap = std::max(gap, std::chrono::duration_cast<milliseconds>(write_done[i].second -
                                                                   write_done[i - 1].second));
    }
  }
  auto stats = store.stats();
  std::printf(
      "[failover] leader member %d killed at %lld ms; first write sent after the kill succeeded "
      "%lld ms after it; longest write gap %lld ms; slowest operation %lld ms; %zu writes, %d "
      "increments, "
      "%d compare-and-swap outcomes unknown and resolved; %llu requests, %llu failovers, %llu "
      "watch reconnects\n",
      *leader, static_cast<long long>(kill_after.count()),
      static_cast<long long>(first_after.count()), static_cast<long long>(gap.count()),
      static_cast<long long>(max_latency.count()), write_done.size(), increments.load(),
      unknown_outcomes.load(), static_cast<unsigned long long>(stats.requests),
      static_cast<unsigned long long>(stats.failovers),
      static_cast<unsigned long long>(stats.watch_reconnects));
  RecordProperty("first_write_after_kill_ms", static_cast<int>(first_after.count()));
  RecordProperty("longest_write_gap_ms", static_cast<int>(gap.count()));

  EXPECT_TRUE(errors.empty()) << errors.size() << " operations failed; first: " << errors.front();
  EXPECT_GE(first_after.count(), 0) << "no write succeeded after the kill";
  EXPECT_GE(stats.failovers, 1u);

  // No increment was lost or doubled: the counter's history (from the watch, below) counts
  // 1, 2, 3, ... and holds every increment its writers saw succeed.
  auto counter = store.Get(p + "counter");
  ASSERT_TRUE(counter.ok()) << counter.status().message();
  int final_count = std::stoi(counter->value);
  EXPECT_GE(final_count, increments.load());
  EXPECT_LE(final_count, increments.load() + unresolved.load());

  // The watch saw every revision since it started, once and in order, through its reconnect.
  auto listing = store.List(p);
  ASSERT_TRUE(listing.ok()) << listing.status().message();
  auto first = log.changes().empty() ? 0 : log.changes().front().version;
  ASSERT_TRUE(log.WaitFor(static_cast<size_t>(listing->revision - first + 1)))
      << "the watch has " << log.size() << " changes; expected up to revision "
      << listing->revision;
  auto got = log.changes();
  for (size_t i = 1; i < got.size(); ++i) {
    ASSERT_EQ(got[i].version, got[i - 1].version + 1) << "a gap or repeat at " << i;
  }
  EXPECT_EQ(got.back().version, listing->revision);
  std::map<std::string, std::string> last;
  for (const auto& ch : got) last[ch.key] = ch.value;
  for (const auto& e : listing->entries) EXPECT_EQ(last[e.key], e.value) << e.key;
  int expect = 1;
  for (const auto& ch : got) {
    if (ch.key != p + "counter") continue;
    EXPECT_EQ(std::stoi(ch.value), expect) << ch.value;
    ++expect;
  }
  EXPECT_EQ(expect - 1, final_count);
  EXPECT_GE(stats.watch_reconnects, 1u) << "the watch was on the killed member";
}

}  // namespace
}  // namespace dtr::config
