#include "auth.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace dtrc {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// One challenge list: `scheme [token68 | param=value, ...], scheme ...`.
void parse_one(std::string_view s, std::vector<Challenge>& out) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  auto read_token = [&] {
    std::size_t start = i;
    while (i < s.size() && is_token_char(s[i])) ++i;
    return std::string(s.substr(start, i - start));
  };
  while (i < s.size()) {
    skip_ws();
    while (i < s.size() && s[i] == ',') {
      ++i;
      skip_ws();
    }
    if (i >= s.size()) break;
    std::string scheme = read_token();
    if (scheme.empty()) {
      ++i;  // garbage: skip a character and go on
      continue;
    }
    Challenge ch;
    ch.scheme = lower(scheme);
    // auth-params (name=value, comma separated) until a token not followed by '=': the
    // next challenge's scheme.
    while (true) {
      skip_ws();
      std::size_t mark = i;
      std::string name = read_token();
      skip_ws();
      if (name.empty() || i >= s.size() || s[i] != '=') {
        i = mark;  // the next challenge's scheme (or a token68, which we ignore)
        break;
      }
      ++i;  // '='
      skip_ws();
      std::string value;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          value.push_back(s[i]);
          ++i;
        }
        if (i < s.size()) ++i;
      } else {
        value = read_token();
      }
      ch.params[lower(name)] = value;
      skip_ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    out.push_back(std::move(ch));
  }
}

}  // namespace

std::vector<Challenge> parse_www_authenticate(const std::vector<std::string>& values) {
  std::vector<Challenge> out;
  for (const auto& v : values) parse_one(v, out);
  return out;
}

std::string base64_encode(std::string_view in) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  while (i + 2 < in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out = base64_encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string url_encode(std::string_view in) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string repository_of(std::string_view path) {
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (path.substr(0, 4) != "/v2/") return "";
  std::string_view rest = path.substr(4);
  // The last marker wins: a repository name may itself contain "blobs" or "tags".
  std::size_t best = std::string_view::npos;
  for (std::string_view marker : {"/blobs/", "/manifests/", "/tags/", "/referrers/"}) {
    auto pos = rest.rfind(marker);
    if (pos != std::string_view::npos && pos > 0 &&
        (best == std::string_view::npos || pos > best)) {
      best = pos;
    }
  }
  return best == std::string_view::npos ? "" : std::string(rest.substr(0, best));
}

std::string token_request_url(const Challenge& bearer) {
  std::string url = bearer.params.count("realm") ? bearer.params.at("realm") : "";
  std::vector<std::string> query;
  if (auto it = bearer.params.find("service"); it != bearer.params.end()) {
    query.push_back("service=" + url_encode(it->second));
  }
  if (auto it = bearer.params.find("scope"); it != bearer.params.end()) {
    std::istringstream in(it->second);
    std::string scope;
    while (in >> scope) query.push_back("scope=" + url_encode(scope));
  }
  for (std::size_t i = 0; i < query.size(); ++i) {
    url += (i == 0 && url.find('?') == std::string::npos) ? "?" : "&";
    url += query[i];
  }
  return url;
}

std::optional<Token> parse_token_response(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Token t;
  for (const char* field : {"token", "access_token"}) {
    if (j.contains(field) && j[field].is_string() && !j[field].get<std::string>().empty()) {
      t.value = j[field].get<std::string>();
      break;
    }
  }
  if (t.value.empty()) return std::nullopt;
  long long expires_in = 60;  // the token spec's default
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
    expires_in = std::max<long long>(j["expires_in"].get<long long>(), 1);
  }
  // Refresh a little early so a token does not expire between cache and use.
  t.expires = std::chrono::steady_clock::now() +
              std::chrono::seconds(expires_in > 10 ? expires_in - 5 : expires_in);
  return t;
}

std::string TokenCache::key_for(const Challenge& bearer) {
  std::set<std::string> scopes;
  if (auto it = bearer.params.find("scope"); it != bearer.params.end()) {
    std::istringstream in(it->second);
    std::string s;
    while (in >> s) scopes.insert(s);
  }
  std::string key = (bearer.params.count("realm") ? bearer.params.at("realm") : "") + "|" +
                    (bearer.params.count("service") ? bearer.params.at("service") : "") + "|";
  for (const auto& s : scopes) key += s + " ";
  return key;
}

std::optional<std::string> TokenCache::get(const std::string& key) const {
  auto it = tokens_.find(key);
  if (it == tokens_.end() || it->second.expires < std::chrono::steady_clock::now()) {
    return std::nullopt;
  }
  return it->second.value;
}

void TokenCache::put(const std::string& key, Token token) { tokens_[key] = std::move(token); }

std::optional<std::string> TokenCache::for_repo(const std::string& repo) const {
  auto it = by_repo_.find(repo);
  if (it == by_repo_.end()) return std::nullopt;
  return get(it->second);
}

}  // namespace dtrc
