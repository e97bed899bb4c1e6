// Creates a BlobDriver by the name distribution's config.yml gives it under `storage:`
// (filesystem, s3, s3aws, cleversafe, ...) from its parameters. Like distribution's
// factory: callers name a driver, never construct one.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "storage/blob_driver.h"

namespace dtr::storage {

// `data_dir` is where the filesystem driver keeps blobs when no rootdirectory is given
// (<data_dir>/storage). Errors name the parameter that is wrong; an unknown or not yet
// available driver is kUnsupported.
Result<std::unique_ptr<BlobDriver>> CreateDriver(const std::string& name,
                                                 const std::map<std::string, std::string>& params,
                                                 const std::string& data_dir);

}  // namespace dtr::storage
