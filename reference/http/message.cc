#include "http/message.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace dtr::http {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  items_.emplace_back(std::string(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  items_.erase(std::remove_if(items_.begin(), items_.end(),
                              [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); }),
               items_.end());
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& kv : items_) {
    if (EqualsIgnoreCase(kv.first, name)) return std::string_view(kv.second);
  }
  return std::nullopt;
}

std::string Headers::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return std::string(v ? *v : fallback);
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& kv : items_) {
    if (EqualsIgnoreCase(kv.first, name)) out.push_back(kv.second);
  }
  return out;
}

ssize_t StringBodyReader::Read(char* buf, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return static_cast<ssize_t>(k);
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& kv : query) {
    if (kv.first == name) return std::string_view(kv.second);
  }
  return std::nullopt;
}

bool BodyWriter::SendFile(int fd, uint64_t offset, uint64_t length) {
  std::vector<char> buf(std::min<uint64_t>(length, 1 << 20));
  while (length > 0) {
    size_t want = std::min<uint64_t>(length, buf.size());
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
    if (n <= 0) return false;
    if (!Write(buf.data(), static_cast<size_t>(n))) return false;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return true;
}

std::string ExternalBaseUrl(const Request& req) {
  auto first = [](std::string v) {
    if (auto comma = v.find(','); comma != std::string::npos) v.resize(comma);
    while (!v.empty() && v.back() == ' ') v.pop_back();
    return v;
  };
  std::string proto = first(req.headers.GetOr("X-Forwarded-Proto", req.tls ? "https" : "http"));
  std::string host =
      first(req.headers.GetOr("X-Forwarded-Host", req.headers.GetOr("Host", "localhost")));
  return proto + "://" + host;
}

std::string_view StatusText(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace dtr::http
