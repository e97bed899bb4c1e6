// The shared driver suite against the local filesystem driver.
#include <unistd.h>

#include <filesystem>

#include "storage/driver_suite.h"
#include "storage/filesystem_driver.h"

namespace dtr::storage::testing {
namespace {

std::string Base() {
  static const std::string base = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dtr-fs-suite-" +
           std::to_string(::getpid());
  }();
  return base;
}

class RemoveBase : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(Base()); }
};
const auto* const kRemoveBase = ::testing::AddGlobalTestEnvironment(new RemoveBase);

DriverSuiteParam Filesystem() {
  DriverSuiteParam p;
  p.name = "filesystem";
  p.factory = [](const std::string& root) -> Result<std::unique_ptr<BlobDriver>> {
    std::string dir = Base() + "/" + root;
    if (Status s = MakeDirs(dir); !s.ok()) return s;
    return std::unique_ptr<BlobDriver>(new FilesystemDriver(dir));
  };
  p.chunk_size = 5u << 20;
  p.large_bytes = 64u << 20;  // no chunking here; the object stores run the big one
  return p;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Local, DriverSuite, ::testing::Values(Filesystem()), SuiteName);

}  // namespace dtr::storage::testing
