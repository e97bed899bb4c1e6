#include "core/tuf/json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

namespace dtr::tuf {

Json::Json() = default;
Json::~Json() = default;
Json::Json(const Json&) = default;
Json::Json(Json&&) noexcept = default;
Json& Json::operator=(const Json&) = default;
Json& Json::operator=(Json&&) noexcept = default;

Json Json::Null() { return Json(); }

Json Json::Bool(bool b) {
  Json j;
  j.kind_ = Kind::kBool;
  j.bool_ = b;
  return j;
}

Json Json::Number(int64_t n) { return NumberLiteral(std::to_string(n)); }

Json Json::NumberLiteral(std::string literal) {
  Json j;
  j.kind_ = Kind::kNumber;
  j.text_ = std::move(literal);
  return j;
}

Json Json::String(std::string s) {
  Json j;
  j.kind_ = Kind::kString;
  j.text_ = std::move(s);
  return j;
}

Json Json::Array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::kArray;
  j.items_ = std::move(items);
  return j;
}

Json Json::Object(std::vector<Member> members) {
  Json j;
  j.kind_ = Kind::kObject;
  j.members_ = std::move(members);
  return j;
}

namespace {

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

const Json* Json::FindMember(std::string_view name) const {
  if (kind_ != Kind::kObject) return nullptr;
  const Json* exact = nullptr;
  const Json* folded = nullptr;
  for (const auto& m : members_) {
    if (m.key == name) {
      exact = &m.value;
    } else if (EqualFold(m.key, name)) {
      folded = &m.value;
    }
  }
  return exact ? exact : folded;
}

const Json* Json::Get(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  const Json* found = nullptr;
  for (const auto& m : members_) {
    if (m.key == key) found = &m.value;
  }
  return found;
}

void Json::Set(std::string key, Json value) {
  for (auto& m : members_) {
    if (m.key == key) {
      m.value = std::move(value);
      return;
    }
  }
  members_.push_back(Member{std::move(key), std::move(value)});
}

Result<int64_t> Json::AsInt64() const {
  if (kind_ != Kind::kNumber) return InvalidArgument("expected a number");
  const std::string& t = text_;
  if (t.find_first_of(".eE") != std::string::npos) {
    return InvalidArgument("number " + t + " is not an integer");
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == ERANGE || end != t.c_str() + t.size()) {
    return InvalidArgument("number " + t + " is out of range");
  }
  return static_cast<int64_t>(v);
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<Json> ParseDocument() {
    SkipSpace();
    Json v;
    if (Status s = ParseValue(&v, 0); !s.ok()) return s;
    SkipSpace();
    if (pos_ != in_.size()) return Error("unexpected data after the JSON value");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("invalid JSON at offset " + std::to_string(pos_) + ": " + what);
  }

  void SkipSpace() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(Json* out, int depth) {
    if (depth > kMaxJsonDepth) return Error("nested too deeply");
    if (pos_ >= in_.size()) return Error("unexpected end of input");
    char c = in_[pos_];
    switch (c) {
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case '"': {
        std::string s;
        if (Status st = ParseString(&s); !st.ok()) return st;
        *out = Json::String(std::move(s));
        return Status::Ok();
      }
      case 't':
        if (!Literal("true")) return Error("invalid literal");
        *out = Json::Bool(true);
        return Status::Ok();
      case 'f':
        if (!Literal("false")) return Error("invalid literal");
        *out = Json::Bool(false);
        return Status::Ok();
      case 'n':
        if (!Literal("null")) return Error("invalid literal");
        *out = Json::Null();
        return Status::Ok();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Error(std::string("unexpected character '") + c + "'");
    }
  }

  static bool Digit(char c) { return c >= '0' && c <= '9'; }

  Status ParseNumber(Json* out) {
    size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    if (pos_ >= in_.size() || !Digit(in_[pos_])) return Error("invalid number");
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < in_.size() && Digit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (pos_ >= in_.size() || !Digit(in_[pos_])) return Error("invalid number");
      while (pos_ < in_.size() && Digit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (pos_ >= in_.size() || !Digit(in_[pos_])) return Error("invalid number");
      while (pos_ < in_.size() && Digit(in_[pos_])) ++pos_;
    }
    *out = Json::NumberLiteral(std::string(in_.substr(start, pos_ - start)));
    return Status::Ok();
  }

  static void AppendRune(uint32_t r, std::string* out) {
    if (r < 0x80) {
      out->push_back(static_cast<char>(r));
    } else if (r < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (r >> 6)));
      out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (r >> 12)));
      out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (r >> 18)));
      out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
    }
  }

  // Length of the valid UTF-8 sequence at `p`, or 0 (Go's utf8.DecodeRune rules).
  static size_t Utf8Length(std::string_view s, size_t p) {
    auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char c = b(p);
    size_t n;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4, min = 0x10000;
    } else {
      return 0;
    }
    if (p + n > s.size()) return 0;
    uint32_t r = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; ++i) {
      if ((b(p + i) & 0xC0) != 0x80) return 0;
      r = (r << 6) | (b(p + i) & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
    return n;
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > in_.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_ + static_cast<size_t>(i)];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= in_.size()) return Error("unterminated string");
      unsigned char c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c < 0x20) return Error("control character in string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= in_.size()) return Error("unterminated string");
        char e = in_[pos_++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out->push_back(e);
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'n':
            out->push_back('\n');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'u': {
            uint32_t r;
            if (!Hex4(&r)) return Error("invalid \\u escape");
            if (r >= 0xD800 && r <= 0xDFFF) {
              // A surrogate: valid only as the first half of a pair followed by the
              // second; otherwise U+FFFD, and the next escape is read on its own.
              uint32_t r2 = 0;
              size_t save = pos_;
              if (r < 0xDC00 && pos_ + 6 <= in_.size() && in_[pos_] == '\\' &&
                  in_[pos_ + 1] == 'u') {
                pos_ += 2;
                if (Hex4(&r2) && r2 >= 0xDC00 && r2 <= 0xDFFF) {
                  AppendRune(0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00), out);
                  break;
                }
              }
              pos_ = save;
              AppendRune(0xFFFD, out);
              break;
            }
            AppendRune(r, out);
            break;
          }
          default:
            return Error("invalid escape in string");
        }
        continue;
      }
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      size_t n = Utf8Length(in_, pos_);
      if (n == 0) {
        AppendRune(0xFFFD, out);
        ++pos_;
      } else {
        out->append(in_.substr(pos_, n));
        pos_ += n;
      }
    }
  }

  Status ParseArray(Json* out, int depth) {
    ++pos_;
    std::vector<Json> items;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      *out = Json::Array(std::move(items));
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      Json v;
      if (Status s = ParseValue(&v, depth + 1); !s.ok()) return s;
      items.push_back(std::move(v));
      SkipSpace();
      if (pos_ >= in_.size()) return Error("unterminated array");
      char c = in_[pos_++];
      if (c == ']') break;
      if (c != ',') return Error("expected ',' or ']'");
    }
    *out = Json::Array(std::move(items));
    return Status::Ok();
  }

  Status ParseObject(Json* out, int depth) {
    ++pos_;
    std::vector<Json::Member> members;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      *out = Json::Object(std::move(members));
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != '"') return Error("expected a member name");
      Json::Member m;
      if (Status s = ParseString(&m.key); !s.ok()) return s;
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      SkipSpace();
      if (Status s = ParseValue(&m.value, depth + 1); !s.ok()) return s;
      members.push_back(std::move(m));
      SkipSpace();
      if (pos_ >= in_.size()) return Error("unterminated object");
      char c = in_[pos_++];
      if (c == '}') break;
      if (c != ',') return Error("expected ',' or '}'");
    }
    *out = Json::Object(std::move(members));
    return Status::Ok();
  }

  std::string_view in_;
  size_t pos_ = 0;
};

