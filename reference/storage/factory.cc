#include "storage/factory.h"

#include "storage/azure_config.h"
#include "storage/azure_driver.h"
#include "storage/filesystem_driver.h"
#include "storage/nfs_config.h"
#include "storage/nfs_driver.h"
#include "storage/s3_config.h"
#include "storage/s3_driver.h"
#include "storage/swift_config.h"
#include "storage/swift_driver.h"

namespace dtr::storage {

Result<std::unique_ptr<BlobDriver>> CreateDriver(const std::string& name,
                                                 const std::map<std::string, std::string>& params,
                                                 const std::string& data_dir) {
  if (name == "filesystem") {
    auto it = params.find("rootdirectory");
    std::string root =
        it != params.end() && !it->second.empty() ? it->second : data_dir + "/storage";
    if (Status s = MakeDirs(root); !s.ok()) return s;
    return std::unique_ptr<BlobDriver>(new FilesystemDriver(root));
  }
  if (name == "nfs") {
    auto config = ParseNfsConfig(params);
    if (!config.ok()) return config.status();
    auto driver = NfsDriver::Open(std::move(*config));
    if (!driver.ok()) return driver.status();
    return std::unique_ptr<BlobDriver>(std::move(*driver));
  }
  if (name == "s3" || name == "s3aws" || name == "cleversafe") {
    auto config = ParseS3Config(name, params);
    if (!config.ok()) return config.status();
    return std::unique_ptr<BlobDriver>(new S3Driver(std::move(*config)));
  }
  if (name == "swift") {
    auto config = ParseSwiftConfig(params);
    if (!config.ok()) return config.status();
    return std::unique_ptr<BlobDriver>(new SwiftDriver(std::move(*config)));
  }
  if (name == "azure") {
    auto config = ParseAzureConfig(params);
    if (!config.ok()) return config.status();
    return std::unique_ptr<BlobDriver>(new AzureDriver(std::move(*config)));
  }
  return Status(Code::kUnsupported, "storage driver '" + name + "' is not available in this build");
}

}  // namespace dtr::storage
