// RouteTable: every endpoint of /api/v0 and /enzi/v0 in one place. A route carries its
// handler and what the OpenAPI document says about it (summary, who may call it, query
// parameters, body and response schemas, error codes), so the document served at
// /api/v0/docs.json and the router can never disagree.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dtr::api {

class Call;
using Handler = std::function<void(Call&)>;

// Who may reach a route at all. Finer decisions (repository levels, org admins, self) are
// the handler's, through access::Policy.
enum class Caller {
  kAnyone,  // anonymous callers too
  kUser,    // any active account
  kAdmin,   // system administrators
};

struct QueryParam {
  std::string name;
  std::string type;  // OpenAPI primitive: string, integer, boolean
  std::string description;
};

struct Route {
  std::string method;
  std::string pattern;  // "/api/v0/repositories/{namespace}/{reponame}"
  Caller caller = Caller::kUser;
  Handler handler;
  std::string tag;         // OpenAPI grouping ("repositories", "accounts", ...)
  std::string summary;     // one line
  std::string permission;  // who may call it, in words
  std::vector<QueryParam> query;
  std::string body;                 // definition name of the JSON request body; empty: no body
  int status = 200;                 // on success
  std::string returns;              // definition name, "[]Name" for an array; empty: no body
  std::vector<std::string> errors;  // codes beyond those implied by `caller` and `body`
  std::vector<std::string> segments;

  Route& Tag(std::string v) {
    tag = std::move(v);
    return *this;
  }
  Route& Summary(std::string v) {
    summary = std::move(v);
    return *this;
  }
  Route& Permission(std::string v) {
    permission = std::move(v);
    return *this;
  }
  Route& Query(std::vector<QueryParam> v) {
    query = std::move(v);
    return *this;
  }
  Route& Body(std::string v) {
    body = std::move(v);
    return *this;
  }
  Route& Returns(int s, std::string v = "") {
    status = s;
    returns = std::move(v);
    return *this;
  }
  Route& Errors(std::vector<std::string> v) { return errors = std::move(v), *this; }
};

class RouteTable {
 public:
  // The returned reference stays valid: routes live in a deque.
  Route& Add(std::string method, std::string pattern, Caller caller, Handler handler);

  struct Match {
    const Route* route = nullptr;  // null: no route for this method
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<std::string> allowed;  // methods of the paths that matched; empty: unknown path
  };
  // Literal segments win over parameters; a trailing slash is ignored.
  Match Find(std::string_view method, std::string_view path) const;

  const std::deque<Route>& routes() const { return routes_; }

 private:
  std::deque<Route> routes_;
};

std::vector<std::string> SplitPath(std::string_view path);

}  // namespace dtr::api
