// Files that hold secrets (signing keys, the front secret): read whole, and created at most
// once, atomically and privately, however many processes start at the same moment.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace dtr::auth {

Result<std::string> ReadFile(const std::string& path);

// Writes `content` to a private (0600) temporary file beside `path`, fsyncs it, links it into
// place and fsyncs the directory. Returns kAlreadyExists if another file got to `path` first.
Status CreateExclusive(const std::string& path, std::string_view content);

}  // namespace dtr::auth
