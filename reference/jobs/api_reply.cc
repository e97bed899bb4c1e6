#include "jobs/api_reply.h"

#include <ctime>

#include "jobs/json_fields.h"

namespace dtr::jobs::reply {

using nlohmann::json;

void Error(http::Response& res, int status, const std::string& code, const std::string& message,
           const json& detail) {
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.body = json{{"errors",
                   json::array({json{{"code", code}, {"message", message}, {"detail", detail}}})}}
                 .dump(-1, ' ', false, json::error_handler_t::replace);
}

void Json(http::Response& res, int status, const json& body) {
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void MethodNotAllowed(http::Response& res, const std::string& allow) {
  res.headers.Set("Allow", allow);
  Error(res, 405, "NOT_ALLOWED", "method not allowed here; allowed: " + allow);
}

bool RequireAuthenticated(http::Response& res, const access::Principal& who) {
  if (!who.anonymous()) return false;
  res.headers.Set("WWW-Authenticate", "Basic realm=\"dtr\"");
  Error(res, 401, "NOT_AUTHENTICATED", "authentication required");
  return true;
}

bool ReadObject(http::Request& req, http::Response& res, json* out) {
  std::string body;
  char buf[8192];
  while (req.body) {
    ssize_t n = req.body->Read(buf, sizeof buf);
    if (n < 0) {
      Error(res, 400, "INVALID_JSON", "request body incomplete");
      return false;
    }
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
    if (body.size() > (1 << 20)) {
      Error(res, 413, "INVALID_JSON", "request body larger than 1 MiB");
      return false;
    }
  }
  *out = json::parse(body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    Error(res, 400, "INVALID_JSON", "the request body must be a JSON object");
    return false;
  }
  return true;
}

namespace {

// A body field's type error as a 400 naming it; true when there was none.
bool Answered(http::Response& res, const Status& s) {
  if (s.ok()) return true;
  Error(res, 400, "INVALID_PARAMETERS", s.message());
  return false;
}

}  // namespace

bool OptString(const json& b, const char* name, std::string* out, http::Response& res) {
  return Answered(res, ReadOptional(b, name, out));
}

bool OptBool(const json& b, const char* name, bool* out, http::Response& res) {
  return Answered(res, ReadOptional(b, name, out));
}

bool OptInteger(const json& b, const char* name, int64_t* out, http::Response& res) {
  return Answered(res, ReadOptional(b, name, out));
}

bool OptObject(const json& b, const char* name, std::string* out, http::Response& res) {
  return Answered(res, ReadOptionalObject(b, name, out));
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string FormatTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "0001-01-01T00:00:00Z";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

}  // namespace dtr::jobs::reply
