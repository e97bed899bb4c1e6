#include "finding.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dtr::blackbox {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Header values and details must stay on one line of the file.
std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

}  // namespace

std::string Base64Encode(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(const std::string& in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int s = Sextet(c);
    if (s < 0) return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(s);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

std::string Sha256Digest(const std::string& content) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(content.data(), content.size(), md, &len, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

std::string FormatFinding(const Finding& f) {
  std::ostringstream os;
  os << "# dtr-fuzz finding\n";
  os << "oracle: " << f.oracle << "\n";
  os << "detail: " << OneLine(f.detail) << "\n";
  os << "seed: " << f.seed << "\n";
  for (const auto& s : f.steps) {
    os << "step\n";
    os << "method: " << s.method << "\n";
    os << "path: " << OneLine(s.path) << "\n";
    if (!s.query.empty()) os << "query: " << OneLine(s.query) << "\n";
    for (const auto& [k, v] : s.headers)
      os << "header: " << OneLine(k) << ": " << OneLine(v) << "\n";
    os << "body: " << Base64Encode(s.body) << "\n";
    os << "status: " << s.status << "\n";
  }
  return os.str();
}

std::optional<Finding> ParseFinding(const std::string& text, std::string* error) {
  Finding f;
  std::istringstream is(text);
  std::string line;
  int n = 0;
  auto fail = [&](const std::string& why) {
    *error = "line " + std::to_string(n) + ": " + why;
    return std::nullopt;
  };
  while (std::getline(is, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line == "step") {
      f.steps.emplace_back();
      continue;
    }
    auto colon = line.find(": ");
    std::string key = colon == std::string::npos ? line : line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
    if (key == "body:") key = "body", value = "";  // an empty body is written "body: "
    if (key == "oracle") {
      f.oracle = value;
    } else if (key == "detail") {
      f.detail = value;
    } else if (key == "seed") {
      f.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (f.steps.empty()) {
      return fail("'" + key + "' before the first 'step'");
    } else if (key == "method") {
      f.steps.back().method = value;
    } else if (key == "path") {
      f.steps.back().path = value;
    } else if (key == "query") {
      f.steps.back().query = value;
    } else if (key == "header") {
      auto c = value.find(": ");
      if (c == std::string::npos) return fail("header without ': '");
      f.steps.back().headers.emplace_back(value.substr(0, c), value.substr(c + 2));
    } else if (key == "body") {
      auto body = Base64Decode(value);
      if (!body) return fail("body is not base64");
      f.steps.back().body = *body;
    } else if (key == "status") {
      f.steps.back().status = std::atoi(value.c_str());
    } else {
      return fail("unknown key '" + key + "'");
    }
  }
  if (f.steps.empty()) {
    *error = "no 'step' in the file";
    return std::nullopt;
  }
  for (const auto& s : f.steps) {
    if (s.method.empty() || s.path.empty()) {
      *error = "a step without method or path";
      return std::nullopt;
    }
  }
  return f;
}

}  // namespace dtr::blackbox
