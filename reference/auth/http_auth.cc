#include "auth/http_auth.h"

#include "auth/base64.h"

namespace dtr::auth {

namespace {

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken68Char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

bool IsToken68(std::string_view s) {
  size_t end = s.find_last_not_of('=');
  if (end == std::string_view::npos) return false;
  for (size_t i = 0; i <= end; ++i) {
    if (!IsToken68Char(s[i])) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AppendQuoted(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// A cursor over a WWW-Authenticate value.
class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view s) : s_(s) {}

  Result<std::vector<Challenge>> Parse() {
    std::vector<Challenge> out;
    SkipListSeparators();
    while (!AtEnd()) {
      Challenge c;
      std::string_view scheme = Token();
      if (scheme.empty()) return Error("expected an auth scheme");
      c.scheme = Lower(scheme);
      bool spaced = SkipOws();
      if (!AtEnd() && Peek() != ',') {
        if (!spaced) return Error("expected a space after the auth scheme");
        if (Status st = ParseParamsOrToken68(c); !st.ok()) return st;
      }
      out.push_back(std::move(c));
      SkipListSeparators();
    }
    if (out.empty()) return InvalidArgument("WWW-Authenticate: no challenge");
    return out;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }

  Status Error(const std::string& what) const {
    return InvalidArgument("WWW-Authenticate: " + what + " at offset " + std::to_string(pos_));
  }

  bool SkipOws() {
    size_t start = pos_;
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t')) ++pos_;
    return pos_ > start;
  }

  void SkipListSeparators() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == ',')) ++pos_;
  }

  std::string_view Token() {
    size_t start = pos_;
    while (!AtEnd() && IsTchar(Peek())) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // True when the cursor is at `token BWS "="`, the start of an auth-param; does not move.
  bool AtParam() {
    size_t save = pos_;
    bool param = !Token().empty();
    SkipOws();
    param = param && !AtEnd() && Peek() == '=';
    pos_ = save;
    return param;
  }

  // token68 is what remains up to the next ',' (or the end) if it has token68's shape and the
  // text there is not `name=value`.
  bool TryToken68(Challenge& c) {
    size_t comma = s_.find(',', pos_);
    std::string_view candidate =
        TrimOws(s_.substr(pos_, comma == std::string_view::npos ? s_.npos : comma - pos_));
    if (!IsToken68(candidate)) return false;
    c.token68 = std::string(candidate);
    pos_ = comma == std::string_view::npos ? s_.size() : comma;
    return true;
  }

  Status ParseParamsOrToken68(Challenge& c) {
    if (TryToken68(c)) return Status::Ok();
    while (true) {
      std::string_view name = Token();
      if (name.empty()) return Error("expected a parameter name");
      SkipOws();
      if (AtEnd() || Peek() != '=') return Error("expected '=' after a parameter name");
      ++pos_;
      SkipOws();
      auto value = Value();
      if (!value.ok()) return value.status();
      if (!c.params.emplace(Lower(name), std::move(*value)).second) {
        return Error("parameter '" + Lower(name) + "' repeated");
      }
      SkipOws();
      if (AtEnd()) return Status::Ok();
      if (Peek() != ',') return Error("expected ',' between parameters");
      SkipListSeparators();
      if (AtEnd() || !AtParam()) return Status::Ok();  // the next challenge starts here
    }
  }

  Result<std::string> Value() {
    if (AtEnd()) return Error("expected a parameter value");
    if (Peek() != '"') {
      std::string_view token = Token();
      if (token.empty()) return Error("expected a token or a quoted string");
      return std::string(token);
    }
    ++pos_;
    std::string out;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (AtEnd()) break;
        c = s_[pos_++];
      }
      out += c;
    }
    return Error("unterminated quoted string");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string FormatBearerChallenge(const BearerChallenge& challenge) {
  std::string out = "Bearer ";
  AppendQuoted(out, "realm", challenge.realm);
  out += ',';
  AppendQuoted(out, "service", challenge.service);
  if (!challenge.scopes.empty()) {
    out += ',';
    AppendQuoted(out, "scope", FormatScopes(challenge.scopes));
  }
  if (!challenge.error.empty()) {
    out += ',';
    AppendQuoted(out, "error", challenge.error);
  }
  return out;
}

std::string FormatBasicChallenge(std::string_view realm) {
  std::string out = "Basic ";
  AppendQuoted(out, "realm", realm);
  return out;
}

std::string Challenge::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<Challenge>> ParseChallenges(std::string_view header_value) {
  return ChallengeParser(header_value).Parse();
}

Result<Credentials> ParseAuthorization(std::string_view header_value) {
  std::string_view value = TrimOws(header_value);
  size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) {
    return InvalidArgument("Authorization: expected '<scheme> <credentials>'");
  }
  std::string scheme = Lower(value.substr(0, space));
  std::string_view credentials = TrimOws(value.substr(space));
  Credentials out;
  if (scheme == "bearer") {
    out.scheme = Credentials::Scheme::kBearer;
    if (!IsToken68(credentials)) return InvalidArgument("Authorization: malformed bearer token");
    out.token = std::string(credentials);
    return out;
  }
  if (scheme != "basic") {
    return Status(Code::kUnsupported, "Authorization: unsupported scheme; use Basic or Bearer");
  }
  auto decoded = Base64Decode(credentials);
  if (!decoded.ok()) return InvalidArgument("Authorization: Basic credentials are not base64");
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return InvalidArgument("Authorization: Basic credentials lack the ':' after the user name");
  }
  out.username = decoded->substr(0, colon);
  out.password = decoded->substr(colon + 1);
  return out;
}

std::string FormatBasicAuthorization(std::string_view username, std::string_view password) {
  std::string pair(username);
  pair += ':';
  pair += password;
  return "Basic " + Base64Encode(pair);
}

}  // namespace dtr::auth
