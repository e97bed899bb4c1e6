#include "jobs/api_docs.h"

#include <nlohmann/json.hpp>

#include "jobs/webhook_dispatcher.h"

namespace dtr::jobs {

namespace {

using api::Caller;
using api::QueryParam;
using api::Route;

// The shapes jobs_api.cc, webhooks_api.cc and pruning_api.cc produce and accept. The webhook
// type enums are filled from WebhookTypes().
const char* kDefinitions = R"json({
  "responses.Job": {"type": "object", "required": ["id", "action", "status"], "properties": {
    "id": {"type": "string"},
    "retryFromID": {"type": "string", "description": "the job this one retries; empty if none"},
    "workerID": {"type": "string", "description": "the worker that claimed it; empty until then"},
    "status": {"type": "string", "enum": ["waiting", "running", "done", "errored", "canceled",
      "cancel_request", "worker_dead"]},
    "scheduledAt": {"type": "string", "format": "date-time"},
    "lastUpdated": {"type": "string", "format": "date-time"},
    "action": {"type": "string"},
    "retriesLeft": {"type": "integer"}, "retriesTotal": {"type": "integer"},
    "capacityMap": {"type": "object"}, "parameters": {"type": "object"},
    "deadline": {"type": "string", "description": "Go duration; empty: none"},
    "stopTimeout": {"type": "string", "description": "Go duration; empty: the default"}}},
  "responses.Jobs": {"type": "object", "properties": {"jobs": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Job"}}}},
  "forms.Job": {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "description": "a job action this registry runs"},
    "retries": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0},
    "parameters": {"type": "object",
      "description": "absent or empty: the action's configured parameters (action_configs)"},
    "capacityMap": {"type": "object"},
    "deadline": {"type": "string", "description": "Go duration (\"1h30m\"); empty: none"},
    "stopTimeout": {"type": "string", "description": "Go duration"},
    "scheduledAt": {"type": "string", "format": "date-time",
      "description": "RFC 3339 in UTC (ending in Z); absent: now"}}},
  "responses.JobLogLine": {"type": "object", "properties": {"lineNum": {"type": "integer"},
    "data": {"type": "string"}}},
  "responses.Cron": {"type": "object", "required": ["action", "schedule"], "properties": {
    "id": {"type": "string"}, "action": {"type": "string"}, "schedule": {"type": "string"},
    "retries": {"type": "integer"}, "capacityMap": {"type": "object"},
    "parameters": {"type": "object"}, "deadline": {"type": "string"},
    "stopTimeout": {"type": "string"},
    "nextRun": {"type": "string", "format": "date-time",
      "description": "empty when the schedule fires no more within five years"}}},
  "responses.Crons": {"type": "object", "properties": {"crons": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Cron"}}}},
  "forms.Cron": {"type": "object", "required": ["action", "schedule"], "properties": {
    "action": {"type": "string", "description": "a job action this registry runs; its cron, if any, is replaced"},
    "schedule": {"type": "string", "description":
      "six fields, seconds first (sec min hour day-of-month month day-of-week), or @yearly, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>; UTC"},
    "retries": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0},
    "parameters": {"type": "object"}, "capacityMap": {"type": "object"},
    "deadline": {"type": "string", "description": "Go duration; empty: none"},
    "stopTimeout": {"type": "string", "description": "Go duration"}}},
  "responses.Worker": {"type": "object", "properties": {"id": {"type": "string"},
    "status": {"type": "string", "enum": ["running", "shutdown", "dead"]},
    "capacityMap": {"type": "object", "description": "job action -> how many it runs at once",
      "additionalProperties": {"type": "integer"}},
    "heartbeatExpiration": {"type": "string", "format": "date-time"}}},
  "responses.Workers": {"type": "object", "properties": {"workers": {"type": "array",
    "items": {"$ref": "#/definitions/responses.Worker"}}}},
  "forms.Capacity": {"type": "object", "required": ["capacityMap"], "properties": {
    "capacityMap": {"type": "object", "description": "job action -> how many it runs at once",
      "additionalProperties": {"type": "integer"}}}},
  "responses.ActionConfig": {"type": "object", "properties": {"action": {"type": "string"},
    "parameters": {"type": "object"}}},
  "responses.ActionConfigs": {"type": "object", "properties": {"actionConfigs": {
    "type": "array", "items": {"$ref": "#/definitions/responses.ActionConfig"}}}},
  "forms.ActionConfig": {"type": "object", "required": ["action", "parameters"], "properties": {
    "action": {"type": "string", "description": "a job action this registry runs"},
    "parameters": {"type": "object",
      "description": "what jobs of the action get when submitted without parameters"}}},
  "responses.ClusterStatus": {"type": "object", "properties": {
    "replica_health": {"type": "object", "description": "worker id -> OK, or why not",
      "additionalProperties": {"type": "string"}},
    "replica_timestamp": {"type": "object",
      "description": "worker id -> when its heartbeat expires",
      "additionalProperties": {"type": "string", "format": "date-time"}},
    "replica_readonly": {"type": "object", "additionalProperties": {"type": "boolean"}},
    "gc_lock_holder": {"type": "string",
      "description": "the garbage collection job running now; empty: none"},
    "rethink_system_tables": {"type": "object", "description": "always empty here"}}},
  "responses.Webhook": {"type": "object", "properties": {"id": {"type": "string"},
    "type": {"type": "string"}, "key": {"type": "string"}, "endpoint": {"type": "string"},
    "authorID": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"},
    "lastSuccessfulAt": {"type": "string", "format": "date-time",
      "description": "0001-01-01T00:00:00Z until a delivery succeeds"},
    "inactive": {"type": "boolean"}, "tlsCert": {"type": "string"},
    "skipTLSVerification": {"type": "boolean"}}},
  "forms.Webhook": {"type": "object", "required": ["type", "endpoint"], "properties": {
    "type": {"type": "string"},
    "key": {"type": "string", "description":
      "namespace/repository, or a namespace (all its repositories; namespace types need one); empty: everything (system admins only); global types take none"},
    "endpoint": {"type": "string", "description": "http:// or https:// URL"},
    "tlsCert": {"type": "string",
      "description": "PEM: the CA certificates the endpoint's certificate must chain to"},
    "skipTLSVerification": {"type": "boolean"}}},
  "forms.UpdateWebhook": {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string"}, "inactive": {"type": "boolean"},
    "tlsCert": {"type": "string"}, "skipTLSVerification": {"type": "boolean"}}},
  "forms.WebhookTest": {"type": "object", "required": ["type", "endpoint"], "properties": {
    "type": {"type": "string"},
    "endpoint": {"type": "string", "description": "http:// or https:// URL"},
    "tlsCert": {"type": "string"}, "skipTLSVerification": {"type": "boolean"}}},
  "responses.WebhookTest": {"type": "object", "properties": {"status": {"type": "integer",
    "description": "the HTTP status the endpoint answered"}}},
  "responses.PruningRule": {"type": "object", "required": ["field", "operator", "values"],
    "description": "tag: eq, sw (starts with), ew (ends with), c (contains) with one value; oo (one of), noo (not one of) with one or more. updated_at: bf, af with one RFC 3339 time. updated_at_duration: bf, af with one Go duration (\"bf 720h\": last updated more than 720 hours ago).",
    "properties": {
      "field": {"type": "string", "enum": ["tag", "updated_at", "updated_at_duration"]},
      "operator": {"type": "string", "enum": ["eq", "sw", "ew", "c", "oo", "noo", "bf", "af"]},
      "values": {"type": "array", "items": {"type": "string"}}}},
  "responses.PruningPolicy": {"type": "object", "properties": {"id": {"type": "string"},
    "rules": {"type": "array", "items": {"$ref": "#/definitions/responses.PruningRule"}},
    "repository": {"type": "string", "description": "namespace/name"},
    "enabled": {"type": "boolean"},
    "lastPrunedAt": {"type": "string", "format": "date-time",
      "description": "0001-01-01T00:00:00Z until it prunes"}}},
  "forms.PruningPolicy": {"type": "object", "required": ["rules"],
    "description": "a tag is pruned when every rule matches it", "properties": {
    "rules": {"type": "array", "minItems": 1, "maxItems": 50,
      "items": {"$ref": "#/definitions/responses.PruningRule"}},
    "enabled": {"type": "boolean", "default": true}}},
  "forms.UpdatePruningPolicy": {"type": "object",
    "description": "rules and/or enabled; what is left out stays", "properties": {
    "rules": {"type": "array", "minItems": 1, "maxItems": 50,
      "items": {"$ref": "#/definitions/responses.PruningRule"}},
    "enabled": {"type": "boolean"}}},
  "responses.PruneCandidate": {"type": "object", "properties": {"name": {"type": "string"},
    "digest": {"type": "string"}}}
})json";

