// The route groups ApiServer assembles, one file each. Internal to reference/api.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "api/route_table.h"
#include "core/status.h"

namespace dtr::api {

void AddAccountRoutes(RouteTable& t);     // accounts.cc: /enzi/v0/accounts, /api/v0/accounts
void AddOrgRoutes(RouteTable& t);         // orgs.cc: org members, teams, team members
void AddRepositoryRoutes(RouteTable& t);  // repositories.cc
void AddTagRoutes(RouteTable& t);         // tags.cc: tags and manifests
void AddAccessRoutes(RouteTable& t);      // access.cc: team access, effective access
void AddMetaRoutes(RouteTable& t);        // meta.cc: settings, features, events
void AddTokenRoutes(RouteTable& t);       // tokens.cc: API tokens

// The OpenAPI 2.0 document describing every route of `t` and the documentation-only routes
// `described` (served outside the table), serialized. `definitions` (a JSON object of
// schemas, serialized, from MergeDefinitions; empty for none) joins the API's own.
std::string OpenApiDocument(const RouteTable& t, const std::vector<Route>& described,
                            const std::string& definitions, const std::string& version);

// `definitions` (as above) with the schemas of the JSON object `extra` added, serialized.
// InvalidArgument when `extra` is not a JSON object of schema objects or names a schema the
// API or `definitions` already defines.
Result<std::string> MergeDefinitions(const std::string& definitions, const std::string& extra);

// The names of the API's schemas and those of `definitions` (as above).
std::set<std::string> SchemaNames(const std::string& definitions);

}  // namespace dtr::api
