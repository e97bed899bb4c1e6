// The proof that dtr-conformance can fail: it is run, as a black box, against
// bad_registry_server in each of its deviations, and exactly the cases each deviation
// breaks must fail, nothing else. Then bad input: nothing listening, a hung connection,
// garbage, HTML, TLS trouble, auth: a clear message and exit 2, never a hang or a crash.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path temp_dir() {
  static const fs::path dir = [] {
    std::string tmpl = (fs::temp_directory_path() / "dtrc-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    return fs::path(made ? made : "/tmp");
  }();
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fixture server, started on a free port and killed (by its pid) when the test ends.
class Server {
 public:
  explicit Server(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> argv_s = {DTRC_SERVER_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    // "PORT <n>\n", within 10 s.
    std::string line;
    pollfd p{fds[0], POLLIN, 0};
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
      if (poll(&p, 1, 100) > 0) {
        char buf[64];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
      }
    }
    close(fds[0]);
    if (line.rfind("PORT ", 0) == 0) port_ = std::atoi(line.c_str() + 5);
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct SuiteRun {
  int exit_code = -1;
  double seconds = 0;
  std::string out, err;
  nlohmann::json report;  // the --json file, when the run wrote one
  std::set<std::string> failed() const {
    std::set<std::string> ids;
    if (report.contains("cases")) {
      for (const auto& c : report["cases"]) {
        if (c["status"] == "fail") ids.insert(c["id"].get<std::string>());
      }
    }
    return ids;
  }
  std::string status_of(const std::string& id) const {
    if (report.contains("cases")) {
      for (const auto& c : report["cases"]) {
        if (c["id"] == id) return c["status"];
      }
    }
    return "";
  }
};

// Runs dtr-conformance; kills it if it outlives `limit` (that is a test failure).
SuiteRun run_suite(std::vector<std::string> args, int limit_seconds = 120) {
  static int counter = 0;
  const std::string tag = std::to_string(++counter);
  const fs::path out = temp_dir() / ("out" + tag), err = temp_dir() / ("err" + tag),
                 json = temp_dir() / ("report" + tag + ".json");
  args.insert(args.begin(), DTRC_SUITE_BIN);
  args.push_back("--json");
  args.push_back(json.string());
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  SuiteRun r;
  const auto start = Clock::now();
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (Clock::now() - start > std::chrono::seconds(limit_seconds)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "dtr-conformance did not finish within " << limit_seconds << " s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  if (fs::exists(json)) r.report = nlohmann::json::parse(slurp(json), nullptr, false);
  return r;
}

std::string describe(const SuiteRun& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstderr:\n" + r.err + "\nstdout (tail):\n" +
         (r.out.size() > 6000 ? r.out.substr(r.out.size() - 6000) : r.out);
}

// ---- the conforming fixture passes, each deviation fails exactly its cases ---------------

TEST(ConformanceFixture, ConformingServerPassesEveryCase) {
  Server s({});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  // Everything that can run against a registry without auth ran.
  EXPECT_GE(r.report["summary"]["passed"].get<int>(), 90) << describe(r);
}

struct Deviation {
  const char* name;
  std::set<std::string> failing;
  int exit_code;  // 1 when a MUST case is among them, else 0
};

void PrintTo(const Deviation& d, std::ostream* os) { *os << d.name; }

class DeviationTest : public ::testing::TestWithParam<Deviation> {};

TEST_P(DeviationTest, ExactlyTheDeviatingCasesFail) {
  const Deviation& d = GetParam();
  Server s({"--deviate", d.name});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(r.failed(), d.failing) << describe(r);
  EXPECT_EQ(r.exit_code, d.exit_code) << describe(r);
  // Each failure shows the request and the response that proved it.
  for (const auto& id : d.failing) {
    EXPECT_NE(r.out.find("FAIL  " + id + "  "), std::string::npos) << id;
  }
  if (!d.failing.empty()) {
    EXPECT_NE(r.out.find("    | HTTP/1.1 "), std::string::npos) << describe(r);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Deviations, DeviationTest,
    ::testing::Values(
        Deviation{"wrong-digest-header",
                  {"registry/blob-get-digest-header", "registry/blob-digest-header-present"},
                  1},
        Deviation{"tags-pagination-ignored",
                  {"registry/tags-list-n", "registry/tags-list-n-last", "registry/tags-list-last",
                   "registry/tags-list-n-zero"},
                  1},
        Deviation{"chunk-order-ignored",
                  {"registry/upload-first-chunk-not-zero", "registry/upload-chunk-out-of-order",
                   "registry/upload-chunk-overlap"},
                  1},
        Deviation{"bad-digest-500",
                  {"registry/blob-get-invalid-digest", "registry/manifest-get-invalid-digest",
                   "registry/upload-put-invalid-digest", "registry/referrers-invalid-digest"},
                  1},
        Deviation{"no-referrers", {"registry/referrers-supported"}, 1},
        // SHOULD-only deviations: reported, but the run passes.
        Deviation{"accept-strict", {"registry/manifest-accept-mismatch"}, 0},
        Deviation{"mount-unsupported", {"registry/mount-from"}, 0},
        // Deletion disabled with 405 UNSUPPORTED is what the spec allows: nothing fails.
        Deviation{"no-delete", {}, 0}),
    [](const ::testing::TestParamInfo<Deviation>& param_info) {
      std::string n = param_info.param.name;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

TEST(ConformanceFixture, DeletionDisabledIsSeenAsUnsupported) {
  Server s({"--deviate", "no-delete"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(r.status_of("registry/error-unsupported"), "pass") << describe(r);
  EXPECT_EQ(r.status_of("registry/referrers-after-delete"), "skip") << describe(r);
}

TEST(ConformanceFixture, ReferrersCasesSkipWithoutTheApi) {
  Server s({"--deviate", "no-referrers"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r =
      run_suite({"--url", s.url(), "--timeout", "5", "--junit", (temp_dir() / "j.xml").string()});
  EXPECT_EQ(r.status_of("registry/referrers-list"), "skip") << describe(r);
  EXPECT_EQ(r.status_of("registry/manifest-subject-header"), "skip") << describe(r);
  std::string junit = slurp(temp_dir() / "j.xml");
  EXPECT_NE(junit.find("<failure message="), std::string::npos);
  EXPECT_NE(junit.find("name=\"referrers-supported\""), std::string::npos);
}

// ---- auth like a real client ---------------------------------------------------------------

TEST(ConformanceAuth, BasicWithCredentialsPasses) {
  Server s({"--auth", "basic"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r =
      run_suite({"--url", s.url(), "--user", "alice", "--password", "s3cret", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  EXPECT_EQ(r.status_of("registry/error-unauthorized"), "pass") << describe(r);
}

TEST(ConformanceAuth, BasicWithoutCredentialsIsAClearExit2) {
  Server s({"--auth", "basic"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("--user and --password"), std::string::npos) << describe(r);
}

TEST(ConformanceAuth, BearerTokenFlowPasses) {
  Server s({"--auth", "bearer"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r =
      run_suite({"--url", s.url(), "--user", "alice", "--password", "s3cret", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  // Mounts need a token for two repositories: the scope set of the challenge.
  EXPECT_EQ(r.status_of("registry/mount-from"), "pass") << describe(r);
}

TEST(ConformanceAuth, BearerWithWrongPasswordIsAClearExit2) {
  Server s({"--auth", "bearer"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r =
      run_suite({"--url", s.url(), "--user", "alice", "--password", "wrong", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("token endpoint"), std::string::npos) << describe(r);
}

TEST(ConformanceAuth, AnonymousTokenWithoutRepositoryAccessStopsTheRun) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("run aborted: authentication failed"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("no credentials given"), std::string::npos) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);  // not a verdict on the registry
  // With credentials the same server passes.
  SuiteRun ok =
      run_suite({"--url", s.url(), "--user", "alice", "--password", "s3cret", "--timeout", "5"});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
}

// ---- the `auth` group: the token spec's rules, each broken by one deviation ------------

std::vector<std::string> auth_run(const Server& s) {
  return {"--url",  s.url(),     "--user", "alice",  "--password",
          "s3cret", "--timeout", "5",      "--only", "auth"};
}

TEST(ConformanceAuthGroup, ConformingTokenServerPassesEveryAuthCase) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite(auth_run(s));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  EXPECT_EQ(r.report["summary"]["skipped"].get<int>(), 0) << describe(r);
  EXPECT_EQ(r.report["summary"]["passed"].get<int>(), 12) << describe(r);
}

TEST(ConformanceAuthGroup, WithoutCredentialsTheCasesThatNeedThemSkipAndSaySo) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5", "--only", "auth"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  for (const char* id : {"auth/token-get-shape", "auth/token-scoped-to-repo",
                         "auth/oauth-post-password", "auth/oauth-post-refresh"}) {
    EXPECT_EQ(r.status_of(id), "skip") << id << describe(r);
    EXPECT_NE(r.out.find(std::string("SKIP  ") + id), std::string::npos) << describe(r);
  }
  EXPECT_NE(r.out.find("needs --user/--password"), std::string::npos) << describe(r);
  // What an anonymous token can prove still runs.
  EXPECT_EQ(r.status_of("auth/tampered-token"), "pass") << describe(r);
  EXPECT_EQ(r.status_of("auth/partial-grant"), "pass") << describe(r);
}

TEST(ConformanceAuthGroup, NoTokenAuthMeansNotApplicable) {
  Server s({});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5", "--only", "auth"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.report["summary"]["skipped"].get<int>(), 12) << describe(r);
  EXPECT_NE(r.out.find("not applicable"), std::string::npos) << describe(r);
}

TEST(ConformanceAuthGroup, RealmWithoutPostIsNotApplicableNotPassed) {
  Server s({"--auth", "bearer-anonymous", "--deviate", "no-oauth-post"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite(auth_run(s));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  EXPECT_EQ(r.status_of("auth/oauth-post-password"), "skip") << describe(r);
  EXPECT_EQ(r.status_of("auth/oauth-post-refresh"), "skip") << describe(r);
  EXPECT_NE(r.out.find("not applicable: the realm does not take the OAuth2 POST form"),
            std::string::npos)
      << describe(r);
}

class AuthDeviationTest : public ::testing::TestWithParam<Deviation> {};

TEST_P(AuthDeviationTest, ExactlyTheDeviatingCasesFail) {
  const Deviation& d = GetParam();
  Server s({"--auth", "bearer-anonymous", "--deviate", d.name});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite(auth_run(s));
  EXPECT_EQ(r.failed(), d.failing) << describe(r);
  EXPECT_EQ(r.exit_code, d.exit_code) << describe(r);
  for (const auto& id : d.failing) {
    EXPECT_NE(r.out.find("FAIL  " + id + "  "), std::string::npos) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AuthDeviations, AuthDeviationTest,
    ::testing::Values(
        // Anonymous callers get push: the partial grant is not partial.
        Deviation{"realm-grants-all", {"auth/partial-grant"}, 1},
        Deviation{"realm-ignores-password", {"auth/wrong-password", "auth/oauth-post-password"}, 1},
        Deviation{"token-any-repo", {"auth/token-scoped-to-repo"}, 1},
        Deviation{"unsigned-tokens", {"auth/tampered-token", "auth/alg-none-token"}, 1},
        // /v2/ lets any Bearer value in.
        Deviation{
            "any-bearer", {"auth/tampered-token", "auth/alg-none-token", "auth/garbage-token"}, 1}),
    [](const ::testing::TestParamInfo<Deviation>& param_info) {
      std::string n = param_info.param.name;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

// ---- the `api` group (profile dtr) against the fixture's little DTR API ----------------

std::vector<std::string> api_run(const Server& s) {
  return {"--url",     s.url(), "--user",    "alice", "--password", "s3cret",
          "--timeout", "5",     "--profile", "dtr",   "--only",     "api"};
}

TEST(ConformanceApiGroup, ConformingFixturePassesEveryApiCase) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite(api_run(s));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  EXPECT_EQ(r.report["summary"]["passed"].get<int>(), 15) << describe(r);
}

TEST(ConformanceApiGroup, OnlyInTheDtrProfileAndOnlyWithCredentials) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun oci = run_suite({"--url", s.url(), "--timeout", "5"});
  EXPECT_EQ(oci.status_of("api/repo-create"), "") << describe(oci);  // not selected
  SuiteRun anon =
      run_suite({"--url", s.url(), "--timeout", "5", "--profile", "dtr", "--only", "api"});
  EXPECT_EQ(anon.exit_code, 0) << describe(anon);
  EXPECT_EQ(anon.report["summary"]["skipped"].get<int>(), 15) << describe(anon);
  EXPECT_NE(anon.out.find("needs --user/--password"), std::string::npos) << describe(anon);
}

class ApiDeviationTest : public ::testing::TestWithParam<Deviation> {};

TEST_P(ApiDeviationTest, ExactlyTheDeviatingCasesFail) {
  const Deviation& d = GetParam();
  Server s({"--auth", "bearer-anonymous", "--deviate", d.name});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite(api_run(s));
  EXPECT_EQ(r.failed(), d.failing) << describe(r);
  EXPECT_EQ(r.exit_code, d.exit_code) << describe(r);
  for (const auto& id : d.failing) {
    EXPECT_NE(r.out.find("FAIL  " + id + "  "), std::string::npos) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(ApiDeviations, ApiDeviationTest,
                         ::testing::Values(
                             // {"message"} instead of {"errors":[{"code","message"}]}.
                             Deviation{"api-plain-errors",
                                       {"api/repo-exists", "api/repo-not-found", "api/repo-delete",
                                        "api/tag-delete", "api/enzi-account"},
                                       1},
                             Deviation{"api-mutable-tags", {"api/immutable-tags"}, 1},
                             Deviation{"api-tokens-not-revoked", {"api/api-token"}, 1},
                             Deviation{"api-no-events", {"api/events-push"}, 1}),
                         [](const ::testing::TestParamInfo<Deviation>& param_info) {
                           std::string n = param_info.param.name;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

// ---- the `jobs` group (profile dtr): the fixture has no jobrunner API ---------------------

TEST(ConformanceJobsGroup, WithoutTheJobsApiEveryCaseSkipsAndSaysWhy) {
  Server s({"--auth", "bearer-anonymous"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--user", "alice", "--password", "s3cret", "--timeout",
                          "5", "--profile", "dtr", "--only", "jobs", "--destructive"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
  EXPECT_EQ(r.report["summary"]["passed"].get<int>(), 0) << describe(r);
  EXPECT_GE(r.report["summary"]["skipped"].get<int>(), 12) << describe(r);
  EXPECT_NE(r.out.find("not applicable: GET /api/v0/jobs answered 404"), std::string::npos)
      << describe(r);
  SuiteRun anon =
      run_suite({"--url", s.url(), "--timeout", "5", "--profile", "dtr", "--only", "jobs"});
  EXPECT_EQ(anon.exit_code, 0) << describe(anon);
  EXPECT_TRUE(anon.failed().empty()) << describe(anon);
  EXPECT_NE(anon.out.find("needs --user/--password of a system administrator"), std::string::npos)
      << describe(anon);
  EXPECT_EQ(anon.status_of("jobs/gc-unreferenced"), "skip") << describe(anon);
  EXPECT_NE(anon.out.find("runs only with --destructive"), std::string::npos) << describe(anon);
}

// ---- bad input: a clear message and exit 2, never a hang or a crash ------------------------

int unused_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(ConformanceBadInput, NothingListening) {
  SuiteRun r =
      run_suite({"--url", "http://127.0.0.1:" + std::to_string(unused_port()), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << describe(r);
}

TEST(ConformanceBadInput, HungConnectionTimesOut) {
  Server s({"--mode", "hang"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "2"}, 30);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("no answer"), std::string::npos) << describe(r);
  EXPECT_LT(r.seconds, 15) << describe(r);
}

TEST(ConformanceBadInput, RegistryDiesMidRun) {
  Server s({"--die-after", "80"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "3"}, 60);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("run aborted: the registry stopped answering"), std::string::npos)
      << describe(r);
  // The cases after the abort are not run, and say so.
  EXPECT_NE(r.out.find("SKIP  registry/error-body-format"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("not run: the registry stopped answering"), std::string::npos)
      << describe(r);
}

TEST(ConformanceBadInput, GarbageAnswers) {
  Server s({"--mode", "garbage"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("not an HTTP server"), std::string::npos) << describe(r);
}

TEST(ConformanceBadInput, HtmlNotFound) {
  Server s({"--mode", "html"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("HTML"), std::string::npos) << describe(r);
}

TEST(ConformanceBadInput, HtmlWebSite) {
  Server s({"--mode", "html200"});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("web site"), std::string::npos) << describe(r);
}

TEST(ConformanceBadInput, HttpsAgainstPlainHttp) {
  Server s({});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url("https"), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << describe(r);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = (temp_dir() / "cert.pem").string();
    key_ = (temp_dir() / "key.pem").string();
    if (!fs::exists(cert_)) {
      std::string cmd =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
          "-addext subjectAltName=IP:127.0.0.1 -keyout " +
          key_ + " -out " + cert_ + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
    }
  }
  std::string cert_, key_;
};

TEST_F(TlsTest, UntrustedCertificateIsAClearExit2) {
  Server s({"--tls", cert_, key_});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url("https"), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("TLS error"), std::string::npos) << describe(r);
}

TEST_F(TlsTest, CaFileMakesItWork) {
  Server s({"--tls", cert_, key_});
  ASSERT_GT(s.port(), 0);
  SuiteRun r =
      run_suite({"--url", s.url("https"), "--ca", cert_, "--timeout", "5", "--only", "registry"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(r.failed().empty()) << describe(r);
}

TEST_F(TlsTest, InsecureMakesItWork) {
  Server s({"--tls", cert_, key_});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url("https"), "--insecure", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(TlsTest, PlainHttpAgainstTls) {
  Server s({"--tls", cert_, key_});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url("http"), "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("dtr-conformance: "), std::string::npos) << describe(r);
}

// ---- the command line ------------------------------------------------------------------------

TEST(ConformanceCli, UsageErrorsExit2) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                               {"--url", "ftp://x"},
                                               {"--url", "http://x", "--profile", "nope"},
                                               {"--url", "http://x", "--only", "nosuchgroup"},
                                               {"--url", "http://x", "--timeout", "0"},
                                               {"--bogus"}}) {
    SuiteRun r = run_suite(args, 20);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("dtr-conformance: "), std::string::npos) << describe(r);
  }
}

TEST(ConformanceCli, ListPrintsEveryCaseWithClauseAndLevel) {
  SuiteRun r = run_suite({"--list"}, 20);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("registry/base-v2  [MUST]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("registry/referrers-filter  [SHOULD]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("end-5"), std::string::npos) << r.out;
}

TEST(ConformanceCli, SummaryLineIsExact) {
  Server s({});
  ASSERT_GT(s.port(), 0);
  SuiteRun r = run_suite({"--url", s.url(), "--timeout", "5"});
  const auto& sum = r.report["summary"];
  const std::string line = std::to_string(sum["passed"].get<int>()) + " passed, " +
                           std::to_string(sum["failed"].get<int>()) + " failed, " +
                           std::to_string(sum["skipped"].get<int>()) + " skipped\n";
  EXPECT_NE(r.out.find("\n" + line), std::string::npos) << r.out;
}

}  // namespace
