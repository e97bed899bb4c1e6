#include "config/etcd_json.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "auth/base64.h"

namespace dtr::config::etcd {

using nlohmann::json;

namespace {

Status Malformed(const std::string& what) {
  return IOError("etcd answered with a malformed " + what);
}

// 64-bit integers come as JSON strings (proto3 JSON mapping); accept plain numbers too.
Status Int64(const json& obj, const char* name, int64_t* out) {
  *out = 0;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return Status::Ok();
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return Status::Ok();
  }
  return Malformed(std::string("field \"") + name + "\"");
}

Status Bool(const json& obj, const char* name, bool* out) {
  *out = false;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return Malformed(std::string("field \"") + name + "\"");
  *out = it->get<bool>();
  return Status::Ok();
}

Status Bytes(const json& obj, const char* name, std::string* out) {
  out->clear();
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Malformed(std::string("field \"") + name + "\"");
  auto decoded = auth::Base64Decode(it->get_ref<const std::string&>());
  if (!decoded.ok()) return Malformed(std::string("base64 field \"") + name + "\"");
  *out = std::move(decoded.value());
  return Status::Ok();
}

Status Header(const json& obj, int64_t* revision) {
  *revision = 0;
  auto it = obj.find("header");
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Malformed("header");
  return Int64(*it, "revision", revision);
}

Result<json> ParseObject(std::string_view body, const char* what) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Malformed(std::string(what) + " (not a JSON object)");
  return j;
}

Status ParseKeyValue(const json& j, KeyValue* kv) {
  if (!j.is_object()) return Malformed("key-value");
  Status s;
  if (!(s = Bytes(j, "key", &kv->key)).ok()) return s;
  if (!(s = Bytes(j, "value", &kv->value)).ok()) return s;
  if (!(s = Int64(j, "create_revision", &kv->create_revision)).ok()) return s;
  return Int64(j, "mod_revision", &kv->mod_revision);
}

Status ParseRangeObject(const json& j, RangeResponse* out) {
  Status s;
  if (!(s = Header(j, &out->revision)).ok()) return s;
  if (!(s = Bool(j, "more", &out->more)).ok()) return s;
  auto it = j.find("kvs");
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Malformed("range answer (kvs is not an array)");
  for (const json& e : *it) {
    KeyValue kv;
    if (!(s = ParseKeyValue(e, &kv)).ok()) return s;
    out->kvs.push_back(std::move(kv));
  }
  return Status::Ok();
}

std::string B64(std::string_view s) { return auth::Base64Encode(s); }

Code CodeForGrpc(int64_t grpc) {
  switch (grpc) {
    case 3:
      return Code::kInvalidArgument;
    case 4:
      return Code::kUnavailable;  // deadline exceeded
    case 5:
      return Code::kNotFound;
    case 6:
      return Code::kAlreadyExists;
    case 7:
      return Code::kPermissionDenied;
    case 8:
      return Code::kResourceExhausted;
    case 9:
      return Code::kFailedPrecondition;
    case 10:
      return Code::kFailedPrecondition;  // aborted
    case 11:
      return Code::kOutOfRange;  // e.g. the revision was compacted
    case 12:
      return Code::kUnsupported;
    case 14:
      return Code::kUnavailable;
    case 16:
      return Code::kUnauthenticated;
    default:
      return Code::kIOError;
  }
}

Code CodeForHttp(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kUnsupported;  // no such gateway endpoint
    case 413:
      return Code::kTooLarge;
    case 429:
      return Code::kResourceExhausted;
    default:
      return status >= 500 ? Code::kUnavailable : Code::kIOError;
  }
}

// The gateway's own connection to its member failed mid-request (the member restarted or
// is going away): as unavailable as a member that does not answer, and the request may or
// may not have been applied. Seen as "unexpected EOF" (gRPC code 2) after a leader was
// killed and restarted.
bool GatewayTransportFailure(std::string_view m) {
  for (std::string_view sign : {"transport is closing", "error reading from server",
                                "connection refused", "connection reset"}) {
    if (m.find(sign) != std::string_view::npos) return true;
  }
  return m == "unexpected EOF" || m == "EOF";
}

