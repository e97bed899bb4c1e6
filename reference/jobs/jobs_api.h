// The jobrunner's HTTP API: /api/v0/jobs, /api/v0/crons, /api/v0/workers,
// /api/v0/action_configs and /api/v0/meta/cluster_status. System admins only.
#pragma once

#include <functional>
#include <string>

#include "access/principal.h"
#include "http/message.h"
#include "jobs/runner.h"

namespace dtr::jobs {

class JobsApi {
 public:
  // `gc_lock_holder` tells which job holds the GC lock ("" when none).
  JobsApi(Runner* runner, std::function<std::string()> gc_lock_holder)
      : runner_(runner), gc_lock_holder_(std::move(gc_lock_holder)) {}
  // False when the path is not one of ours.
  bool Handle(http::Request& req, http::Response& res, const access::Principal& who);

 private:
  void Jobs(http::Request& req, http::Response& res, const std::vector<std::string>& parts);
  void Crons(http::Request& req, http::Response& res, const std::vector<std::string>& parts);
  void Workers(http::Request& req, http::Response& res, const std::vector<std::string>& parts);
  void ActionConfigs(http::Request& req, http::Response& res,
                     const std::vector<std::string>& parts);

  Runner* runner_;
  std::function<std::string()> gc_lock_holder_;
};

}  // namespace dtr::jobs
