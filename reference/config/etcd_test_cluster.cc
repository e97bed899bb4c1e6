#include "config/etcd_test_cluster.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace dtr::config::testing {

namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string TempRoot() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

Result<nlohmann::json> PostJson(const std::string& endpoint, const char* path,
                                const std::string& body) {
  httplib::Client c(endpoint);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(3, 0);
  auto res = c.Post(path, body, "application/json");
  if (!res)
    return Status(Code::kUnavailable, endpoint + path + ": " + httplib::to_string(res.error()));
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || j.is_discarded()) {
    return Status(Code::kIOError,
                  endpoint + path + ": HTTP " + std::to_string(res->status) + " " + res->body);
  }
  return j;
}

}  // namespace

Result<std::unique_ptr<EtcdTestCluster>> EtcdTestCluster::Start(int members) {
  std::unique_ptr<EtcdTestCluster> c(new EtcdTestCluster);
  std::string tmpl = TempRoot() + "/dtr-etcd.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return IOError("cannot make a temp dir for etcd: " + tmpl);
  c->dir_ = tmpl;
  std::string cmd = Quote(std::string(DTR_CI_DIR) + "/start-etcd") + " " + Quote(c->dir_) + " " +
                    std::to_string(members) + " --owner " + std::to_string(getpid()) + " >&2";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::error_code ec;
    std::filesystem::remove_all(c->dir_, ec);  // start-etcd stopped whatever it had started
    c->dir_.clear();
    return Status(Code::kUnavailable,
                  "could not start etcd (" + std::to_string(members) +
                      " member(s)) with ci/start-etcd; its output is above. Is etcd-server "
                      "installed (ci/install-deps)?");
  }
  std::ifstream in(c->dir_ + "/endpoints");
  std::string line;
  std::getline(in, line);
  std::stringstream ss(line);
  for (std::string url; std::getline(ss, url, ',');) c->endpoints_.push_back(url);
  if (static_cast<int>(c->endpoints_.size()) != members) {
    return IOError("ci/start-etcd wrote no endpoints to " + c->dir_ + "/endpoints");
  }
  c->alive_.assign(members, true);
  return c;
}

EtcdTestCluster::~EtcdTestCluster() {
  if (dir_.empty()) return;
  std::string cmd = Quote(std::string(DTR_CI_DIR) + "/stop-etcd") + " " + Quote(dir_) + " >&2";
  if (std::system(cmd.c_str()) == 0) std::filesystem::remove_all(dir_);
}

Status EtcdTestCluster::Kill(int i) {
  std::string cmd = Quote(std::string(DTR_CI_DIR) + "/stop-etcd") + " " + Quote(dir_) +
                    " --member " + std::to_string(i) + " --kill >&2";
  if (std::system(cmd.c_str()) != 0) return IOError("ci/stop-etcd --kill failed");
  alive_[i] = false;
  return Status::Ok();
}

Result<int> EtcdTestCluster::Leader() const {
  // Each member's status names itself (header.member_id) and the leader it follows.
  std::vector<std::string> ids(endpoints_.size());
  std::string leader;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (!alive_[i]) continue;
    auto j = PostJson(endpoints_[i], "/v3/maintenance/status", "{}");
    if (!j.ok()) return j.status();
    ids[i] = (*j)["header"].value("member_id", "");
    leader = j->value("leader", "");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].empty() && ids[i] == leader) return static_cast<int>(i);
  }
  return Status(Code::kUnavailable, "no live member is the leader (" + leader + ")");
}

Status EtcdTestCluster::Compact(int64_t revision) const {
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (!alive_[i]) continue;
    auto j = PostJson(endpoints_[i], "/v3/kv/compaction",
                      nlohmann::json{{"revision", std::to_string(revision)}}.dump());
    return j.status();
  }
  return Status(Code::kUnavailable, "no live member");
}

}  // namespace dtr::config::testing