Status AppendCanonical(const Json& v, std::string* out) {
  switch (v.kind()) {
    case Json::Kind::kNull:
      out->append("null");
      return Status::Ok();
    case Json::Kind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return Status::Ok();
    case Json::Kind::kNumber: {
      // Go decodes into float64 and writes int64(f); fractions are unsupported values.
      errno = 0;
      double f = std::strtod(v.str().c_str(), nullptr);
      if (errno == ERANGE && std::isinf(f)) {
        return InvalidArgument("number " + v.str() + " is out of range");
      }
      if (!std::isfinite(f) || std::floor(f) != f) {
        return InvalidArgument("number " + v.str() + " has no canonical form");
      }
      if (f >= 9223372036854775808.0 || f < -9223372036854775808.0) {
        return InvalidArgument("number " + v.str() + " is out of range");
      }
      out->append(std::to_string(static_cast<int64_t>(f)));
      return Status::Ok();
    }
    case Json::Kind::kString:
      AppendCanonicalString(v.str(), out);
      return Status::Ok();
    case Json::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        if (Status s = AppendCanonical(item, out); !s.ok()) return s;
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Json::Kind::kObject: {
      std::map<std::string_view, const Json*> sorted;  // last duplicate wins, as in Go
      for (const auto& m : v.members()) sorted[m.key] = &m.value;
      out->push_back('{');
      bool first = true;
      for (const auto& [k, val] : sorted) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonicalString(k, out);
        out->push_back(':');
        if (Status s = AppendCanonical(*val, out); !s.ok()) return s;
      }
      out->push_back('}');
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace

void AppendCanonicalString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

Result<Json> ParseJson(std::string_view text) { return Parser(text).ParseDocument(); }

Result<std::string> CanonicalJson(const Json& value) {
  std::string out;
  if (Status s = AppendCanonical(value, &out); !s.ok()) return s;
  return out;
}

Result<std::string> CanonicalizeText(std::string_view text) {
  auto v = ParseJson(text);
  if (!v.ok()) return v.status();
  return CanonicalJson(*v);
}

}  // namespace dtr::tuf
