#include "storage/shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace dtr::storage::sharedkey {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Folds runs of whitespace into one space and trims both ends.
std::string Fold(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string StringToSign(std::string_view account, const Request& req) {
  std::map<std::string, std::string> standard;
  std::map<std::string, std::string> ms;  // sorted by lowercase name
  for (const auto& [k, v] : req.headers) {
    std::string name = Lower(k);
    if (name.rfind("x-ms-", 0) == 0) {
      ms[name] = Fold(v);
    } else {
      standard[name] = v;
    }
  }
  auto header = [&](const char* name) {
    auto it = standard.find(name);
    return it == standard.end() ? std::string() : it->second;
  };
  std::string length = header("content-length");
  if (length == "0") length.clear();
  std::string out = req.method + "\n" + header("content-encoding") + "\n" +
                    header("content-language") + "\n" + length + "\n" + header("content-md5") +
                    "\n" + header("content-type") + "\n" + header("date") + "\n" +
                    header("if-modified-since") + "\n" + header("if-match") + "\n" +
                    header("if-none-match") + "\n" + header("if-unmodified-since") + "\n" +
                    header("range") + "\n";
  for (const auto& [k, v] : ms) out += k + ":" + v + "\n";
  out += "/" + std::string(account) + (req.path.empty() ? "/" : req.path);
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : req.query) params[Lower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + k + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::optional<std::string> Authorization(std::string_view account, std::string_view key_base64,
                                         const Request& req) {
  auto key = Base64Decode(key_base64);
  if (!key) return std::nullopt;
  std::string sts = StringToSign(account, req);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
       reinterpret_cast<const unsigned char*>(sts.data()), sts.size(), mac, &len);
  return "SharedKey " + std::string(account) + ":" +
         Base64Encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  size_t pad = in.find('=');
  if (pad != std::string_view::npos &&
      (in.size() - pad > 2 || in.find_first_not_of('=', pad) != std::string_view::npos)) {
    return std::nullopt;
  }
  for (char c : in.substr(0, pad)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return std::nullopt;
  }
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n));
  // EVP_DecodeBlock counts padding as zero bytes.
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) out.pop_back();
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace dtr::storage::sharedkey
