#include "http_client.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "auth.h"

namespace dtrc {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /path?query ("/" when empty)
};

SplitUrl split_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {"", url};
  auto path_start = url.find_first_of("/?", scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  std::string path = url.substr(path_start);
  if (path[0] == '?') path = "/" + path;
  return {url.substr(0, path_start), path};
}

// The largest response body the suite reads; more than any case needs.
constexpr std::uint64_t kMaxBody = 64ull << 20;

}  // namespace

std::string printable(std::string_view bytes, std::size_t limit) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  std::size_t n = std::min(bytes.size(), limit);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out.push_back(static_cast<char>(c));
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (bytes.size() > limit) {
    out += "... (" + std::to_string(bytes.size()) + " bytes in all)";
  }
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return "";
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (iequals(h.name, name)) out.push_back(h.value);
  }
  return out;
}

bool HttpResponse::has_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

std::string HttpResponse::text(std::size_t body_limit) const {
  if (status == 0) return "(no HTTP response: " + error + ")\n";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\n";
  if (!body.empty()) out += "\n" + printable(body, body_limit) + "\n";
  return out;
}

struct HttpClient::Impl {
  ClientConfig config;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  TokenCache tokens;
  bool basic_mode = false;
  std::string auth_problem;
  HttpResponse last;
  std::function<void(const HttpResponse&)> observer;

  // Watchdog: a request that outlives its hard deadline ends the process (exit 2), so a
  // server that trickles bytes or half-answers can never hang the suite.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  Clock::time_point deadline = Clock::time_point::max();
  std::string in_flight;
  std::thread watchdog;

  explicit Impl(ClientConfig c) : config(std::move(c)) {
    watchdog = std::thread([this] { watch(); });
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    watchdog.join();
  }

