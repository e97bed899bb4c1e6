#include "jobs/json_fields.h"

namespace dtr::jobs {

using nlohmann::json;

namespace {

// The field `name` of `o` when it is there and not null.
const json* Present(const json& o, const char* name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

Status WrongType(const char* name, const char* what) {
  return InvalidArgument(std::string(name) + " must be " + what);
}

}  // namespace

Status ReadOptional(const json& o, const char* name, std::string* out) {
  const json* v = Present(o, name);
  if (!v) return Status::Ok();
  if (!v->is_string()) return WrongType(name, "a string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status ReadOptional(const json& o, const char* name, bool* out) {
  const json* v = Present(o, name);
  if (!v) return Status::Ok();
  if (!v->is_boolean()) return WrongType(name, "true or false");
  *out = v->get<bool>();
  return Status::Ok();
}

Status ReadOptional(const json& o, const char* name, int64_t* out) {
  const json* v = Present(o, name);
  if (!v) return Status::Ok();
  if (!v->is_number_integer()) return WrongType(name, "an integer");
  *out = v->get<int64_t>();
  return Status::Ok();
}

Status ReadOptionalObject(const json& o, const char* name, std::string* out) {
  const json* v = Present(o, name);
  if (!v) return Status::Ok();
  if (!v->is_object()) return WrongType(name, "an object");
  *out = v->dump();
  return Status::Ok();
}

}  // namespace dtr::jobs
