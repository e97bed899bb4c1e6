// Optional typed fields of a JSON object, for request bodies (jobs/api_reply.h) and job
// parameters (JobContext). Absent or null leaves *out as it is; a value of another type is
// InvalidArgument "<name> must be <what>".
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace dtr::jobs {

Status ReadOptional(const nlohmann::json& o, const char* name, std::string* out);
Status ReadOptional(const nlohmann::json& o, const char* name, bool* out);
Status ReadOptional(const nlohmann::json& o, const char* name, int64_t* out);
// An object field, kept as its JSON text.
Status ReadOptionalObject(const nlohmann::json& o, const char* name, std::string* out);

}  // namespace dtr::jobs
