// JSON requests and replies for the jobrunner's HTTP handlers (tag pruning, webhooks), in
// DTR's error envelope {"errors":[{"code","message","detail"}]}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/principal.h"
#include "http/message.h"

namespace dtr::jobs::reply {

void Error(http::Response& res, int status, const std::string& code, const std::string& message,
           const nlohmann::json& detail = nlohmann::json::object());
void Json(http::Response& res, int status, const nlohmann::json& body);
// 405 with an Allow header.
void MethodNotAllowed(http::Response& res, const std::string& allow);
// 401 for anonymous callers (true when it answered).
bool RequireAuthenticated(http::Response& res, const access::Principal& who);

// Reads a JSON object body (at most 1 MiB); answers 400/413 itself and returns false when
// the body is not one.
bool ReadObject(http::Request& req, http::Response& res, nlohmann::json* out);

// Optional typed fields of a request body. Absent or null leaves *out as it is; a value of
// another type answers 400 INVALID_PARAMETERS naming the field and returns false.
bool OptString(const nlohmann::json& b, const char* name, std::string* out, http::Response& res);
bool OptBool(const nlohmann::json& b, const char* name, bool* out, http::Response& res);
bool OptInteger(const nlohmann::json& b, const char* name, int64_t* out, http::Response& res);
// An object field, kept as its JSON text.
bool OptObject(const nlohmann::json& b, const char* name, std::string* out, http::Response& res);

// "/api/v0/webhooks/x" -> {"api", "v0", "webhooks", "x"}.
std::vector<std::string> SplitPath(const std::string& path);

// RFC 3339 in UTC with milliseconds; 0 is Go's zero time ("0001-01-01T00:00:00Z"), as DTR
// shows times that never happened (lastSuccessfulAt of a new webhook).
std::string FormatTime(int64_t unix_ms);

}  // namespace dtr::jobs::reply
