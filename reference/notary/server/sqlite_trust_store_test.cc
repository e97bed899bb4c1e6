#include "notary/server/sqlite_trust_store.h"

#include <gtest/gtest.h>

#include "core/digest.h"
#include "tests/test_registry.h"

namespace dtr::notary {
namespace {

// What every TrustStore must do (trust_store.h).
void TrustStoreContract(TrustStore& store) {
  const std::string gun = "dtr.example.com/a/b";
  ASSERT_FALSE(*store.HasTrustData(gun));
  EXPECT_FALSE(store.GetCurrent(gun, "root")->has_value());
  ASSERT_TRUE(store.UpdateMany(gun, {{"root", 1, "root-1"}, {"timestamp", 1, "ts-1"}}).ok());
  ASSERT_TRUE(store.UpdateMany(gun, {{"root", 2, "root-2"}, {"timestamp", 2, "ts-2"}}).ok());
  EXPECT_EQ((*store.GetCurrent(gun, "root"))->data, "root-2");
  EXPECT_EQ((*store.GetCurrent(gun, "root"))->version, 2);
  EXPECT_EQ((*store.GetVersion(gun, "root", 1))->data, "root-1");
  EXPECT_EQ((*store.GetChecksum(gun, "root", ComputeDigest("root-1").hex()))->data, "root-1");
  EXPECT_FALSE(store.GetChecksum(gun, "targets", ComputeDigest("root-1").hex())->has_value());
  EXPECT_FALSE(store.GetCurrent("dtr.example.com/a/c", "root")->has_value());

  // Not newer: the whole update is refused, nothing of it stored.
  Status old = store.UpdateMany(gun, {{"targets", 1, "t-1"}, {"root", 2, "root-2bis"}});
  EXPECT_EQ(old.tag(), "VERSION");
  EXPECT_FALSE(store.GetCurrent(gun, "targets")->has_value());
  EXPECT_EQ(store.UpdateMany(gun, {{"targets", 1, "a"}, {"targets", 1, "b"}}).tag(), "VERSION");
  EXPECT_FALSE(store.GetCurrent(gun, "targets")->has_value());

  // The changefeed: one update per timestamp, a deletion per delete that deleted.
  auto changes = store.GetChanges(0, 100, gun);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].version, 2);
  EXPECT_EQ((*changes)[1].sha256, ComputeDigest("ts-2").hex());
  EXPECT_EQ((*changes)[0].category, "update");
  auto after_first = store.GetChanges((*changes)[0].id, 100, gun);
  EXPECT_EQ(after_first->size(), 1u);
  auto latest = store.GetChanges(-1, -1, "");
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ(latest->at(0).version, 2);
  EXPECT_EQ(store.GetChanges(0, 1, "")->size(), 1u);

  EXPECT_TRUE(*store.Delete(gun));
  EXPECT_FALSE(*store.Delete(gun));
  EXPECT_FALSE(*store.HasTrustData(gun));
  EXPECT_FALSE(store.GetCurrent(gun, "root")->has_value());
  changes = store.GetChanges(0, 100, gun);
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ(changes->back().category, "deletion");
  EXPECT_EQ(changes->back().version, 0);
  // After a delete the GUN starts over at version 1.
  EXPECT_TRUE(store.UpdateMany(gun, {{"root", 1, "again"}}).ok());

  // A repository's GUNs, whatever host the clients named.
  ASSERT_TRUE(store.UpdateMany("a/b", {{"root", 1, "x"}}).ok());
  ASSERT_TRUE(store.UpdateMany("other.host:5000/a/b", {{"root", 1, "x"}}).ok());
  ASSERT_TRUE(store.UpdateMany("dtr.example.com/x/a/b", {{"root", 1, "x"}}).ok());
  ASSERT_TRUE(store.UpdateMany("dtr.example.com/a/bc", {{"root", 1, "x"}}).ok());
  auto guns = store.GunsForRepository("a/b");
  ASSERT_TRUE(guns.ok());
  EXPECT_EQ(*guns, (std::vector<std::string>{"a/b", gun, "other.host:5000/a/b"}));
  EXPECT_TRUE(store.GunsForRepository("a/c")->empty());
}

TEST(SqliteTrustStore, KeepsTheContract) {
  dtr::testing::TempDir dir;
  auto db = meta::SqliteDb::Open(dir.path() + "/meta.db");
  ASSERT_TRUE(db.ok());
  auto store = SqliteTrustStore::Open(db->get());
  ASSERT_TRUE(store.ok());
  TrustStoreContract(**store);
  // Reopening keeps the data (the tables are created once).
  auto again = SqliteTrustStore::Open(db->get());
  EXPECT_EQ((*(*again)->GetCurrent("dtr.example.com/a/b", "root"))->data, "again");
}

}  // namespace
}  // namespace dtr::notary
