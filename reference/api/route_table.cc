#include "api/route_table.h"

#include <algorithm>

namespace dtr::api {

namespace {

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `path` against `route`; fills params. `rank` orders matches: a literal segment
// earlier in the path outranks a parameter there.
bool MatchRoute(const Route& route, const std::vector<std::string>& path,
                std::vector<std::pair<std::string, std::string>>* params, std::string* rank) {
  if (route.segments.size() != path.size()) return false;
  params->clear();
  rank->clear();
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (IsParam(seg)) {
      if (path[i].empty()) return false;
      params->emplace_back(seg.substr(1, seg.size() - 2), path[i]);
      rank->push_back('0');
    } else {
      if (seg != path[i]) return false;
      rank->push_back('1');
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t start = path.empty() || path.front() != '/' ? 0 : 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

Route& RouteTable::Add(std::string method, std::string pattern, Caller caller, Handler handler) {
  Route& r = routes_.emplace_back();
  r.method = std::move(method);
  r.segments = SplitPath(pattern);
  r.pattern = std::move(pattern);
  r.caller = caller;
  r.handler = std::move(handler);
  return r;
}

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view path) const {
  std::vector<std::string> segments = SplitPath(path);
  Match best;
  std::string best_rank;
  std::vector<std::pair<std::string, std::string>> params;
  std::string rank;
  for (const Route& r : routes_) {
    if (!MatchRoute(r, segments, &params, &rank)) continue;
    if (std::find(best.allowed.begin(), best.allowed.end(), r.method) == best.allowed.end()) {
      best.allowed.push_back(r.method);
    }
    if (r.method != method) continue;
    if (best.route == nullptr || rank > best_rank) {
      best.route = &r;
      best.params = params;
      best_rank = rank;
    }
  }
  std::sort(best.allowed.begin(), best.allowed.end());
  return best;
}

}  // namespace dtr::api