// Both shapes the gateway uses: unary {"error": "...", "code": 14, "message": "..."} and
// streaming {"error": {"grpc_code": 14, "http_code": 503, "message": "..."}}.
std::optional<Status> GatewayError(const json& j) {
  auto it = j.find("error");
  if (it == j.end()) return std::nullopt;
  const json& src = it->is_object() ? *it : j;
  int64_t code = 0;
  if (!Int64(src, "code", &code).ok() || code == 0) {
    if (!Int64(src, "grpc_code", &code).ok()) code = 0;
  }
  std::string message;
  if (auto m = src.find("message"); m != src.end() && m->is_string())
    message = m->get<std::string>();
  if (message.empty() && it->is_string()) message = it->get<std::string>();
  if (message.empty()) message = "unknown error";
  if (GatewayTransportFailure(message)) return Status(Code::kUnavailable, "etcd: " + message);
  return Status(code == 0 ? Code::kIOError : CodeForGrpc(code), "etcd: " + message);
}

}  // namespace

std::string RangeRequest(std::string_view key, std::string_view range_end) {
  json j{{"key", B64(key)}};
  if (!range_end.empty()) j["range_end"] = B64(range_end);
  return j.dump();
}

std::string PutRequest(std::string_view key, std::string_view value) {
  return json{{"key", B64(key)}, {"value", B64(value)}}.dump();
}

std::string DeleteRangeRequest(std::string_view key) { return json{{"key", B64(key)}}.dump(); }

std::string CompareAndSwapRequest(std::string_view key, int64_t expected,
                                  std::optional<std::string_view> value) {
  json compare{{"key", B64(key)},
               {"target", "MOD"},
               {"result", "EQUAL"},
               {"mod_revision", std::to_string(expected)}};
  json success = value ? json{{"request_put", {{"key", B64(key)}, {"value", B64(*value)}}}}
                       : json{{"request_delete_range", {{"key", B64(key)}}}};
  json failure{{"request_range", {{"key", B64(key)}}}};
  return json{{"compare", json::array({compare})},
              {"success", json::array({success})},
              {"failure", json::array({failure})}}
      .dump();
}

std::string WatchCreateRequest(std::string_view key, std::string_view range_end,
                               int64_t start_revision) {
  json req{{"key", B64(key)}};
  if (!range_end.empty()) req["range_end"] = B64(range_end);
  if (start_revision > 0) req["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", req}}.dump();
}

Result<RangeResponse> ParseRange(std::string_view body) {
  auto j = ParseObject(body, "range answer");
  if (!j.ok()) return j.status();
  RangeResponse out;
  if (Status s = ParseRangeObject(*j, &out); !s.ok()) return s;
  return out;
}

Result<WriteResponse> ParseWrite(std::string_view body) {
  auto j = ParseObject(body, "write answer");
  if (!j.ok()) return j.status();
  WriteResponse out;
  Status s;
  if (!(s = Header(*j, &out.revision)).ok()) return s;
  if (!(s = Int64(*j, "deleted", &out.deleted)).ok()) return s;
  if (out.revision <= 0) return Malformed("write answer (no revision)");
  return out;
}