Route& Add(std::vector<Route>& routes, std::string method, std::string pattern, Caller caller) {
  Route& r = routes.emplace_back();
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.caller = caller;
  return r;
}

void AddJobRoutes(std::vector<Route>& t) {
  const char* kAdmins = "system admins";
  Add(t, "GET", "/api/v0/jobs", Caller::kAdmin)
      .Tag("jobs")
      .Summary("List jobs, newest first")
      .Permission(kAdmins)
      .Query({{"action", "string", "only jobs of this action (default any)"},
              {"worker", "string", "only jobs claimed by this worker (default any)"},
              {"running", "string", "true: running or asked to stop; false: the others; any"},
              {"start", "integer", "jobs to skip (default 0)"},
              {"limit", "integer", "at most this many, 1 to 1000 (default 10)"}})
      .Returns(200, "responses.Jobs")
      .Errors({"INVALID_PARAMETERS"});
  Add(t, "POST", "/api/v0/jobs", Caller::kAdmin)
      .Tag("jobs")
      .Summary("Submit a job")
      .Permission(kAdmins)
      .Body("forms.Job")
      .Returns(202, "responses.Job")
      .Errors({"INVALID_PARAMETERS"});
  const std::string job = "/api/v0/jobs/{id}";
  Add(t, "GET", job, Caller::kAdmin)
      .Tag("jobs")
      .Summary("Get a job")
      .Permission(kAdmins)
      .Returns(200, "responses.Job")
      .Errors({"NO_SUCH_JOB"});
  Add(t, "DELETE", job, Caller::kAdmin)
      .Tag("jobs")
      .Summary("Delete a job; a running one is only asked to stop, and kept")
      .Permission(kAdmins)
      .Returns(204)
      .Errors({"NO_SUCH_JOB"});
  Add(t, "POST", job + "/cancel", Caller::kAdmin)
      .Tag("jobs")
      .Summary("Cancel a waiting job, or ask a running one to stop")
      .Permission(kAdmins)
      .Returns(204)
      .Errors({"NO_SUCH_JOB"});
  Add(t, "GET", job + "/logs", Caller::kAdmin)
      .Tag("jobs")
      .Summary("Get the log lines of a job")
      .Permission(kAdmins)
      .Query({{"offset", "integer", "the first line, 0-based (default 0)"},
              {"limit", "integer", "at most this many lines (default 0: all)"}})
      .Returns(200, "[]responses.JobLogLine")
      .Errors({"NO_SUCH_JOB", "INVALID_PARAMETERS"});
  Add(t, "GET", "/api/v0/crons", Caller::kAdmin)
      .Tag("crons")
      .Summary("List the crons, one per action")
      .Permission(kAdmins)
      .Returns(200, "responses.Crons");
  Add(t, "POST", "/api/v0/crons", Caller::kAdmin)
      .Tag("crons")
      .Summary("Create or replace the cron of an action")
      .Permission(kAdmins)
      .Body("forms.Cron")
      .Returns(202, "responses.Cron")
      .Errors({"INVALID_PARAMETERS"});
  Add(t, "GET", "/api/v0/crons/{action}", Caller::kAdmin)
      .Tag("crons")
      .Summary("Get the cron of an action")
      .Permission(kAdmins)
      .Returns(200, "responses.Cron")
      .Errors({"NO_SUCH_CRON"});
  Add(t, "DELETE", "/api/v0/crons/{action}", Caller::kAdmin)
      .Tag("crons")
      .Summary("Delete the cron of an action")
      .Permission(kAdmins)
      .Returns(204)
      .Errors({"NO_SUCH_CRON"});
  Add(t, "GET", "/api/v0/workers", Caller::kAdmin)
      .Tag("workers")
      .Summary("List the workers (jobrunner replicas) and their capacities")
      .Permission(kAdmins)
      .Returns(200, "responses.Workers");
  Add(t, "POST", "/api/v0/workers/{id}/capacity", Caller::kAdmin)
      .Tag("workers")
      .Summary("Set how many jobs of each action a worker runs at once")
      .Permission(kAdmins)
      .Body("forms.Capacity")
      .Returns(202)
      .Errors({"INVALID_PARAMETERS", "NO_SUCH_WORKER"});
  Add(t, "GET", "/api/v0/action_configs", Caller::kAdmin)
      .Tag("action_configs")
      .Summary("List the default parameters of job actions")
      .Permission(kAdmins)
      .Returns(200, "responses.ActionConfigs");
  Add(t, "POST", "/api/v0/action_configs", Caller::kAdmin)
      .Tag("action_configs")
      .Summary("Set the default parameters of a job action")
      .Permission(kAdmins)
      .Body("forms.ActionConfig")
      .Returns(202, "responses.ActionConfig")
      .Errors({"INVALID_PARAMETERS"});
  Add(t, "GET", "/api/v0/action_configs/{action}", Caller::kAdmin)
      .Tag("action_configs")
      .Summary("Get the default parameters of a job action")
      .Permission(kAdmins)
      .Returns(200, "responses.ActionConfig")
      .Errors({"NO_SUCH_ACTION_CONFIG"});
  Add(t, "DELETE", "/api/v0/action_configs/{action}", Caller::kAdmin)
      .Tag("action_configs")
      .Summary("Delete the default parameters of a job action (204 even if there are none)")
      .Permission(kAdmins)
      .Returns(204);
  Add(t, "GET", "/api/v0/meta/cluster_status", Caller::kAdmin)
      .Tag("meta")
      .Summary("The health of each worker and who holds the garbage collection lock")
      .Permission(kAdmins)
      .Returns(200, "responses.ClusterStatus");
}

