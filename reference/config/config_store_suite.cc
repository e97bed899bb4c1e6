#include "config/config_store_suite.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <random>
#include <thread>

namespace dtr::config::testing {

using std::chrono::milliseconds;

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

std::string UniquePrefix() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard lock(mu);
  char buf[32];
  std::snprintf(buf, sizeof buf, "t%016llx/", static_cast<unsigned long long>(rng()));
  return buf;
}

WatchCallback ChangeLog::Callback() {
  return [this](const ConfigChange& ch) {
    std::lock_guard lock(mu_);
    changes_.push_back(ch);
    cv_.notify_all();
  };
}

WatchEndCallback ChangeLog::EndCallback() {
  return [this](const Status& s) {
    std::lock_guard lock(mu_);
    ended_ = true;
    end_ = s;
    cv_.notify_all();
  };
}

bool ChangeLog::WaitFor(size_t n, milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return changes_.size() >= n; });
}

bool ChangeLog::WaitForEnd(milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ended_; });
}

std::vector<ConfigChange> ChangeLog::changes() const {
  std::lock_guard lock(mu_);
  return changes_;
}

size_t ChangeLog::size() const {
  std::lock_guard lock(mu_);
  return changes_.size();
}

Status ChangeLog::end_status() const {
  std::lock_guard lock(mu_);
  return end_;
}

void ConfigStoreSuite::SetUp() {
  auto s = GetParam().make();
  ASSERT_TRUE(s.ok()) << "could not make the " << GetParam().name
                      << " store: " << s.status().message();
  store_ = std::move(s.value());
  prefix_ = UniquePrefix();
}

namespace {

// Readable expectations on Result and Status.
#define EXPECT_CODE(expr, code_value)                                             \
  do {                                                                            \
    auto&& r_ = (expr);                                                           \
    EXPECT_EQ(static_cast<int>(r_.status().code()), static_cast<int>(code_value)) \
        << #expr << ": " << r_.status().message();                                \
  } while (0)

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                               \
  auto lhs##_result = (expr);                                                         \
  ASSERT_TRUE(lhs##_result.ok()) << #expr << ": " << lhs##_result.status().message(); \
  auto lhs = std::move(lhs##_result.value())

std::string Describe(const ConfigChange& c) {
  return std::string(c.type == ConfigChange::Type::kPut ? "put " : "delete ") + c.key + "=" +
         (c.value.size() > 40 ? c.value.substr(0, 40) + "..." : c.value) + "@" +
         std::to_string(c.version);
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

}  // namespace

TEST_P(ConfigStoreSuite, GetMissingKeyIsNotFound) {
  EXPECT_CODE(store_->Get(Key("missing")), Code::kNotFound);
}

TEST_P(ConfigStoreSuite, PutThenGetReturnsValueAndVersion) {
  ASSERT_OK_AND_ASSIGN(v, store_->Put(Key("a"), "hello"));
  EXPECT_GT(v, 0);
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("a")));
  EXPECT_EQ(e.key, Key("a"));
  EXPECT_EQ(e.value, "hello");
  EXPECT_EQ(e.version, v);
}

TEST_P(ConfigStoreSuite, EmptyValueIsAValue) {
  ASSERT_OK_AND_ASSIGN(v, store_->Put(Key("empty"), ""));
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("empty")));
  EXPECT_EQ(e.value, "");
  EXPECT_EQ(e.version, v);
}

TEST_P(ConfigStoreSuite, VersionsIncreaseAcrossKeys) {
  ASSERT_OK_AND_ASSIGN(a1, store_->Put(Key("a"), "1"));
  ASSERT_OK_AND_ASSIGN(b1, store_->Put(Key("b"), "1"));
  ASSERT_OK_AND_ASSIGN(a2, store_->Put(Key("a"), "2"));
  EXPECT_LT(a1, b1);
  EXPECT_LT(b1, a2);
  ASSERT_OK_AND_ASSIGN(a, store_->Get(Key("a")));
  EXPECT_EQ(a.version, a2);
  EXPECT_EQ(a.value, "2");
  ASSERT_OK_AND_ASSIGN(b, store_->Get(Key("b")));
  EXPECT_EQ(b.version, b1);
}

