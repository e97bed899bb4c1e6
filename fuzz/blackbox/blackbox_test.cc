// dtr-fuzz's oracles can fire: a tiny in-test registry that is broken on purpose (it keeps
// blobs under whatever digest the client names, or answers 500) must yield findings, each
// written as a file that --replay sends again. Also: the finding format round-trips, and the
// exit codes for usage and an unreachable registry.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "finding.h"

namespace dtr::blackbox {
namespace {

namespace fs = std::filesystem;

struct Exec {
  int code = -1;
  std::string out;
};

Exec RunFuzz(const std::string& args) {
  std::string cmd = std::string(DTR_FUZZ_BIN) + " " + args + " 2>&1";
  Exec e;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return e;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) e.out.append(buf, n);
  int status = pclose(p);
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return e;
}

// A registry with deliberate faults: `trust_digests` stores uploads under the digest the
// client names without checking it; `fail_catalog` answers 500 to /v2/_catalog;
// `accept_manifests` takes every manifest without looking at it; `slow_tags` sleeps 3 s
// before answering a tag list.
class BrokenRegistry {
 public:
  BrokenRegistry(bool trust_digests, bool fail_catalog, bool accept_manifests = false,
                 bool slow_tags = false) {
    server_.Put(R"(/v2/(.+)/manifests/(.+))",
                [accept_manifests](const httplib::Request&, httplib::Response& res) {
                  res.status = accept_manifests ? 201 : 400;
                });
    server_.Get(R"(/v2/(.+)/tags/list)",
                [slow_tags](const httplib::Request&, httplib::Response& res) {
                  if (slow_tags) std::this_thread::sleep_for(std::chrono::seconds(3));
                  res.set_content("{\"tags\":[]}", "application/json");
                });
    server_.Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    server_.Get("/v2/_catalog", [fail_catalog](const httplib::Request&, httplib::Response& res) {
      if (fail_catalog) {
        res.status = 500;
        res.set_content("{\"errors\":[{\"code\":\"UNKNOWN\"}]}", "application/json");
      } else {
        res.set_content("{\"repositories\":[]}", "application/json");
      }
    });
    server_.Post(R"(/v2/(.+)/blobs/uploads/)", [this, trust_digests](const httplib::Request& req,
                                                                     httplib::Response& res) {
      std::lock_guard lock(mu_);
      std::string digest = req.get_param_value("digest");
      if (!digest.empty() && (trust_digests || digest == Sha256Digest(req.body))) {
        blobs_[digest] = req.body;
        res.status = 201;
        return;
      }
      std::string id = std::to_string(++next_);
      uploads_[id] = "";
      res.status = 202;
      res.set_header("Location", "/v2/" + req.matches[1].str() + "/blobs/uploads/" + id);
    });
    server_.Patch(R"(/v2/(.+)/blobs/uploads/(\w+))",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    std::lock_guard lock(mu_);
                    uploads_[req.matches[2].str()] += req.body;
                    res.status = 202;
                    res.set_header("Location", req.path);
                  });
    server_.Put(R"(/v2/(.+)/blobs/uploads/(\w+))",
                [this, trust_digests](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mu_);
                  std::string content = uploads_[req.matches[2].str()] + req.body;
                  std::string digest = req.get_param_value("digest");
                  if (!trust_digests && digest != Sha256Digest(content)) {
                    res.status = 400;
                    return;
                  }
                  blobs_[digest] = content;
                  res.status = 201;
                });
    server_.Get(R"(/v2/(.+)/blobs/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mu_);
                  auto it = blobs_.find(req.matches[2].str());
                  if (it == blobs_.end()) {
                    res.status = 404;
                    return;
                  }
                  res.set_content(it->second, "application/octet-stream");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~BrokenRegistry() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, std::string> blobs_;
  std::map<std::string, std::string> uploads_;
  int next_ = 0;
};

std::string TempDir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("dtr-fuzz-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// The files in `dir` whose oracle line is `oracle`.
std::vector<std::string> FindingFiles(const std::string& dir, const std::string& oracle) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("oracle: " + oracle + "\n") != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

TEST(Finding, RoundTrips) {
  Finding f{"blob-digest-mismatch", "detail\nwith a newline", 42, {}};
  f.steps.push_back(Step{"POST", "/v2/a/b/blobs/uploads/", "", {{"X-A", "1"}}, "", 202});
  f.steps.push_back(
      Step{"PUT", "{location}", "digest=sha256:00", {}, std::string("\0\xff\n", 3), 201});
  std::string error;
  auto back = ParseFinding(FormatFinding(f), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->oracle, f.oracle);
  EXPECT_EQ(back->detail, "detail with a newline");
  EXPECT_EQ(back->seed, 42u);
  ASSERT_EQ(back->steps.size(), 2u);
  EXPECT_EQ(back->steps[0].headers, f.steps[0].headers);
  EXPECT_EQ(back->steps[0].body, "");
  EXPECT_EQ(back->steps[1].path, "{location}");
  EXPECT_EQ(back->steps[1].query, f.steps[1].query);
  EXPECT_EQ(back->steps[1].body, f.steps[1].body);
  EXPECT_EQ(back->steps[1].status, 201);
  EXPECT_FALSE(ParseFinding("oracle: x\n", &error));
  EXPECT_FALSE(ParseFinding("step\nmethod: GET\npath: /\nbody: !!\n", &error));
}

TEST(Finding, Base64) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\x00\x01"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
}

TEST(DtrFuzz, FindsAWrongDigestAcceptedAndReplaysIt) {
  BrokenRegistry reg(/*trust_digests=*/true, /*fail_catalog=*/false);
  std::string out = TempDir("digest");
  Exec e = RunFuzz("--url " + reg.url() + " --seconds 3 --seed 5 --timeout-ms 3000 --out " + out);
  EXPECT_EQ(e.code, 1) << e.out;
  auto files = FindingFiles(out, "blob-digest-mismatch");
  ASSERT_FALSE(files.empty()) << e.out;
  EXPECT_NE(e.out.find("blob-digest-mismatch"), std::string::npos) << e.out;

  Exec r = RunFuzz("--url " + reg.url() + " --replay " + files[0]);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("oracle: blob-digest-mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("< 201"), std::string::npos) << r.out;
  fs::remove_all(out);
}

TEST(DtrFuzz, FindsA500) {
  BrokenRegistry reg(/*trust_digests=*/false, /*fail_catalog=*/true);
  std::string out = TempDir("500");
  Exec e = RunFuzz("--url " + reg.url() + " --seconds 3 --seed 9 --timeout-ms 3000 --out " + out);
  EXPECT_EQ(e.code, 1) << e.out;
  auto files = FindingFiles(out, "server-error");
  ASSERT_FALSE(files.empty()) << e.out;
  EXPECT_TRUE(FindingFiles(out, "blob-digest-mismatch").empty()) << e.out;
  Exec r = RunFuzz("--url " + reg.url() + " --replay " + files[0]);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("< 500"), std::string::npos) << r.out;
  fs::remove_all(out);
}

TEST(DtrFuzz, FindsAManifestNamingAMissingBlob) {
  BrokenRegistry reg(false, false, /*accept_manifests=*/true);
  std::string out = TempDir("manifest");
  Exec e = RunFuzz("--url " + reg.url() + " --seconds 3 --seed 3 --timeout-ms 3000 --out " + out);
  EXPECT_EQ(e.code, 1) << e.out;
  EXPECT_FALSE(FindingFiles(out, "manifest-missing-blob").empty()) << e.out;
  fs::remove_all(out);
}

TEST(DtrFuzz, FindsAHang) {
  BrokenRegistry reg(false, false, false, /*slow_tags=*/true);
  std::string out = TempDir("hang");
  Exec e = RunFuzz("--url " + reg.url() + " --seconds 4 --seed 4 --timeout-ms 1000 --out " + out);
  EXPECT_EQ(e.code, 1) << e.out;
  EXPECT_FALSE(FindingFiles(out, "hang").empty()) << e.out;
  fs::remove_all(out);
}

TEST(DtrFuzz, ExitCodes) {
  EXPECT_EQ(RunFuzz("").code, 2);
  EXPECT_EQ(RunFuzz("--url http://example.com:5000 --seconds 1").code, 2);
  EXPECT_EQ(RunFuzz("--url http://127.0.0.1:5000 --seconds 1 --user u").code, 2);
  // Nothing listens on port 1.
  EXPECT_EQ(RunFuzz("--url http://127.0.0.1:1 --seconds 1 --out /tmp/dtr-fuzz-none").code, 3);
}

}  // namespace
}  // namespace dtr::blackbox
