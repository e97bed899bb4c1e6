#include "http/parser.h"

#include "core/range.h"

namespace dtr::http {

namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool Fail(ParseError* err, int status, std::string message) {
  err->status = status;
  err->message = std::move(message);
  return false;
}

}  // namespace

void SplitTarget(std::string_view target, Request* req) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  req->path = PercentDecode(path, false);
  req->query.clear();
  req->raw_query.clear();
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  req->raw_query = std::string(query);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = PercentDecode(pair.substr(0, eq), true);
      std::string value =
          eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
      req->query.emplace_back(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

bool ParseRequestHead(std::string_view head, const HeadLimits& limits, Request* req,
                      ParseError* err) {
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return Fail(err, 400, "malformed request line");
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail(err, 400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method) {
    if (!IsTokenChar(c)) return Fail(err, 400, "malformed request method");
  }
  if (target.empty()) return Fail(err, 400, "empty request target");
  if (target.size() > limits.max_target) {
    return Fail(err, 414,
                "request target is longer than " + std::to_string(limits.max_target) + " bytes");
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Fail(err, 400, "request target contains a control character or space");
    }
  }
  if (target.front() != '/' && target != "*") {
    // Absolute-form targets (proxies) are accepted by taking their path.
    auto scheme = target.find("://");
    if (scheme == std::string_view::npos) return Fail(err, 400, "request target must be a path");
    auto slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (version == "HTTP/1.1") {
    req->version_minor = 1;
  } else if (version == "HTTP/1.0") {
    req->version_minor = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    return Fail(err, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
  } else {
    return Fail(err, 400, "malformed HTTP version");
  }
  req->method = std::string(method);
  req->target = std::string(target);
  SplitTarget(target, req);

  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    std::string_view field =
        head.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    pos = next == std::string_view::npos ? head.size() : next + 2;
    if (field.empty()) continue;
    if (field.front() == ' ' || field.front() == '\t') {
      return Fail(err, 400, "obsolete header line folding is not accepted");
    }
    auto colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(err, 400, "malformed header line (no name or no colon)");
    }
    std::string_view name = field.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return Fail(err, 400, "malformed header name");
    }
    std::string_view value = TrimOws(field.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Fail(err, 400, "header value contains a control character");
      }
    }
    if (req->headers.size() >= limits.max_headers) {
      return Fail(err, 431,
                  "too many header fields (limit " + std::to_string(limits.max_headers) + ")");
    }
    req->headers.Add(std::string(name), std::string(value));
  }

  // Framing: reject anything that could be read two ways (request smuggling).
  auto te = req->headers.GetAll("Transfer-Encoding");
  auto cl = req->headers.GetAll("Content-Length");
  if (!te.empty()) {
    if (!cl.empty()) return Fail(err, 400, "both Transfer-Encoding and Content-Length are set");
    if (te.size() != 1 || !EqualsIgnoreCase(TrimOws(te[0]), "chunked")) {
      return Fail(err, 501, "only Transfer-Encoding: chunked is supported");
    }
  }
  if (!cl.empty()) {
    std::optional<uint64_t> first;
    for (auto v : cl) {
      auto n = ParseUint(TrimOws(v));
      if (!n) return Fail(err, 400, "Content-Length is not a valid number");
      if (first && *first != *n) return Fail(err, 400, "conflicting Content-Length headers");
      first = n;
    }
  }
  if (req->version_minor == 1 && !req->headers.Has("Host")) {
    return Fail(err, 400, "HTTP/1.1 request without a Host header");
  }
  return true;
}

BodyFraming FramingOf(const Request& req) {
  BodyFraming f;
  if (req.headers.Has("Transfer-Encoding")) {
    f.chunked = true;
    return f;
  }
  if (auto cl = req.headers.Get("Content-Length")) {
    f.length = ParseUint(TrimOws(*cl)).value_or(0);
  }
  return f;
}

std::optional<uint64_t> ParseChunkSizeLine(std::string_view line) {
  auto semi = line.find(';');
  std::string_view hex = TrimOws(line.substr(0, semi));
  if (hex.empty() || hex.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace dtr::http
