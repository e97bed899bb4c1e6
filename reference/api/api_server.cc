#include "api/api_server.h"

#include <map>
#include <set>

#include "api/call.h"
#include "api/routes.h"
#include "app/log.h"

namespace dtr::api {

namespace {

bool HasPrefix(std::string_view path, std::string_view prefix) {
  return path.substr(0, prefix.size()) == prefix &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

// The paths a route template matches, whatever its parameters are called: "/a/{}/b".
std::string Shape(const Route& r) {
  std::string shape;
  for (const auto& seg : r.segments) {
    bool param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    shape += "/" + (param ? std::string("{}") : seg);
  }
  return shape;
}

}  // namespace

bool IsApiPath(std::string_view path) {
  return HasPrefix(path, "/api/v0") || HasPrefix(path, "/enzi/v0");
}

ApiServer::ApiServer(ApiDeps deps) : deps_(std::move(deps)) {
  AddAccountRoutes(routes_);
  AddOrgRoutes(routes_);
  AddRepositoryRoutes(routes_);
  AddTagRoutes(routes_);
  AddAccessRoutes(routes_);
  AddMetaRoutes(routes_);
  AddTokenRoutes(routes_);
  routes_
      .Add("GET", "/api/v0/docs.json", Caller::kAnyone,
           [this](Call& c) {
             c.res.status = 200;
             c.res.headers.Set("Content-Type", "application/json");
             c.res.body = docs_json_;
           })
      .Tag("meta")
      .Summary("This API's OpenAPI 2.0 (Swagger) document")
      .Permission("anyone")
      .Returns(200, "OpenAPI");
  docs_json_ = OpenApiDocument(routes_, described_, definitions_, deps_.version);
}

ApiServer::~ApiServer() = default;

Status ApiServer::Describe(std::vector<Route> routes, const std::string& definitions_json) {
  auto definitions = MergeDefinitions(definitions_, definitions_json);
  if (!definitions.ok()) return definitions.status();
  std::map<std::string, std::string> pattern_of;  // shape -> the template documenting it
  std::set<std::string> operations;               // "METHOD template"
  auto known = [&](const Route& r) {
    pattern_of.emplace(Shape(r), r.pattern);
    operations.insert(r.method + " " + r.pattern);
  };
  for (const Route& r : routes_.routes()) known(r);
  const std::set<std::string> schemas = SchemaNames(*definitions);
  for (const Route& r : described_) known(r);
  for (Route& r : routes) {
    std::string what = r.method + " " + r.pattern;
    if (!IsApiPath(r.pattern)) return InvalidArgument(what + " is not under /api/v0 or /enzi/v0");
    r.segments = SplitPath(r.pattern);
    r.handler = nullptr;
    auto shape = pattern_of.find(Shape(r));
    if (shape != pattern_of.end() && shape->second != r.pattern) {
      return InvalidArgument(what + " matches the same paths as " + shape->second);
    }
    if (operations.count(what) != 0) return InvalidArgument(what + " is already documented");
    for (std::string_view schema : {r.body, r.returns}) {
      while (schema.substr(0, 2) == "[]") schema.remove_prefix(2);  // an array of it
      if (!schema.empty() && schemas.count(std::string(schema)) == 0) {
        return InvalidArgument(what + " names the undefined schema " + std::string(schema));
      }
    }
    known(r);
  }
  for (Route& r : routes) described_.push_back(std::move(r));
  definitions_ = std::move(*definitions);
  docs_json_ = OpenApiDocument(routes_, described_, definitions_, deps_.version);
  return Status::Ok();
}

bool ApiServer::Handle(http::Request& req, http::Response& res, const access::Principal& who) {
  if (!IsApiPath(req.path)) return false;
  auto match = routes_.Find(req.method, req.path);
  Call call(req, res, who, deps_, match.params);
  if (match.route == nullptr) {
    if (match.allowed.empty()) {
      for (const auto& delegate : deps_.delegates) {
        if (delegate(req, res, who)) return true;
      }
      call.Fail(err::kNotFound, "no API endpoint " + req.path);
    } else {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      res.headers.Set("Allow", allow);
      call.Fail(err::kNotAllowed,
                "method " + req.method + " is not allowed on " + req.path + "; allowed: " + allow);
    }
    return true;
  }
  const Route& route = *match.route;
  bool active_user = who.user() != nullptr && who.user()->is_active;
  if (route.caller != Caller::kAnyone && !active_user) {
    call.Fail(err::kNotAuthenticated, who.anonymous() ? "authentication required"
                                                      : "account " + who.name() + " is inactive");
    return true;
  }
  if (route.caller == Caller::kAdmin && !who.is_admin()) {
    call.Fail(err::kNotAuthorized,
              "only system administrators may call " + route.method + " " + route.pattern);
    return true;
  }
  try {
    route.handler(call);
  } catch (const std::exception& e) {
    log::Error("api: " + req.method + " " + req.path + ": " + e.what());
    call.Fail(err::kInternal, "internal error; the server log has the details");
  }
  return true;
}

}  // namespace dtr::api