  void watch() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (!stopping && Clock::now() > deadline) {
        std::fprintf(stderr,
                     "error: %s did not complete within %d seconds: the registry "
                     "accepted the connection but never finished answering\n",
                     in_flight.c_str(), config.timeout_seconds * 2 + 5);
        std::fflush(stderr);
        std::_Exit(2);
      }
    }
  }

  httplib::Client& client_for(const std::string& origin) {
    auto it = clients.find(origin);
    if (it != clients.end()) return *it->second;
    auto c = std::make_unique<httplib::Client>(origin);
    const int t = config.timeout_seconds;
    c->set_connection_timeout(t, 0);
    c->set_read_timeout(t, 0);
    c->set_write_timeout(t, 0);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_follow_location(false);
    c->set_url_encode(false);
    c->set_decompress(false);
    c->set_compress(false);
    if (!config.ca_file.empty()) c->set_ca_cert_path(config.ca_file);
    c->enable_server_certificate_verification(!config.insecure);
    auto& ref = *c;
    clients[origin] = std::move(c);
    return ref;
  }

  // One HTTP exchange, no auth logic, no redirects.
  HttpResponse transport(const std::string& url, const HttpRequest& r, const Headers& extra) {
    HttpResponse out;
    out.url = url;
    SplitUrl su = split_url(url);
    if (su.origin.empty()) {
      out.error_kind = TransportError::kOther;
      out.error = "not an absolute URL: " + url;
      return out;
    }
    httplib::Request hr;
    hr.method = r.method;
    hr.path = su.path;
    for (const auto& h : r.headers) hr.headers.emplace(h.name, h.value);
    for (const auto& h : extra) hr.headers.emplace(h.name, h.value);
    if (!hr.has_header("User-Agent")) hr.headers.emplace("User-Agent", "dtr-conformance/1");
    if (r.chunked) {
      auto body = std::make_shared<std::string>(r.body);
      hr.headers.emplace("Transfer-Encoding", "chunked");
      hr.is_chunked_content_provider_ = true;
      hr.content_provider_ = [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
        if (offset < body->size()) {
          // Uneven pieces, as a compressing client produces them.
          std::size_t n = std::min<std::size_t>(body->size() - offset, 1000 + offset % 777);
          if (!sink.write(body->data() + offset, n)) return false;
          offset += n;
        }
        if (offset >= body->size()) sink.done();
        return true;
      };
    } else {
      hr.body = r.body;
    }
    const auto started = Clock::now();
    const auto hard = started + std::chrono::seconds(config.timeout_seconds * 2 + 5);
    const auto soft = started + std::chrono::seconds(config.timeout_seconds * 2);
    hr.progress = [soft](std::uint64_t current, std::uint64_t) {
      return current <= kMaxBody && Clock::now() < soft;
    };
    {
      std::lock_guard<std::mutex> lock(mu);
      deadline = hard;
      in_flight = r.method + " " + url;
    }
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok = client_for(su.origin).send(hr, res, err);
    {
      std::lock_guard<std::mutex> lock(mu);
      deadline = Clock::time_point::max();
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

    std::string rt = r.method + " " + url + " HTTP/1.1\n";
    for (const auto& [name, value] : hr.headers) {
      rt += name + ": " +
            (iequals(name, "Authorization") ? value.substr(0, value.find(' ')) + " <redacted>"
                                            : value) +
            "\n";
    }
    if (!r.body.empty()) {
      rt += "\n" + printable(r.body, 512) + "\n";
    }
    out.request_text = rt;

    if (!ok || err != httplib::Error::Success) {
      switch (err) {
        case httplib::Error::Connection:
          out.error_kind = TransportError::kConnect;
          out.error = "cannot connect to " + su.origin + " (connection refused or unreachable)";
          break;
        case httplib::Error::ConnectionTimeout:
          out.error_kind = TransportError::kTimeout;
          out.error = "connecting to " + su.origin + " timed out after " +
                      std::to_string(config.timeout_seconds) + " s";
          break;
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLLoadingCerts:
        case httplib::Error::SSLServerVerification:
          out.error_kind = TransportError::kTls;
          out.error =
              "TLS error talking to " + su.origin + ": " + httplib::to_string(err) +
              (err == httplib::Error::SSLServerVerification ? " (use --ca FILE or --insecure)"
                                                            : "");
          break;
        case httplib::Error::Read:
          if (elapsed + 0.25 >= config.timeout_seconds) {
            out.error_kind = TransportError::kTimeout;
            out.error = "no answer from " + su.origin + " within " +
                        std::to_string(config.timeout_seconds) + " s";
          } else {
            out.error_kind = TransportError::kProtocol;
            out.error = "invalid or truncated HTTP response from " + su.origin +
                        " (connection closed, or not an HTTP server)";
          }
          break;
        case httplib::Error::Canceled:
          out.error_kind = TransportError::kTimeout;
          out.error = "response from " + su.origin + " too slow or larger than " +
                      std::to_string(kMaxBody >> 20) + " MiB";
          break;
        default:
          out.error_kind = TransportError::kOther;
          out.error = "request to " + su.origin + " failed: " + httplib::to_string(err);
      }
      // A broken connection must not poison the next request.
      clients.erase(su.origin);
      return out;
    }
    out.status = res.status;
    out.reason = res.reason;
    for (const auto& [name, value] : res.headers) out.headers.push_back({name, value});
    out.body = std::move(res.body);
    if (config.verbose) {
      std::fprintf(stderr, "  > %s %s\n  < %d (%zu bytes)\n", r.method.c_str(), url.c_str(),
                   out.status, out.body.size());
    }
    return out;
  }

  Headers auth_headers(const std::string& origin, const std::string& repo) {
    if (!config.token.empty()) return {{"Authorization", "Bearer " + config.token}};
    if (origin != split_url(config.base_url).origin) return {};
    if (basic_mode) {
      return {{"Authorization", "Basic " + base64_encode(config.user + ":" + config.password)}};
    }
    if (auto t = tokens.for_repo(repo)) return {{"Authorization", "Bearer " + *t}};
    return {};
  }

  // Answers a 401's challenges. True when a retry may succeed.
  bool answer_challenge(const HttpResponse& res, const std::string& repo,
                        std::set<std::string>& tried) {
    auto challenges = parse_www_authenticate(res.header_values("WWW-Authenticate"));
    const Challenge* bearer = nullptr;
    const Challenge* basic = nullptr;
    for (const auto& c : challenges) {
      if (c.scheme == "bearer" && !bearer) bearer = &c;
      if (c.scheme == "basic" && !basic) basic = &c;
    }
    if (bearer && bearer->params.count("realm")) {
      std::string key = TokenCache::key_for(*bearer);
      if (tried.count(key)) {
        auth_problem = "the registry rejected the token it issued for \"" +
                       (bearer->params.count("scope") ? bearer->params.at("scope") : "") + "\"" +
                       (config.user.empty() ? " (no credentials given)" : "");
        return false;
      }
      tried.insert(key);
      if (auto cached = tokens.get(key)) {
        tokens.remember(repo, key);
        return true;
      }
      HttpRequest treq;
      treq.target = token_request_url(*bearer);
      Headers extra;
      if (!config.user.empty()) {
        extra.push_back(
            {"Authorization", "Basic " + base64_encode(config.user + ":" + config.password)});
      }
      HttpResponse tres = transport(treq.target, treq, extra);
      if (tres.status != 200) {
        auth_problem = "token endpoint " + treq.target + " answered " +
                       (tres.status ? std::to_string(tres.status) : tres.error) +
                       (config.user.empty() ? " (anonymous; give --user/--password)" : "");
        return false;
      }
      auto token = parse_token_response(tres.body);
      if (!token) {
        auth_problem = "token endpoint " + treq.target + " answered without a token";
        return false;
      }
      tokens.put(key, *token);
      tokens.remember(repo, key);
      return true;
    }
    if (basic) {
      if (config.user.empty()) {
        auth_problem = "the registry asks for Basic credentials: give --user and --password";
        return false;
      }
      if (basic_mode) {
        auth_problem = "the registry rejected the Basic credentials";
        return false;
      }
      basic_mode = true;
      return true;
    }
    auth_problem = challenges.empty()
                       ? "401 without a WWW-Authenticate challenge"
                       : "unsupported WWW-Authenticate scheme \"" + challenges[0].scheme + "\"";
    return false;
  }
};