TEST_P(ConfigStoreSuite, DeleteRemovesAndReportsMissingKeys) {
  ASSERT_OK_AND_ASSIGN(v, store_->Put(Key("d"), "x"));
  ASSERT_OK_AND_ASSIGN(dv, store_->Delete(Key("d")));
  EXPECT_GT(dv, v);
  EXPECT_CODE(store_->Get(Key("d")), Code::kNotFound);
  EXPECT_CODE(store_->Delete(Key("d")), Code::kNotFound);
  EXPECT_CODE(store_->Delete(Key("never")), Code::kNotFound);
  // A key created again gets a version above its deletion.
  ASSERT_OK_AND_ASSIGN(again, store_->Put(Key("d"), "y"));
  EXPECT_GT(again, dv);
}

TEST_P(ConfigStoreSuite, ConditionalDeleteChecksTheVersion) {
  ASSERT_OK_AND_ASSIGN(v1, store_->Put(Key("cd"), "1"));
  ASSERT_OK_AND_ASSIGN(v2, store_->Put(Key("cd"), "2"));
  EXPECT_CODE(store_->Delete(Key("cd"), v1), Code::kFailedPrecondition);
  EXPECT_CODE(store_->Delete(Key("cd"), 0), Code::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(still, store_->Get(Key("cd")));
  EXPECT_EQ(still.value, "2");
  ASSERT_OK_AND_ASSIGN(dv, store_->Delete(Key("cd"), v2));
  EXPECT_GT(dv, v2);
  EXPECT_CODE(store_->Get(Key("cd")), Code::kNotFound);
  EXPECT_CODE(store_->Delete(Key("cd"), v2), Code::kNotFound);
}

TEST_P(ConfigStoreSuite, CompareAndSwapSucceedsOnTheCurrentVersion) {
  ASSERT_OK_AND_ASSIGN(v1, store_->Put(Key("c"), "1"));
  ASSERT_OK_AND_ASSIGN(v2, store_->CompareAndSwap(Key("c"), v1, "2"));
  EXPECT_GT(v2, v1);
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("c")));
  EXPECT_EQ(e.value, "2");
  EXPECT_EQ(e.version, v2);
}

TEST_P(ConfigStoreSuite, CompareAndSwapConflictReportsTheCurrentVersion) {
  ASSERT_OK_AND_ASSIGN(v1, store_->Put(Key("c"), "1"));
  ASSERT_OK_AND_ASSIGN(v2, store_->Put(Key("c"), "2"));
  int64_t current = -1;
  auto r = store_->CompareAndSwap(Key("c"), v1, "stale", &current);
  EXPECT_CODE(r, Code::kFailedPrecondition);
  EXPECT_EQ(current, v2);
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("c")));
  EXPECT_EQ(e.value, "2");
  // A missing key is at version 0.
  current = -1;
  EXPECT_CODE(store_->CompareAndSwap(Key("absent"), v2, "x", &current), Code::kFailedPrecondition);
  EXPECT_EQ(current, 0);
  EXPECT_CODE(store_->Get(Key("absent")), Code::kNotFound);
}

TEST_P(ConfigStoreSuite, CompareAndSwapWithZeroCreatesOnly) {
  ASSERT_OK_AND_ASSIGN(v1, store_->CompareAndSwap(Key("once"), 0, "first"));
  int64_t current = -1;
  EXPECT_CODE(store_->CompareAndSwap(Key("once"), 0, "second", &current),
              Code::kFailedPrecondition);
  EXPECT_EQ(current, v1);
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("once")));
  EXPECT_EQ(e.value, "first");
  // After a delete, create-only works again.
  ASSERT_TRUE(store_->Delete(Key("once")).ok());
  ASSERT_OK_AND_ASSIGN(v2, store_->CompareAndSwap(Key("once"), 0, "third"));
  EXPECT_GT(v2, v1);
}

