#include "auth.h"

#include <vector>

namespace dtrb {

namespace {
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::optional<Challenge> ParseChallenge(std::string_view h) {
  Challenge c;
  size_t i = 0;
  while (i < h.size() && h[i] == ' ') ++i;
  size_t s = i;
  while (i < h.size() && h[i] != ' ') c.scheme += Lower(h[i++]);
  if (i == s) return std::nullopt;
  // auth-params: name=value or name="quoted", comma separated.
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    std::string name;
    while (i < h.size() && h[i] != '=' && h[i] != ' ' && h[i] != ',') name += Lower(h[i++]);
    if (name.empty()) break;
    while (i < h.size() && h[i] == ' ') ++i;
    if (i >= h.size() || h[i] != '=') {
      c.params[name] = "";
      continue;
    }
    ++i;
    while (i < h.size() && h[i] == ' ') ++i;
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      while (i < h.size() && h[i] != '"') {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value += h[i++];
      }
      if (i >= h.size()) return std::nullopt;  // unterminated quote
      ++i;
    } else {
      while (i < h.size() && h[i] != ',' && h[i] != ' ') value += h[i++];
    }
    c.params[name] = value;
  }
  return c;
}

std::string Base64(std::string_view in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string UrlEncode(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string TokenUrl(const Challenge& c, const std::set<std::string>& scopes) {
  std::string url = c.Param("realm");
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (std::string service = c.Param("service"); !service.empty()) {
    url += sep;
    url += "service=" + UrlEncode(service);
    sep = '&';
  }
  for (const std::string& s : scopes) {
    url += sep;
    url += "scope=" + UrlEncode(s);
    sep = '&';
  }
  return url;
}

Auth::Auth(std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {
  current_ = std::make_shared<const std::string>("");
}

std::string Auth::BasicHeader() const {
  if (user_.empty()) return "";
  return "Basic " + Base64(user_ + ":" + password_);
}

std::shared_ptr<const std::string> Auth::Current(uint64_t* generation) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != nullptr) *generation = generation_;
  return current_;
}

bool Auth::Answer(std::string_view www_authenticate, uint64_t used_generation,
                  const TokenFetcher& fetch, std::string* why) {
  std::lock_guard<std::mutex> lock(mu_);  // one fetch at a time; the others then reuse it
  if (used_generation != generation_) return true;
  auto c = ParseChallenge(www_authenticate);
  if (!c) {
    *why = "unparsable WWW-Authenticate: " + std::string(www_authenticate.substr(0, 120));
    return false;
  }
  if (c->scheme == "basic") {
    if (user_.empty()) {
      *why = "the registry wants Basic credentials: pass --user and --password";
      return false;
    }
    std::string basic = BasicHeader();
    if (*current_ == basic) {
      *why = "the registry refused the credentials given with --user/--password";
      return false;
    }
    current_ = std::make_shared<const std::string>(basic);
    ++generation_;
    return true;
  }
  if (c->scheme != "bearer" || c->Param("realm").empty()) {
    *why = "unsupported auth challenge: " + std::string(www_authenticate.substr(0, 120));
    return false;
  }
  // Accumulate actions per resource so the token covers everything this run does.
  std::string scope = c->Param("scope");
  std::set<std::string> scopes;
  for (size_t start = 0; start < scope.size();) {
    size_t sp = scope.find(' ', start);
    std::string one = scope.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
    start = sp == std::string::npos ? scope.size() : sp + 1;
    size_t last = one.rfind(':');
    if (last == std::string::npos) {
      scopes.insert(one);
      continue;
    }
    std::string resource = one.substr(0, last);
    auto& acts = actions_[resource];
    std::string list = one.substr(last + 1);
    for (size_t a = 0; a < list.size();) {
      size_t comma = list.find(',', a);
      acts.insert(list.substr(a, comma == std::string::npos ? std::string::npos : comma - a));
      a = comma == std::string::npos ? list.size() : comma + 1;
    }
  }
  for (const auto& [resource, acts] : actions_) {
    std::string joined;
    for (const std::string& a : acts) joined += (joined.empty() ? "" : ",") + a;
    scopes.insert(resource + ":" + joined);
  }
  std::string fetch_why;
  auto token = fetch(TokenUrl(*c, scopes), BasicHeader(), &fetch_why);
  if (!token) {
    *why = "token request failed: " + fetch_why;
    return false;
  }
  std::string bearer = "Bearer " + *token;
  if (*current_ == bearer) {
    *why = "the registry refused a fresh token (insufficient scope for " + scope + "?)";
    return false;
  }
  current_ = std::make_shared<const std::string>(bearer);
  ++generation_;
  return true;
}

}  // namespace dtrb
