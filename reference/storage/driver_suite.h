// The BlobDriver contract as one GoogleTest suite that every driver must pass (the pattern
// of distribution's registry/storage/driver/testsuites): small content, ranged reads,
// resumable writers (across writer instances and across a restart, i.e. a new driver over
// the same storage), commit, cancel, stat, list, move, delete, walk, path characters,
// concurrency, a large object through chunking, and the typed errors callers branch on.
//
// To run it against a driver, link driver_suite.cc into the test binary (not through a
// static library: the tests register themselves) and instantiate it:
//
//   dtr::storage::testing::DriverSuiteParam P() { ... factory ... }
//   INSTANTIATE_TEST_SUITE_P(Filesystem, DriverSuite, ::testing::Values(P()),
//                            dtr::storage::testing::SuiteName);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "storage/blob_driver.h"

namespace dtr::storage::testing {

struct DriverSuiteParam {
  std::string name;  // the instantiation's name in test output ("filesystem", "s3_swift")
  // A driver over the storage named `root`: each test gets an unused root; asking again for
  // the same root gives a new instance over the same data (that is a restart).
  std::function<Result<std::unique_ptr<BlobDriver>>(const std::string& root)> factory;
  // The driver's chunk size, so that writes land on either side of chunk boundaries.
  uint64_t chunk_size = 5u << 20;
  // Bytes for the one large-object test (a few hundred MiB proves chunking); 0 skips it.
  uint64_t large_bytes = 256u << 20;
  int threads = 8;
  // Whether concurrent whole-object writes of one key leave one of them intact (every real
  // store; s3rver truncates and writes in place, so its overwrites can interleave).
  bool atomic_overwrites = true;
  // Where a test failure should send the reader (e.g. the ci/ script that started the server).
  std::string hint;
};

class DriverSuite : public ::testing::TestWithParam<DriverSuiteParam> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // A new driver instance over this test's storage (a restart).
  std::unique_ptr<BlobDriver> Reopen();

  std::string root_;
  std::unique_ptr<BlobDriver> d_;
};

std::string SuiteName(const ::testing::TestParamInfo<DriverSuiteParam>& info);

// For the drivers' test files: an environment variable ("" when unset), and "suite-<random>",
// one per process, to keep runs against a shared server apart.
std::string Env(const char* name);
const std::string& RunPrefix();
inline void PrintTo(const DriverSuiteParam& p, std::ostream* os) { *os << p.name; }

}  // namespace dtr::storage::testing
