// The route groups ApiServer assembles, one file each. Internal to reference/api.
#pragma once

#include <string>

#include "api/route_table.h"

namespace dtr::api {

void AddAccountRoutes(RouteTable& t);     // accounts.cc: /enzi/v0/accounts, /api/v0/accounts
void AddOrgRoutes(RouteTable& t);         // orgs.cc: org members, teams, team members
void AddRepositoryRoutes(RouteTable& t);  // repositories.cc
void AddTagRoutes(RouteTable& t);         // tags.cc: tags and manifests
void AddAccessRoutes(RouteTable& t);      // access.cc: team access, effective access
void AddMetaRoutes(RouteTable& t);        // meta.cc: settings, features, events
void AddTokenRoutes(RouteTable& t);       // tokens.cc: API tokens

// The OpenAPI 2.0 document describing every route of `t`, serialized.
std::string OpenApiDocument(const RouteTable& t, const std::string& version);

}  // namespace dtr::api