TEST_P(ConfigStoreSuite, ConcurrentCompareAndSwapHasExactlyOneWinnerPerRound) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 12;
  const std::string key = Key("race");
  ASSERT_OK_AND_ASSIGN(start, store_->Put(key, "start"));
  int64_t version = start;
  for (int round = 0; round < kRounds; ++round) {
    std::barrier sync(kThreads);
    std::vector<Result<int64_t>> results(kThreads, Status(Code::kInternal, "not run"));
    std::vector<int64_t> reported(kThreads, -1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        sync.arrive_and_wait();
        results[t] = store_->CompareAndSwap(
            key, version, "round " + std::to_string(round) + " thread " + std::to_string(t),
            &reported[t]);
      });
    }
    for (auto& th : threads) th.join();
    int winner = -1;
    for (int t = 0; t < kThreads; ++t) {
      if (results[t].ok()) {
        EXPECT_EQ(winner, -1) << "round " << round << ": threads " << winner << " and " << t
                              << " both won";
        winner = t;
      } else {
        EXPECT_TRUE(results[t].status().is(Code::kFailedPrecondition))
            << "round " << round << " thread " << t << ": " << results[t].status().message();
      }
    }
    ASSERT_NE(winner, -1) << "round " << round << ": nobody won";
    int64_t won = *results[winner];
    EXPECT_GT(won, version);
    for (int t = 0; t < kThreads; ++t) {
      if (t != winner && results[t].status().is(Code::kFailedPrecondition)) {
        EXPECT_EQ(reported[t], won) << "a loser must see the winner's version";
      }
    }
    ASSERT_OK_AND_ASSIGN(e, store_->Get(key));
    EXPECT_EQ(e.value, "round " + std::to_string(round) + " thread " + std::to_string(winner));
    EXPECT_EQ(e.version, won);
    version = won;
  }
}

TEST_P(ConfigStoreSuite, ListReturnsKeysUnderThePrefixSorted) {
  for (const char* k : {"p/b", "p/a", "p/b/c", "pa", "p0", "q/a", "p"}) {
    ASSERT_TRUE(store_->Put(Key(k), std::string("v-") + k).ok()) << k;
  }
  ASSERT_OK_AND_ASSIGN(l, store_->List(Key("p/")));
  std::vector<std::string> keys;
  int64_t max_version = 0;
  for (const auto& e : l.entries) {
    keys.push_back(e.key);
    EXPECT_EQ(e.value, "v-" + e.key.substr(prefix_.size()));
    max_version = std::max(max_version, e.version);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{Key("p/a"), Key("p/b"), Key("p/b/c")}));
  EXPECT_GE(l.revision, max_version);
  ASSERT_OK_AND_ASSIGN(all, store_->List(prefix_));
  EXPECT_EQ(all.entries.size(), 7u);
  EXPECT_TRUE(std::is_sorted(all.entries.begin(), all.entries.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  ASSERT_OK_AND_ASSIGN(none, store_->List(Key("nothing/")));
  EXPECT_TRUE(none.entries.empty());
}

TEST_P(ConfigStoreSuite, WatchDeliversEveryChangeInOrderFromARevision) {
  const std::string w = Key("w/");
  ASSERT_OK_AND_ASSIGN(v1, store_->Put(w + "a", "1"));
  ASSERT_OK_AND_ASSIGN(v2, store_->Put(w + "b", "2"));
  ASSERT_TRUE(store_->Put(Key("w0"), "outside").ok());  // shares "w" but not "w/"
  ASSERT_TRUE(store_->Put(Key("x"), "outside").ok());
  ASSERT_OK_AND_ASSIGN(v3, store_->Delete(w + "a"));

  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(w, v1, log.Callback(), log.EndCallback()));
  ASSERT_OK_AND_ASSIGN(v4, store_->Put(w + "c/deep", "3"));
  ASSERT_OK_AND_ASSIGN(v5, store_->CompareAndSwap(w + "b", v2, "22"));
  ASSERT_TRUE(store_->Put(Key("y"), "outside").ok());
  ASSERT_OK_AND_ASSIGN(v6, store_->Delete(w + "c/deep", v4));
  ASSERT_TRUE(log.WaitFor(6)) << "only " << log.size() << " changes arrived";
  // Anything extra would arrive with the ones above; give it a moment.
  std::this_thread::sleep_for(milliseconds(200));
  watch->Cancel();

  using T = ConfigChange::Type;
  struct Want {
    T type;
    std::string key, value;
    int64_t version;
  };
  std::vector<Want> want = {{T::kPut, w + "a", "1", v1},   {T::kPut, w + "b", "2", v2},
                            {T::kDelete, w + "a", "", v3}, {T::kPut, w + "c/deep", "3", v4},
                            {T::kPut, w + "b", "22", v5},  {T::kDelete, w + "c/deep", "", v6}};
  auto got = log.changes();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].type, want[i].type) << i << ": " << Describe(got[i]);
    EXPECT_EQ(got[i].key, want[i].key) << i;
    EXPECT_EQ(got[i].value, want[i].value) << i;
    EXPECT_EQ(got[i].version, want[i].version) << i;
  }
}

