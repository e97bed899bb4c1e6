#include "core/names.h"

#include <string>

namespace dtr {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: alnum runs joined by '.', '_', '__' or one or more '-'.
Status ValidateComponent(std::string_view c) {
  if (c.empty()) return InvalidArgument("repository name has an empty path component");
  if (!IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) {
    return InvalidArgument("repository name component '" + std::string(c) +
                           "' must start and end with a lowercase letter or digit");
  }
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
      for (char ch : sep) {
        if (ch >= 'A' && ch <= 'Z') {
          return InvalidArgument("repository names must be lowercase: '" + std::string(c) + "'");
        }
      }
      return InvalidArgument("repository name component '" + std::string(c) +
                             "' has an invalid separator '" + std::string(sep) +
                             "' (allowed: '.', '_', '__', '-')");
    }
    i = j;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateRepositoryName(std::string_view name) {
  if (name.empty()) return InvalidArgument("repository name is empty");
  if (name.size() > kMaxRepositoryNameLength) {
    return InvalidArgument("repository name is " + std::to_string(name.size()) +
                           " characters long; the limit is 255");
  }
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view comp = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (Status s = ValidateComponent(comp); !s.ok()) return s;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status ValidateTag(std::string_view tag) {
  if (tag.empty()) return InvalidArgument("tag is empty");
  if (tag.size() > 128) return InvalidArgument("tag is longer than 128 characters");
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(tag[0])) return InvalidArgument("tag must start with a letter, digit or '_'");
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return InvalidArgument("tag may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace dtr