Result<TxnResponse> ParseTxn(std::string_view body) {
  auto j = ParseObject(body, "transaction answer");
  if (!j.ok()) return j.status();
  TxnResponse out;
  Status s;
  if (!(s = Header(*j, &out.revision)).ok()) return s;
  if (!(s = Bool(*j, "succeeded", &out.succeeded)).ok()) return s;
  if (out.revision <= 0) return Malformed("transaction answer (no revision)");
  auto it = j->find("responses");
  if (it == j->end() || it->is_null()) return out;
  if (!it->is_array()) return Malformed("transaction answer (responses is not an array)");
  for (const json& r : *it) {
    if (!r.is_object()) return Malformed("transaction answer (a response is not an object)");
    auto range = r.find("response_range");
    if (range == r.end()) continue;
    if (!range->is_object()) return Malformed("transaction answer (response_range)");
    RangeResponse rr;
    if (!(s = ParseRangeObject(*range, &rr)).ok()) return s;
    out.ranges.push_back(std::move(rr));
  }
  return out;
}

Result<WatchMessage> ParseWatchMessage(std::string_view message) {
  auto j = ParseObject(message, "watch message");
  if (!j.ok()) return j.status();
  if (auto err = GatewayError(*j)) return *err;
  auto it = j->find("result");
  if (it == j->end() || !it->is_object()) return Malformed("watch message (no result)");
  const json& r = *it;
  WatchMessage out;
  Status s;
  if (!(s = Header(r, &out.revision)).ok()) return s;
  if (!(s = Bool(r, "created", &out.created)).ok()) return s;
  if (!(s = Bool(r, "canceled", &out.canceled)).ok()) return s;
  if (!(s = Int64(r, "compact_revision", &out.compact_revision)).ok()) return s;
  if (auto reason = r.find("cancel_reason"); reason != r.end() && reason->is_string()) {
    out.cancel_reason = reason->get<std::string>();
  }
  auto events = r.find("events");
  if (events == r.end() || events->is_null()) return out;
  if (!events->is_array()) return Malformed("watch message (events is not an array)");
  for (const json& e : *events) {
    if (!e.is_object()) return Malformed("watch event");
    WatchEvent ev;
    if (auto type = e.find("type"); type != e.end() && !type->is_null()) {
      if (*type == "DELETE" || *type == 1) {
        ev.deleted = true;
      } else if (!(*type == "PUT" || *type == 0)) {
        return Malformed("watch event type");
      }
    }
    auto kv = e.find("kv");
    if (kv == e.end()) return Malformed("watch event (no kv)");
    if (!(s = ParseKeyValue(*kv, &ev.kv)).ok()) return s;
    if (ev.kv.mod_revision <= 0) return Malformed("watch event (no mod_revision)");
    out.events.push_back(std::move(ev));
  }
  return out;
}

Status ErrorFromResponse(int http_status, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto err = GatewayError(j)) return *err;
  }
  std::string text(body.substr(0, 200));
  return Status(CodeForHttp(http_status), "etcd answered HTTP " + std::to_string(http_status) +
                                              (text.empty() ? std::string() : ": " + text));
}

bool RejectedBeforeProposal(const Status& s) {
  const std::string& m = s.message();
  return m == "etcd: etcdserver: no leader" || m == "etcd: etcdserver: too many requests" ||
         m == "etcd: etcdserver: not capable";
}

void JsonStreamSplitter::Feed(std::string_view data) {
  if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);
    pos_ -= start_;
    start_ = 0;
  }
  buf_.append(data);
}

std::optional<std::string> JsonStreamSplitter::Next() {
  for (; pos_ < buf_.size(); ++pos_) {
    char c = buf_[pos_];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (in_scalar_) {
      if (space || c == '{' || c == '[') {
        in_scalar_ = false;
        std::string out = buf_.substr(start_, pos_ - start_);
        start_ = pos_;
        return out;
      }
      continue;
    }
    if (depth_ == 0) {
      if (space) {
        start_ = pos_ + 1;
        continue;
      }
      start_ = pos_;
      if (c != '{' && c != '[') {
        in_scalar_ = true;
        if (c == '"') in_string_ = true;
        continue;
      }
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        ++pos_;
        std::string out = buf_.substr(start_, pos_ - start_);
        start_ = pos_;
        return out;
      }
    }
  }
  return std::nullopt;
}

}  // namespace dtr::config::etcd
