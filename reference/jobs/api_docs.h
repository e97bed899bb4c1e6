// What /api/v0/docs.json says about the endpoints this module serves itself, outside the
// API's route table: the jobrunner's (JobsApi: jobs, crons, workers, action configs, cluster
// status), webhooks (WebhooksApi) and tag pruning policies (PruningApi). App hands both to
// api::ApiServer::Describe. Kept beside the handlers so a change to one shows in the other;
// tests/api_docs_test.cc sends every documented operation to the App and checks the answer.
#pragma once

#include <string>
#include <vector>

#include "api/route_table.h"

namespace dtr::jobs {

// Documentation-only routes: no handlers, no segments (Describe fills those).
std::vector<api::Route> ApiRoutes();

// The JSON schemas ApiRoutes names, a JSON object ("responses.Job": {...}, ...).
std::string ApiDefinitions();

}  // namespace dtr::jobs