void AddWebhookRoutes(std::vector<Route>& t) {
  const std::vector<QueryParam> kType = {
      {"webhookType", "string", "only subscriptions of this type (default any)"}};
  const char* kKeyAdmins =
      "admins of the key's repository or namespace, system admins; an empty key, or a global "
      "type, system admins only";
  Add(t, "GET", "/api/v0/webhooks", Caller::kUser)
      .Tag("webhooks")
      .Summary("List webhook subscriptions: the caller's own, or every one for system admins")
      .Permission("any user")
      .Query(kType)
      .Returns(200, "[]responses.Webhook")
      .Errors({"INVALID_PARAMETERS"});
  Add(t, "POST", "/api/v0/webhooks", Caller::kUser)
      .Tag("webhooks")
      .Summary("Subscribe an endpoint to a type of event")
      .Permission(kKeyAdmins)
      .Body("forms.Webhook")
      .Returns(201, "responses.Webhook")
      .Errors({"INVALID_PARAMETERS", "NOT_AUTHORIZED", "NO_SUCH_REPOSITORY", "NO_SUCH_ACCOUNT"});
  Add(t, "POST", "/api/v0/webhooks/test", Caller::kUser)
      .Tag("webhooks")
      .Summary("Send a sample payload of a type to an endpoint now and report its answer")
      .Permission("any user")
      .Body("forms.WebhookTest")
      .Returns(202, "responses.WebhookTest")
      .Errors({"INVALID_PARAMETERS", "WEBHOOK_DELIVERY_FAILED"});
  Add(t, "POST", "/api/v0/webhooks/update", Caller::kUser)
      .Tag("webhooks")
      .Summary("Deactivate or reactivate a subscription, or change its TLS settings")
      .Permission("admins of the subscription's key, system admins")
      .Body("forms.UpdateWebhook")
      .Returns(200, "[]responses.Webhook")
      .Errors({"INVALID_PARAMETERS", "NO_SUCH_WEBHOOK", "NOT_AUTHORIZED"});
  Add(t, "GET", "/api/v0/webhooks/{id}", Caller::kUser)
      .Tag("webhooks")
      .Summary("Get a webhook subscription")
      .Permission("its author, admins of its key, system admins")
      .Returns(200, "responses.Webhook")
      .Errors({"NO_SUCH_WEBHOOK"});
  Add(t, "DELETE", "/api/v0/webhooks/{id}", Caller::kUser)
      .Tag("webhooks")
      .Summary("Delete a webhook subscription")
      .Permission("admins of its key, system admins")
      .Returns(204)
      .Errors({"NO_SUCH_WEBHOOK", "NOT_AUTHORIZED"});
  Add(t, "GET", "/api/v0/repositories/{namespace}/{reponame}/webhooks", Caller::kUser)
      .Tag("webhooks")
      .Summary("List the webhook subscriptions of a repository")
      .Permission("repository admins, system admins")
      .Query(kType)
      .Returns(200, "[]responses.Webhook")
      .Errors({"INVALID_PARAMETERS", "NO_SUCH_REPOSITORY", "NOT_AUTHORIZED"});
  Add(t, "GET", "/api/v0/accounts/{namespace}/webhooks", Caller::kUser)
      .Tag("webhooks")
      .Summary("List the webhook subscriptions of a namespace")
      .Permission("namespace admins, system admins")
      .Query(kType)
      .Returns(200, "[]responses.Webhook")
      .Errors({"INVALID_PARAMETERS", "NO_SUCH_ACCOUNT", "NOT_AUTHORIZED"});
}

