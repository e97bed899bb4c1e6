#include "auth/scope.h"

#include <algorithm>

namespace dtr::auth {

namespace {

bool IsLowerAlnum(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

bool IsAction(std::string_view s) {
  return s == "*" || (!s.empty() &&
                      std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
}

bool IsNameChar(char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; }

// Shortened and stripped of control characters, for quoting input back in an error message.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + (s.size() > 80 ? "...'" : "'");
}

void AddAction(std::vector<std::string>& actions, std::string_view action) {
  if (std::find(actions.begin(), actions.end(), action) == actions.end()) {
    actions.emplace_back(action);
  }
}

void Merge(std::vector<ResourceActions>& into, ResourceActions scope) {
  for (auto& existing : into) {
    if (existing.type == scope.type && existing.resource_class == scope.resource_class &&
        existing.name == scope.name) {
      for (const auto& a : scope.actions) AddAction(existing.actions, a);
      return;
    }
  }
  into.push_back(std::move(scope));
}

}  // namespace

Result<ResourceActions> ParseResourceScope(std::string_view scope) {
  size_t first = scope.find(':');
  size_t last = scope.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return InvalidArgument("scope " + Quote(scope) + " is not type:name:actions");
  }
  ResourceActions r;
  std::string_view type = scope.substr(0, first);
  if (size_t open = type.find('('); open != std::string_view::npos) {
    if (type.back() != ')') return InvalidArgument("scope " + Quote(scope) + " has a bad class");
    r.resource_class = std::string(type.substr(open + 1, type.size() - open - 2));
    type = type.substr(0, open);
    if (!IsLowerAlnum(r.resource_class)) {
      return InvalidArgument("scope " + Quote(scope) + " has a bad class");
    }
  }
  if (!IsLowerAlnum(type)) {
    return InvalidArgument("scope " + Quote(scope) + ": resource type must be [a-z0-9]+");
  }
  r.type = std::string(type);

  std::string_view name = scope.substr(first + 1, last - first - 1);
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return InvalidArgument("scope " + Quote(scope) + " has an empty or malformed resource name");
  }
  r.name = std::string(name);

  std::string_view actions = scope.substr(last + 1);
  while (true) {
    size_t comma = actions.find(',');
    std::string_view action = actions.substr(0, comma);
    if (!IsAction(action)) {
      return InvalidArgument("scope " + Quote(scope) + ": actions must be [a-z]+ or '*'" +
                             " separated by ','");
    }
    AddAction(r.actions, action);
    if (comma == std::string_view::npos) break;
    actions.remove_prefix(comma + 1);
  }
  return r;
}

Result<std::vector<ResourceActions>> ParseScopes(const std::vector<std::string>& scope_params) {
  std::vector<ResourceActions> out;
  for (std::string_view param : scope_params) {
    while (!param.empty()) {
      size_t space = param.find(' ');
      std::string_view one = param.substr(0, space);
      param.remove_prefix(space == std::string_view::npos ? param.size() : space + 1);
      if (one.empty()) continue;
      auto scope = ParseResourceScope(one);
      if (!scope.ok()) return scope.status();
      Merge(out, std::move(*scope));
    }
  }
  return out;
}

std::string FormatScope(const ResourceActions& scope) {
  std::string out = scope.type;
  if (!scope.resource_class.empty()) out += "(" + scope.resource_class + ")";
  out += ':';
  out += scope.name;
  out += ':';
  for (size_t i = 0; i < scope.actions.size(); ++i) {
    if (i > 0) out += ',';
    out += scope.actions[i];
  }
  return out;
}

std::string FormatScopes(const std::vector<ResourceActions>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += FormatScope(s);
  }
  return out;
}

nlohmann::json AccessClaim(const std::vector<ResourceActions>& access) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : access) {
    nlohmann::json entry = {{"type", r.type}, {"name", r.name}, {"actions", r.actions}};
    if (!r.resource_class.empty()) entry["class"] = r.resource_class;
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::vector<ResourceActions>> ParseAccessClaim(const nlohmann::json& access) {
  std::vector<ResourceActions> out;
  if (access.is_null()) return out;
  if (!access.is_array()) return InvalidArgument("access claim must be an array");
  for (const auto& entry : access) {
    // find() on a value that is not an object yields end().
    auto type = entry.find("type");
    auto name = entry.find("name");
    auto actions = entry.find("actions");
    if (type == entry.end() || name == entry.end() || actions == entry.end() ||
        !type->is_string() || !name->is_string() || !actions->is_array()) {
      return InvalidArgument("access claim entries need string type and name and an actions array");
    }
    ResourceActions r;
    r.type = type->get<std::string>();
    r.name = name->get<std::string>();
    if (auto cls = entry.find("class"); cls != entry.end()) {
      if (!cls->is_string()) return InvalidArgument("access claim class must be a string");
      r.resource_class = cls->get<std::string>();
    }
    for (const auto& a : *actions) {
      if (!a.is_string()) return InvalidArgument("access claim actions must be strings");
      AddAction(r.actions, a.get<std::string>());
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool Allows(const std::vector<ResourceActions>& granted, std::string_view type,
            std::string_view name, std::string_view action) {
  for (const auto& r : granted) {
    if (r.type != type || r.name != name) continue;
    for (const auto& a : r.actions) {
      if (a == action || a == "*") return true;
    }
  }
  return false;
}

}  // namespace dtr::auth