TEST_P(ConfigStoreSuite, WatchFromZeroSeesOnlyLaterChanges) {
  ASSERT_TRUE(store_->Put(Key("z/old"), "old").ok());
  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(Key("z/"), 0, log.Callback()));
  ASSERT_OK_AND_ASSIGN(v, store_->Put(Key("z/new"), "new"));
  ASSERT_TRUE(log.WaitFor(1));
  std::this_thread::sleep_for(milliseconds(200));
  auto got = log.changes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, Key("z/new"));
  EXPECT_EQ(got[0].version, v);
}

TEST_P(ConfigStoreSuite, WatchKeepsOrderUnderConcurrentWriters) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(Key("m/"), 0, log.Callback()));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!store_->Put(Key("m/") + std::to_string(t), std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(log.WaitFor(kThreads * kPerThread, std::chrono::seconds(20)))
      << "only " << log.size() << " of " << kThreads * kPerThread << " changes arrived";
  auto got = log.changes();
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < got.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(got[i].version, got[i - 1].version);
    }
    int t = std::stoi(got[i].key.substr(Key("m/").size()));
    EXPECT_EQ(got[i].value, std::to_string(next[t])) << "writer " << t << " out of order";
    ++next[t];
  }
}

TEST_P(ConfigStoreSuite, CancelStopsDelivery) {
  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(Key("c/"), 0, log.Callback()));
  ASSERT_TRUE(store_->Put(Key("c/1"), "1").ok());
  ASSERT_TRUE(log.WaitFor(1));
  watch->Cancel();
  watch->Cancel();  // twice is harmless
  ASSERT_TRUE(store_->Put(Key("c/2"), "2").ok());
  ASSERT_TRUE(store_->Put(Key("c/3"), "3").ok());
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(log.size(), 1u);
  // Destroying a watch that was never cancelled cancels it too.
  ChangeLog log2;
  { ASSERT_OK_AND_ASSIGN(w2, store_->Watch(Key("c/"), 0, log2.Callback())); }
  ASSERT_TRUE(store_->Put(Key("c/4"), "4").ok());
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(log2.size(), 0u);
}

