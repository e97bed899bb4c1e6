#include "core/tuf/encoding.h"

#include "core/hex.h"

namespace dtr::tuf {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (data.size() - i == 1) {
    uint32_t v = b(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (data.size() - i == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return InvalidArgument("base64: length is not a multiple of 4");
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = clean[i + static_cast<size_t>(k)];
      if (c == '=') {
        // Padding only in the last quantum, only at its end, at most two.
        if (i + 4 != clean.size() || k < 2) return InvalidArgument("base64: misplaced '='");
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad > 0) return InvalidArgument("base64: data after '='");
      v[k] = Base64Value(c);
      if (v[k] < 0) return InvalidArgument("base64: invalid character");
    }
    uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

std::string HexEncode(std::string_view data) { return HexLower(data); }

Result<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return InvalidArgument("hex: odd length");
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("hex: invalid character");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::vector<PemBlock> PemDecodeAll(std::string_view text) {
  std::vector<PemBlock> blocks;
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t pos = 0;
  while (true) {
    size_t b = text.find(kBegin, pos);
    if (b == std::string_view::npos) break;
    // "-----BEGIN" must start a line.
    if (b != 0 && text[b - 1] != '\n') {
      pos = b + kBegin.size();
      continue;
    }
    size_t eol = text.find('\n', b);
    if (eol == std::string_view::npos) break;
    std::string_view line = text.substr(b + kBegin.size(), eol - b - kBegin.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 5 || line.substr(line.size() - 5) != "-----") {
      pos = eol;
      continue;
    }
    std::string type(line.substr(0, line.size() - 5));
    std::string end = "-----END " + type + "-----";
    size_t e = text.find(end, eol);
    if (e == std::string_view::npos) break;
    std::string_view body = text.substr(eol + 1, e - eol - 1);
    std::string b64;
    size_t line_start = 0;
    while (line_start < body.size()) {
      size_t nl = body.find('\n', line_start);
      std::string_view l = body.substr(
          line_start, nl == std::string_view::npos ? std::string_view::npos : nl - line_start);
      if (l.find(':') == std::string_view::npos) {  // header lines ("Proc-Type: ...") skipped
        for (char c : l) {
          if (c != ' ' && c != '\t' && c != '\r') b64.push_back(c);
        }
      }
      if (nl == std::string_view::npos) break;
      line_start = nl + 1;
    }
    pos = e + end.size();
    auto der = Base64Decode(b64);
    if (!der.ok()) continue;
    blocks.push_back(PemBlock{std::move(type), std::move(*der)});
  }
  return blocks;
}

std::string PemEncode(std::string_view type, std::string_view der) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(type) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64.substr(i, 64));
    out.push_back('\n');
  }
  out += "-----END " + std::string(type) + "-----\n";
  return out;
}

}  // namespace dtr::tuf
