// The /api/v0 and /enzi/v0 JSON body parsers, through the whole application in process (no
// sockets): the first input byte picks one of the group's routes, the rest is the request
// body, sent as a system administrator over Basic auth with token auth on (the production
// setup). DTR_API_GROUP, set per executable, picks the group; so each body parser has a
// target of its own. The oracle: no crash, no sanitizer report, no 5xx.
//
// Jobs and webhooks are in, without their side effects: the application is never started
// (App::Start), so no worker runs a submitted job or cron and no event is delivered; the
// webhook test endpoint, which would call the URL in the body, is left out.
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "http/parser.h"

#ifndef DTR_API_GROUP
#error "DTR_API_GROUP must name a route group"
#endif

namespace {

constexpr const char* kAdminPassword = "fuzz-admin-password";

struct Route {
  const char* method;
  const char* path;
};

// The fixtures every group's paths name are made once, in Instance().
const std::vector<Route>& Routes() {
  static const std::vector<Route> groups[] = {
      // 0: accounts
      {{"POST", "/enzi/v0/accounts"},
       {"PATCH", "/enzi/v0/accounts/fzuser"},
       {"PATCH", "/enzi/v0/accounts/fzorg"},
       {"POST", "/enzi/v0/accounts/fzuser/changePassword"}},
      // 1: organizations, teams and their members
      {{"PUT", "/enzi/v0/accounts/fzorg/members/fzuser"},
       {"PATCH", "/enzi/v0/accounts/fzorg/members/fzuser"},
       {"POST", "/enzi/v0/accounts/fzorg/teams"},
       {"PATCH", "/enzi/v0/accounts/fzorg/teams/fzteam"},
       {"PUT", "/enzi/v0/accounts/fzorg/teams/fzteam/members/fzuser"},
       {"PATCH", "/enzi/v0/accounts/fzorg/teams/fzteam/members/fzuser"}},
      // 2: repositories and team access
      {{"POST", "/api/v0/repositories/fzorg"},
       {"PATCH", "/api/v0/repositories/fzorg/fzrepo"},
       {"PUT", "/api/v0/repositories/fzorg/fzrepo/teamAccess/fzteam"},
       {"PUT", "/api/v0/repositories/fzorg/namespaceTeamAccess/fzteam"}},
      // 3: settings
      {{"POST", "/api/v0/meta/settings"}},
      // 4: API tokens
      {{"POST", "/api/v0/api_tokens"}, {"POST", "/api/v0/api_tokens?username=fzuser"}},
      // 5: tag pruning policies
      {{"POST", "/api/v0/repositories/fzorg/fzrepo/pruningPolicies"},
       {"POST", "/api/v0/repositories/fzorg/fzrepo/pruningPolicies/test"}},
      // 6: jobs, crons, action configs, worker capacity
      {{"POST", "/api/v0/jobs"},
       {"POST", "/api/v0/crons"},
       {"POST", "/api/v0/action_configs"},
       {"POST", "/api/v0/workers/fzworker/capacity"}},
      // 7: webhooks (subscribe and update)
      {{"POST", "/api/v0/webhooks"}, {"POST", "/api/v0/webhooks/update"}},
  };
  return groups[DTR_API_GROUP];
}

class Sink : public dtr::http::BodyWriter {
 public:
  bool Write(const char*, size_t) override { return true; }
};

dtr::http::Response Send(dtr::app::App& app, const std::string& method, const std::string& target,
                         const std::string& body) {
  // "admin:fuzz-admin-password"
  std::string head = method + " " + target +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Authorization: Basic YWRtaW46ZnV6ei1hZG1pbi1wYXNzd29yZA==\r\n"
                     "Content-Length: " +
                     std::to_string(body.size());
  dtr::http::Request req;
  dtr::http::ParseError err;
  if (!dtr::http::ParseRequestHead(head, dtr::http::HeadLimits{}, &req, &err)) std::abort();
  dtr::http::StringBodyReader reader(body, false);
  req.body = &reader;
  req.remote_addr = "127.0.0.1";
  dtr::http::Response res;
  app.Handle(req, res);
  if (res.stream && method != "HEAD") {
    Sink sink;
    res.stream(sink);
  }
  return res;
}

// The id of the fixture webhook; inputs say FZHOOK where they mean it (ids are random).
std::string& HookId() {
  static std::string id;
  return id;
}

dtr::app::App* Instance() {
  static dtr::app::App* app = [] {
    std::string dir =
        std::filesystem::temp_directory_path() /
        ("dtr-fuzz-api-" + std::to_string(DTR_API_GROUP) + "-" + std::to_string(getpid()));
    dtr::app::Settings s;
    s.data_dir = dir;
    s.access_log = false;
    s.auth = "token";
    setenv("DTR_ADMIN_PASSWORD", kAdminPassword, 1);
    auto a = dtr::app::App::Open(s);
    if (!a.ok()) std::abort();
    dtr::app::App* p = a.value().release();
    for (const auto& [method, target, body] : std::vector<std::array<std::string, 3>>{
             {"POST", "/enzi/v0/accounts", R"({"name":"fzuser","password":"fuzz-user-password"})"},
             {"POST", "/enzi/v0/accounts", R"({"name":"fzorg","isOrg":true})"},
             {"POST", "/enzi/v0/accounts/fzorg/teams", R"({"name":"fzteam"})"},
             {"PUT", "/enzi/v0/accounts/fzorg/members/fzuser", R"({"isAdmin":false})"},
             {"POST", "/api/v0/repositories/fzorg",
              R"({"name":"fzrepo","visibility":"private"})"}}) {
      auto res = Send(*p, method, target, body);
      if (res.status >= 300) std::abort();  // the fixtures must exist
    }
    // Port 9 (discard) on loopback: nothing is delivered there, and nothing triggers a
    // delivery anyway (no event happens after this point).
    auto hook =
        Send(*p, "POST", "/api/v0/webhooks",
             R"({"type":"TAG_PUSH","key":"fzorg/fzrepo","endpoint":"http://127.0.0.1:9/"})");
    auto j = nlohmann::json::parse(hook.body, nullptr, false);
    if (hook.status != 201 || !j.is_object() || !j["id"].is_string()) std::abort();
    HookId() = j["id"].get<std::string>();
    return p;
  }();
  return app;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& routes = Routes();
  const Route& r = routes[data[0] % routes.size()];
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  dtr::app::App* app = Instance();
  for (size_t at = body.find("FZHOOK"); at != std::string::npos; at = body.find("FZHOOK", at)) {
    body.replace(at, 6, HookId());
    at += HookId().size();
  }
  auto res = Send(*app, r.method, r.path, body);
  if (res.status >= 500) __builtin_trap();
  return 0;
}
