// The shared suite on the SQLite store, and what only SQLite has: a file shared by several
// processes, persistence across reopen, compaction.
#include "config/sqlite_config_store.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "config/config_store_suite.h"

namespace dtr::config {
namespace {

using testing::ChangeLog;
using testing::ConfigStoreSuite;
using testing::StoreFactory;

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  std::string dir = ::testing::TempDir() + "dtr-config-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  return dir + "/" + name + "-" + std::to_string(counter++) + ".db";
}

Result<std::unique_ptr<ConfigStore>> MakeSqlite() {
  auto s = SqliteConfigStore::OpenFile(TempPath("suite"));
  if (!s.ok()) return s.status();
  return std::unique_ptr<ConfigStore>(std::move(s.value()));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ConfigStoreSuite,
                         ::testing::Values(StoreFactory{"sqlite", MakeSqlite}),
                         testing::StoreFactoryName);

TEST(SqliteConfigStore, VersionsKeepGrowingAfterReopen) {
  std::string path = TempPath("reopen");
  int64_t before;
  {
    auto s = SqliteConfigStore::OpenFile(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Put("a", "1").ok());
    auto v = (*s)->Put("a", "2");
    ASSERT_TRUE(v.ok());
    before = *v;
  }
  auto s = SqliteConfigStore::OpenFile(path);
  ASSERT_TRUE(s.ok());
  auto e = (*s)->Get("a");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "2");
  EXPECT_EQ(e->version, before);
  auto v = (*s)->Put("b", "x");
  ASSERT_TRUE(v.ok());
  EXPECT_GT(*v, before);
}

TEST(SqliteConfigStore, SharesTheApplicationDatabase) {
  auto db = meta::SqliteDb::Open(TempPath("shared"));
  ASSERT_TRUE(db.ok());
  auto a = SqliteConfigStore::Open(db->get());
  auto b = SqliteConfigStore::Open(db->get());  // opening twice is harmless
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Put("k", "v").ok());
  auto e = (*b)->Get("k");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "v");
}

// Another store object on the same file is what another process is: it learns of writes only
// by polling.
TEST(SqliteConfigStore, WatchSeesWritesOfAnotherStoreOnTheSameFile) {
  std::string path = TempPath("two");
  SqliteConfigOptions fast;
  fast.poll_interval = std::chrono::milliseconds(20);
  auto watcher = SqliteConfigStore::OpenFile(path, fast);
  auto writer = SqliteConfigStore::OpenFile(path);
  ASSERT_TRUE(watcher.ok() && writer.ok());
  ChangeLog log;
  auto w = (*watcher)->Watch("k/", 0, log.Callback());
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE((*writer)->Put("k/" + std::to_string(i % 3), std::to_string(i)).ok());
  ASSERT_TRUE(log.WaitFor(20, std::chrono::seconds(5)));
  auto got = log.changes();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i].value, std::to_string(i));
}

// The writer half of WatchSeesWritesOfAnotherProcess: it runs only in the child process that
// test starts (a fresh exec of this binary, never a fork of a threaded one).
TEST(SqliteConfigStoreChild, DISABLED_Writer) {
  const char* path = std::getenv("DTR_CONFIG_CHILD_DB");
  ASSERT_NE(path, nullptr) << "runs only as the child of WatchSeesWritesOfAnotherProcess";
  auto s = SqliteConfigStore::OpenFile(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*s)->Put("p/child", std::to_string(i)).ok());
}

// A real second process writes; this one watches.
TEST(SqliteConfigStore, WatchSeesWritesOfAnotherProcess) {
  std::string path = TempPath("child");
  SqliteConfigOptions fast;
  fast.poll_interval = std::chrono::milliseconds(20);
  auto watcher = SqliteConfigStore::OpenFile(path, fast);
  ASSERT_TRUE(watcher.ok());
  ChangeLog log;
  auto w = (*watcher)->Watch("p/", 0, log.Callback());
  ASSERT_TRUE(w.ok());
  std::string env = "DTR_CONFIG_CHILD_DB=" + path;
  std::string filter = "--gtest_filter=SqliteConfigStoreChild.DISABLED_Writer";
  std::string disabled = "--gtest_also_run_disabled_tests";
  char* argv[] = {const_cast<char*>("config_store_test"), filter.data(), disabled.data(), nullptr};
  char* envp[] = {env.data(), nullptr};
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, "/proc/self/exe", nullptr, nullptr, argv, envp), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the child writer failed";
  ASSERT_TRUE(log.WaitFor(10, std::chrono::seconds(5))) << log.size();
  auto got = log.changes();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i].value, std::to_string(i));
}

TEST(SqliteConfigStore, WatchFromCompactedHistoryEnds) {
  auto s = SqliteConfigStore::OpenFile(TempPath("compact"));
  ASSERT_TRUE(s.ok());
  auto v1 = (*s)->Put("h/a", "1");
  ASSERT_TRUE(v1.ok());
  auto v2 = (*s)->Put("h/a", "2");
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE((*s)->Compact(*v1).ok());
  ChangeLog log;
  auto w = (*s)->Watch("h/", *v1, log.Callback(), log.EndCallback());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(log.WaitForEnd());
  EXPECT_TRUE(log.end_status().is(Code::kOutOfRange)) << log.end_status().message();
  EXPECT_EQ(log.size(), 0u);
  // From the first revision still kept, it works.
  ChangeLog ok;
  auto w2 = (*s)->Watch("h/", *v2, ok.Callback(), ok.EndCallback());
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE(ok.WaitFor(1));
  EXPECT_EQ(ok.changes()[0].value, "2");
}

TEST(SqliteConfigStore, HistoryIsCompactedAsWritesGo) {
  SqliteConfigOptions small;
  small.history = 10;
  auto s = SqliteConfigStore::OpenFile(TempPath("history"), small);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE((*s)->Put("k", std::to_string(i)).ok());
  ChangeLog log;
  auto w = (*s)->Watch("k", 1, log.Callback(), log.EndCallback());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(log.WaitForEnd());
  EXPECT_TRUE(log.end_status().is(Code::kOutOfRange));
}

TEST(OpenConfigStore, ByName) {
  auto s = OpenConfigStore("sqlite:" + TempPath("named"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_NE((*s)->Describe().find("SQLite"), std::string::npos);
  auto e = OpenConfigStore("etcd:http://127.0.0.1:1,http://127.0.0.1:2");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_NE((*e)->Describe().find("http://127.0.0.1:2"), std::string::npos);
  EXPECT_TRUE(OpenConfigStore("redis:x").status().is(Code::kInvalidArgument));
  EXPECT_TRUE(OpenConfigStore("etcd:ftp://x").status().is(Code::kInvalidArgument));
}

}  // namespace
}  // namespace dtr::config
