// JSON as Notary reads and signs it. Parsing follows Go's encoding/json (what every Notary
// client and server uses): invalid UTF-8 and lone surrogates become U+FFFD, control
// characters in strings are errors, objects keep their members in document order (Go
// struct decoding lets the last duplicate win and matches field names case-insensitively;
// FindMember does the same). Canonical output follows github.com/docker/go/canonical/json,
// the bytes TUF signatures are computed over: object keys sorted bytewise, no whitespace,
// strings with only '\\' and '"' escaped (every other byte as is), numbers as integers
// (a number with a fraction cannot be canonicalised, as in Go).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace dtr::tuf {

class Json {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Member;

  // Special members are out of line: Member is incomplete inside this class.
  Json();
  ~Json();
  Json(const Json&);
  Json(Json&&) noexcept;
  Json& operator=(const Json&);
  Json& operator=(Json&&) noexcept;

  static Json Null();
  static Json Bool(bool b);
  static Json Number(int64_t n);
  // `literal` must be a valid JSON number.
  static Json NumberLiteral(std::string literal);
  static Json String(std::string s);
  static Json Array(std::vector<Json> items);
  static Json Object(std::vector<Member> members);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_bool() const { return kind_ == Kind::kBool; }

  bool bool_value() const { return bool_; }
  // The decoded string, or a number's literal text.
  const std::string& str() const { return text_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }
  std::vector<Json>& items() { return items_; }

  // The member Go would decode into a struct field named `name`: the last exact match,
  // else the last case-insensitive match. Null when absent.
  const Json* FindMember(std::string_view name) const;
  // The member with exactly this key (the last one when repeated): map semantics.
  const Json* Get(std::string_view key) const;
  // Appends or replaces (exact key).
  void Set(std::string key, Json value);

  // A number that is an integer literal in int64 range (Go decoding into an int field).
  Result<int64_t> AsInt64() const;

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Json> items_;
  std::vector<Member> members_;
};

struct Json::Member {
  std::string key;
  Json value;
};

inline constexpr int kMaxJsonDepth = 512;

// Parses exactly one JSON value, with optional surrounding whitespace.
Result<Json> ParseJson(std::string_view text);

// Canonical JSON of `value`; fails on numbers that are not integers (or beyond int64).
Result<std::string> CanonicalJson(const Json& value);
// Canonical JSON of the object/array/... in `text` as Go's verifier computes it: decoded
// into generic values (numbers become float64) and re-encoded canonically.
Result<std::string> CanonicalizeText(std::string_view text);

// Appends `s` as a canonical JSON string.
void AppendCanonicalString(std::string_view s, std::string* out);

}  // namespace dtr::tuf