void AddPruningRoutes(std::vector<Route>& t) {
  const std::string policies = "/api/v0/repositories/{namespace}/{reponame}/pruningPolicies";
  const char* kRepoAdmins = "repository admins";
  Add(t, "GET", policies, Caller::kUser)
      .Tag("pruning_policies")
      .Summary("List the tag pruning policies of a repository, oldest first")
      .Permission(kRepoAdmins)
      .Returns(200, "[]responses.PruningPolicy")
      .Errors({"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED"});
  Add(t, "POST", policies, Caller::kUser)
      .Tag("pruning_policies")
      .Summary("Create a tag pruning policy; an enabled one is evaluated at once")
      .Permission(kRepoAdmins)
      .Query({{"initialEvaluation", "boolean",
               "true: tags pushed before the policy may be pruned too; false (default): only "
               "tags pushed or moved after it"}})
      .Body("forms.PruningPolicy")
      .Returns(201, "responses.PruningPolicy")
      .Errors(
          {"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED", "INVALID_PARAMETERS", "INVALID_PRUNING_POLICY"});
  Add(t, "POST", policies + "/test", Caller::kUser)
      .Tag("pruning_policies")
      .Summary("The tags the given rules would prune now (nothing is pruned)")
      .Permission(kRepoAdmins)
      .Body("forms.PruningPolicy")
      .Returns(200, "[]responses.PruneCandidate")
      .Errors({"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED", "INVALID_PRUNING_POLICY"});
  const std::string policy = policies + "/{pruningPolicyID}";
  Add(t, "GET", policy, Caller::kUser)
      .Tag("pruning_policies")
      .Summary("Get a tag pruning policy")
      .Permission(kRepoAdmins)
      .Returns(200, "responses.PruningPolicy")
      .Errors({"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED", "NO_SUCH_PRUNING_POLICY"});
  Add(t, "PUT", policy, Caller::kUser)
      .Tag("pruning_policies")
      .Summary("Change the rules or enabled flag of a policy; an enabled one is evaluated at once")
      .Permission(kRepoAdmins)
      .Body("forms.UpdatePruningPolicy")
      .Returns(200, "responses.PruningPolicy")
      .Errors({"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED", "NO_SUCH_PRUNING_POLICY",
               "INVALID_PRUNING_POLICY"});
  Add(t, "DELETE", policy, Caller::kUser)
      .Tag("pruning_policies")
      .Summary("Delete a tag pruning policy")
      .Permission(kRepoAdmins)
      .Returns(204)
      .Errors({"NO_SUCH_REPOSITORY", "NOT_AUTHORIZED", "NO_SUCH_PRUNING_POLICY"});
}

}  // namespace

std::vector<Route> ApiRoutes() {
  std::vector<Route> routes;
  AddJobRoutes(routes);
  AddWebhookRoutes(routes);
  AddPruningRoutes(routes);
  return routes;
}

std::string ApiDefinitions() {
  nlohmann::json d = nlohmann::json::parse(kDefinitions);
  for (const char* form : {"forms.Webhook", "forms.WebhookTest"}) {
    d[form]["properties"]["type"]["enum"] = WebhookTypes();
  }
  return d.dump();
}

}  // namespace dtr::jobs