HttpClient::HttpClient(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
HttpClient::~HttpClient() = default;

const HttpResponse& HttpClient::last() const { return impl_->last; }
const std::string& HttpClient::base_url() const { return impl_->config.base_url; }
std::string HttpClient::auth_problem() const { return impl_->auth_problem; }

void HttpClient::set_observer(std::function<void(const HttpResponse&)> observer) {
  impl_->observer = std::move(observer);
}

std::string HttpClient::absolute(const std::string& target) const {
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) return target;
  return impl_->config.base_url + (target.empty() || target[0] != '/' ? "/" : "") + target;
}

std::string HttpClient::resolve(const std::string& request_url, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  SplitUrl su = split_url(request_url);
  if (location.rfind("//", 0) == 0) {
    return request_url.substr(0, request_url.find("://") + 1) + location;
  }
  if (!location.empty() && location[0] == '/') return su.origin + location;
  // Relative reference: against the request path's directory.
  std::string path = su.path.substr(0, su.path.find('?'));
  path = path.substr(0, path.rfind('/') + 1);
  return su.origin + path + location;
}

HttpResponse HttpClient::send(const HttpRequest& request) {
  Impl& d = *impl_;
  d.auth_problem.clear();
  std::string url = absolute(request.target);
  std::set<std::string> tried;
  HttpRequest hop = request;
  bool authenticate = request.authenticate;
  HttpResponse res;
  for (int redirects = 0;; ++redirects) {
    SplitUrl su = split_url(url);
    const std::string repo = repository_of(su.path);
    for (int attempt = 0; attempt < 4; ++attempt) {
      Headers extra = authenticate ? d.auth_headers(su.origin, repo) : Headers{};
      res = d.transport(url, hop, extra);
      if (res.ok() && d.observer) d.observer(res);
      if (res.status != 401 || !authenticate || !d.config.token.empty()) break;
      if (!d.answer_challenge(res, repo, tried)) break;
    }
    const bool redirect = res.status == 301 || res.status == 302 || res.status == 303 ||
                          res.status == 307 || res.status == 308;
    if (!redirect || !request.follow_redirects ||
        (request.method != "GET" && request.method != "HEAD") || !res.has_header("Location") ||
        redirects >= 5) {
      break;
    }
    std::string next = resolve(url, res.header("Location"));
    // Credentials never travel to another origin (e.g. a storage backend's signed URL).
    if (split_url(next).origin != split_url(d.config.base_url).origin) authenticate = false;
    url = next;
  }
  d.last = res;
  return res;
}

}  // namespace dtrc
