#include "api/call.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "app/log.h"
#include "core/names.h"

namespace dtr::api {

namespace {

constexpr size_t kMaxBody = 1 << 20;
constexpr size_t kMaxPageSize = 1000;

const char* TypeName(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

int ErrorStatus(std::string_view code) {
  if (code == err::kNotAuthenticated) return 401;
  if (code == err::kNotAuthorized) return 403;
  if (code == err::kNotAllowed || code == err::kRepositoryContainsTagsInNotary) return 405;
  if (code == err::kTagInNotary) return 409;
  if (code == err::kInternal) return 500;
  if (code == err::kWebhookDeliveryFailed) return 502;
  if (code == err::kNotFound || code.substr(0, 8) == "NO_SUCH_") return 404;
  return 400;
}

// ---- Form ----

bool Form::Has(const char* key) const {
  auto it = body_.find(key);
  return it != body_.end() && !it->is_null();
}

const json* Form::Field(const char* key, bool required, const char* type) {
  if (!ok()) return nullptr;
  auto it = body_.find(key);
  if (it == body_.end() || it->is_null()) {
    if (required) error_ = std::string("field '") + key + "' is required";
    return nullptr;
  }
  bool good = (std::string_view(type) == "string" && it->is_string()) ||
              (std::string_view(type) == "boolean" && it->is_boolean()) ||
              (std::string_view(type) == "integer" && it->is_number_integer());
  if (!good) {
    error_ = std::string("field '") + key + "' must be " +
             (std::string_view(type) == "integer" ? "an integer" : std::string("a ") + type) +
             ", not " + TypeName(*it);
    return nullptr;
  }
  return &*it;
}

Form& Form::Str(const char* key, std::string* out, bool required, size_t max_len) {
  if (const json* j = Field(key, required, "string")) {
    const auto& s = j->get_ref<const std::string&>();
    if (s.size() > max_len) {
      error_ = std::string("field '") + key + "' is longer than " + std::to_string(max_len) +
               " characters";
    } else {
      *out = s;
    }
  }
  return *this;
}

Form& Form::Bool(const char* key, bool* out, bool required) {
  if (const json* j = Field(key, required, "boolean")) *out = j->get<bool>();
  return *this;
}

Form& Form::Int(const char* key, int64_t* out, bool required, int64_t min, int64_t max) {
  if (const json* j = Field(key, required, "integer")) {
    if (j->is_number_unsigned() && j->get<uint64_t>() > static_cast<uint64_t>(max)) {
      error_ = std::string("field '") + key + "' must be between " + std::to_string(min) + " and " +
               std::to_string(max);
      return *this;
    }
    int64_t v = j->get<int64_t>();
    if (v < min || v > max) {
      error_ = std::string("field '") + key + "' must be between " + std::to_string(min) + " and " +
               std::to_string(max);
    } else {
      *out = v;
    }
  }
  return *this;
}

// ---- Call ----

const std::string& Call::Param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return kEmpty;
}

void Call::Reply(int status, const json& body) {
  res.status = status;
  res.stream = nullptr;
  res.headers.Set("Content-Type", "application/json");
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void Call::NoContent() {
  res.status = 204;
  res.stream = nullptr;
  res.headers.Remove("Content-Type");
  res.body.clear();
}

void Call::Fail(const char* code, const std::string& message, const json& detail) {
  if (std::string_view(code) == err::kNotAuthenticated) {
    res.headers.Set("WWW-Authenticate", "Basic realm=\"dtr\"");
  }
  Reply(
      ErrorStatus(code),
      json{{"errors", json::array({{{"code", code}, {"message", message}, {"detail", detail}}})}});
}

void Call::Internal(const Status& s) {
  log::Error("api: " + req.method + " " + req.path + ": " + s.message());
  Fail(err::kInternal, "internal error; the server log has the details");
}

void Call::Deny(const std::string& message) {
  if (who.anonymous()) {
    Fail(err::kNotAuthenticated, "authentication required");
  } else {
    Fail(err::kNotAuthorized, message);
  }
}

std::optional<json> Call::BodyObject(bool allow_empty) {
  std::string data;
  if (req.body != nullptr) {
    char buf[16384];
    while (true) {
      ssize_t n = req.body->Read(buf, sizeof buf);
      if (n < 0) {
        Fail(err::kInvalidJson, "could not read the request body: " + req.body->error());
        return std::nullopt;
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (data.size() > kMaxBody) {
        Fail(err::kInvalidJson, "request body is larger than 1 MiB");
        return std::nullopt;
      }
    }
  }
  if (data.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (allow_empty) return json::object();
    Fail(err::kInvalidJson, "request body must be a JSON object; it is empty");
    return std::nullopt;
  }
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded()) {
    Fail(err::kInvalidJson, "request body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    Fail(err::kInvalidJson, std::string("request body must be a JSON object, not ") + TypeName(j));
    return std::nullopt;
  }
  return j;
}

std::string Call::QueryStr(std::string_view name) const {
  return std::string(req.Query(name).value_or(""));
}

std::optional<bool> Call::QueryBool(std::string_view name, bool fallback) {
  auto v = req.Query(name);
  if (!v || v->empty()) return fallback;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  Fail(err::kInvalidParameters, "query parameter " + std::string(name) +
                                    " must be true or false, not '" + std::string(*v) + "'");
  return std::nullopt;
}

std::optional<int64_t> Call::QueryInt(std::string_view name, int64_t fallback, int64_t min,
                                      int64_t max) {
  auto v = req.Query(name);
  if (!v || v->empty()) return fallback;
  auto n = ParseInt(*v);
  if (!n || *n < min || *n > max) {
    Fail(err::kInvalidParameters, "query parameter " + std::string(name) +
                                      " must be an integer between " + std::to_string(min) +
                                      " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<int64_t> Call::QueryTime(std::string_view name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return int64_t{0};
  auto t = ParseRfc3339Millis(*v);
  if (!t) {
    Fail(err::kInvalidParameters, "query parameter " + std::string(name) +
                                      " must be an RFC 3339 time like 2019-05-01T12:00:00Z");
    return std::nullopt;
  }
  return t;
}

std::optional<Page> Call::PageParams() {
  Page p;
  p.start = QueryStr("pageStart");
  auto size = QueryInt("pageSize", 10, 1, kMaxPageSize);
  if (!size) return std::nullopt;
  p.size = static_cast<size_t>(*size);
  auto count = QueryBool("count", false);
  if (!count) return std::nullopt;
  p.count = *count;
  return p;
}

void Call::SetNextPage(const std::string& next, size_t page_size) {
  res.headers.Set("X-Next-Page-Start", next);
  std::string link = req.path + "?pageStart=" + http::PercentEncode(next) +
                     "&pageSize=" + std::to_string(page_size);
  for (const auto& [k, v] : req.query) {
    if (k == "pageStart" || k == "pageSize") continue;
    link += "&" + http::PercentEncode(k) + "=" + http::PercentEncode(v);
  }
  res.headers.Set("Link", "<" + link + ">; rel=\"next\"");
}

std::string Call::NamespaceType(const std::string& ns) {
  auto it = ns_types_.find(ns);
  if (it != ns_types_.end()) return it->second;
  auto acct = deps.identity->GetAccount(ns);
  std::string type = acct.ok() && acct->has_value() && (*acct)->is_org ? "organization" : "user";
  ns_types_[ns] = type;
  return type;
}

Result<meta::AccessLevel> Call::RepoLevel(const std::string& ns, const std::string& name) {
  std::string key = ns + "/" + name;
  auto it = levels_.find(key);
  if (it != levels_.end()) return it->second;
  auto level = deps.policy->EffectiveAccess(user(), access::RepoName{ns, name});
  if (!level.ok()) return level.status();
  levels_[key] = *level;
  return *level;
}

// ---- names ----

Status ValidateAccountName(std::string_view name, const char* what) {
  std::string rule = std::string(what) +
                     " names must be 2 to 100 characters of lowercase letters and digits, "
                     "optionally separated by single '.', '_' or '-'";
  if (name.size() < 2 || name.size() > 100) {
    return InvalidArgument(rule + "; '" + std::string(name.substr(0, 120)) + "' has " +
                           std::to_string(name.size()));
  }
  bool prev_sep = true;  // the first character must not be a separator
  for (char c : name) {
    bool sep = c == '.' || c == '_' || c == '-';
    if (!IsLowerAlnum(c) && !sep) {
      return InvalidArgument(rule + "; '" + std::string(name) + "' is not");
    }
    if (sep && prev_sep) return InvalidArgument(rule + "; '" + std::string(name) + "' is not");
    prev_sep = sep;
  }
  if (prev_sep) return InvalidArgument(rule + "; '" + std::string(name) + "' is not");
  return Status::Ok();
}

Status ValidateRepoComponent(const std::string& ns, const std::string& name) {
  std::string rule =
      "repository names are lowercase letters and digits, optionally separated by '.', '_', "
      "'__' or dashes, and namespace/name is at most 255 characters";
  if (name.empty() || name.find('/') != std::string::npos) {
    return InvalidArgument(rule + "; '" + name + "' is not a single name");
  }
  if (Status s = ValidateRepositoryName(ns + "/" + name); !s.ok()) {
    return InvalidArgument(rule + ": " + s.message());
  }
  return Status::Ok();
}

std::string BoundBefore(const std::string& first) {
  if (first.empty()) return "";
  std::string bound = first;
  if (bound.back() == '\0') {
    bound.pop_back();
  } else {
    bound.back() = static_cast<char>(bound.back() - 1);
  }
  return bound;
}

// ---- times ----

std::string Rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Rfc3339Millis(int64_t unix_millis) {
  int64_t secs = unix_millis / 1000;
  int64_t ms = unix_millis % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::string s = Rfc3339(secs);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
  return s.substr(0, s.size() - 1) + frac + "Z";
}

std::optional<int64_t> ParseRfc3339Millis(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto year = num(0, 4), month = num(5, 2), day = num(8, 2);
  auto hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t d = digits; d < 3; ++d) millis *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset_minutes = (*oh * 60 + *om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_minutes * 60;
  return secs * 1000 + millis;
}

// ---- events ----

meta::Event MakeEvent(std::string type, std::string object_type, std::string object_name,
                      std::string content, std::string repository) {
  meta::Event e;
  e.type = std::move(type);
  e.object_type = std::move(object_type);
  e.object_name = std::move(object_name);
  e.object_content = std::move(content);
  e.repository = std::move(repository);
  return e;
}

void RecordEvent(Call& c, meta::Event e) {
  e.actor = c.who.name();
  e.actor_type = c.who.anonymous() ? "anonymous" : "user";
  if (Status s = c.deps.identity->AddEvent(&e); !s.ok()) {
    log::Error("api: could not record " + e.type + " " + e.object_type + " event: " + s.message());
    return;
  }
  if (c.deps.on_event) c.deps.on_event(e);
}

}  // namespace dtr::api
