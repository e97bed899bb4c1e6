#include "notary/server/multipart.h"

#include <cctype>
#include <map>

namespace dtr::notary {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "type; a=b; c=\"d\"" -> type, {a: b, c: d} (mime.ParseMediaType, simplified).
bool ParseParams(std::string_view value, std::string* type,
                 std::map<std::string, std::string>* params) {
  size_t i = value.find(';');
  *type = Lower(TrimSpace(value.substr(0, i)));
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    if (i >= value.size()) break;
    size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return false;
    std::string key = Lower(TrimSpace(value.substr(i, eq - i)));
    if (key.empty()) return false;
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        v.push_back(value[i]);
      }
      if (i >= value.size()) return false;  // unterminated quote
      i = value.find(';', i + 1);
    } else {
      size_t semi = value.find(';', i);
      v = std::string(TrimSpace(
          value.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i)));
      i = semi;
    }
    (*params)[key] = v;
  }
  return true;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  std::string type;
  std::map<std::string, std::string> params;
  if (!ParseParams(content_type, &type, &params) || type.rfind("multipart/", 0) != 0) {
    return InvalidArgument("the body is not multipart/form-data");
  }
  auto b = params.find("boundary");
  if (b == params.end() || b->second.empty() || b->second.size() > 70) {
    return InvalidArgument("multipart boundary missing or invalid");
  }
  return b->second;
}

Result<std::vector<FormPart>> ParseMultipart(std::string_view body, std::string_view boundary) {
  std::string delim = "--" + std::string(boundary);
  std::vector<FormPart> parts;
  // The first delimiter may start the body or follow a preamble line.
  size_t pos = body.rfind(delim, 0) == 0 ? 0 : body.find("\r\n" + delim);
  if (pos == std::string_view::npos) return InvalidArgument("multipart: no boundary found");
  if (pos != 0) pos += 2;
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    // Transport padding, then CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return InvalidArgument("multipart: malformed boundary line");
    pos += 2;
    size_t header_end = body.find("\r\n\r\n", pos);
    size_t blank_first = body.substr(pos, 2) == "\r\n" ? pos : std::string_view::npos;
    FormPart part;
    size_t content_start;
    if (blank_first == pos) {
      content_start = pos + 2;
    } else {
      if (header_end == std::string_view::npos)
        return InvalidArgument("multipart: unterminated headers");
      std::string_view headers = body.substr(pos, header_end - pos);
      size_t line_start = 0;
      while (line_start <= headers.size()) {
        size_t eol = headers.find("\r\n", line_start);
        std::string_view line = headers.substr(
            line_start, eol == std::string_view::npos ? std::string_view::npos : eol - line_start);
        size_t colon = line.find(':');
        if (colon != std::string_view::npos &&
            Lower(TrimSpace(line.substr(0, colon))) == "content-disposition") {
          std::string type;
          std::map<std::string, std::string> params;
          if (!ParseParams(line.substr(colon + 1), &type, &params)) {
            return InvalidArgument("multipart: malformed Content-Disposition");
          }
          part.name = params["name"];
          part.filename = params["filename"];
        }
        if (eol == std::string_view::npos) break;
        line_start = eol + 2;
      }
      content_start = header_end + 4;
    }
    size_t next = body.find("\r\n" + delim, content_start);
    if (next == std::string_view::npos)
      return InvalidArgument("multipart: body ends inside a part");
    part.body = std::string(body.substr(content_start, next - content_start));
    parts.push_back(std::move(part));
    pos = next + 2;
  }
}

}  // namespace dtr::notary