TEST_P(ConfigStoreSuite, CancelFromInsideTheCallback) {
  std::mutex mu;
  std::unique_ptr<ConfigWatch> watch;
  std::atomic<int> calls{0};
  auto r = store_->Watch(Key("s/"), 0, [&](const ConfigChange&) {
    ++calls;
    std::lock_guard lock(mu);
    watch.reset();  // cancels and destroys the watch from its own thread
  });
  ASSERT_TRUE(r.ok()) << r.status().message();
  {
    std::lock_guard lock(mu);
    watch = std::move(r.value());
  }
  ASSERT_TRUE(store_->Put(Key("s/1"), "1").ok());
  ASSERT_TRUE(store_->Put(Key("s/2"), "2").ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(ConfigStoreSuite, LargeValuesRoundTrip) {
  const std::string big = RandomBytes(kMaxValueBytes, 42);
  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(Key("big/"), 0, log.Callback()));
  ASSERT_OK_AND_ASSIGN(v, store_->Put(Key("big/1"), big));
  ASSERT_OK_AND_ASSIGN(e, store_->Get(Key("big/1")));
  EXPECT_EQ(e.version, v);
  EXPECT_TRUE(e.value == big) << "the 1 MiB value came back different";
  ASSERT_OK_AND_ASSIGN(l, store_->List(Key("big/")));
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_TRUE(l.entries[0].value == big);
  ASSERT_TRUE(log.WaitFor(1));
  EXPECT_TRUE(log.changes()[0].value == big);
  EXPECT_CODE(store_->Put(Key("big/2"), big + "x"), Code::kTooLarge);
  EXPECT_CODE(store_->CompareAndSwap(Key("big/2"), 0, big + "x"), Code::kTooLarge);
}

TEST_P(ConfigStoreSuite, KeysWithOddCharacters) {
  const std::vector<std::string> odd = {"with space",
                                        "slash/in/it",
                                        "quote\"and'apostrophe",
                                        "percent%2Fencoded",
                                        "new\nline",
                                        "tab\there",
                                        "back\\slash",
                                        "unicode-\xc3\xbc-\xe6\x97\xa5",
                                        std::string("nul\0byte", 8),
                                        "\xff\xfe high bytes",
                                        "?query=1&x=2",
                                        "#hash",
                                        "..",
                                        "*",
                                        "{\"json\":1}",
                                        "+plus and=equals",
                                        "~tilde",
                                        "%00",
                                        "\x01\x7f"};
  ChangeLog log;
  ASSERT_OK_AND_ASSIGN(watch, store_->Watch(Key("odd/"), 0, log.Callback()));
  for (size_t i = 0; i < odd.size(); ++i) {
    ASSERT_TRUE(store_->Put(Key("odd/") + odd[i], "v" + std::to_string(i)).ok()) << i;
  }
  for (size_t i = 0; i < odd.size(); ++i) {
    auto e = store_->Get(Key("odd/") + odd[i]);
    ASSERT_TRUE(e.ok()) << i << ": " << e.status().message();
    EXPECT_EQ(e->key, Key("odd/") + odd[i]);
    EXPECT_EQ(e->value, "v" + std::to_string(i));
  }
  ASSERT_OK_AND_ASSIGN(l, store_->List(Key("odd/")));
  std::vector<std::string> want;
  for (const auto& k : odd) want.push_back(Key("odd/") + k);
  std::sort(want.begin(), want.end());  // std::string compares bytes as unsigned
  std::vector<std::string> got;
  for (const auto& e : l.entries) got.push_back(e.key);
  EXPECT_EQ(got, want);
  ASSERT_TRUE(log.WaitFor(odd.size()));
  auto changes = log.changes();
  for (size_t i = 0; i < odd.size(); ++i) EXPECT_EQ(changes[i].key, Key("odd/") + odd[i]) << i;
  for (const auto& k : odd) EXPECT_TRUE(store_->Delete(Key("odd/") + k).ok()) << k;
  ASSERT_OK_AND_ASSIGN(after, store_->List(Key("odd/")));
  EXPECT_TRUE(after.entries.empty());
}

TEST_P(ConfigStoreSuite, InvalidKeysAreRejected) {
  EXPECT_CODE(store_->Get(""), Code::kInvalidArgument);
  EXPECT_CODE(store_->Put("", "x"), Code::kInvalidArgument);
  EXPECT_CODE(store_->CompareAndSwap("", 0, "x"), Code::kInvalidArgument);
  EXPECT_CODE(store_->Delete(""), Code::kInvalidArgument);
  EXPECT_CODE(store_->Put(Key(std::string(kMaxKeyBytes, 'k')), "x"), Code::kInvalidArgument);
  ASSERT_TRUE(store_->Put(Key("") + std::string(kMaxKeyBytes - prefix_.size(), 'k'), "x").ok());
}

}  // namespace dtr::config::testing
