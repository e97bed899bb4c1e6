#include "fuzzer.h"

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

namespace dtr::blackbox {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kOctet = "application/octet-stream";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
constexpr const char* kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr int kMaxFindingFiles = 100;

bool IsSha256Digest(const std::string& d) {
  if (d.size() != 71 || d.rfind("sha256:", 0) != 0) return false;
  for (size_t i = 7; i < d.size(); ++i) {
    char c = d[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Percent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A scenario's requests, kept so a finding can be replayed.
struct Trace {
  std::vector<Step> steps;
};

class Fuzzer {
 public:
  Fuzzer(const Options& opts, Origin origin, std::ostream& log)
      : opts_(opts),
        log_(log),
        rng_(opts.seed),
        origin_(origin),
        main_(origin, opts.timeout_ms,
              opts.user.empty() ? std::nullopt
                                : std::optional<Credentials>({opts.user, opts.password})),
        anon_(origin, opts.timeout_ms, std::nullopt) {}

  RunResult Go();

 private:
  // Random helpers.
  uint64_t Next() { return rng_(); }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(Next() & 0xff);
    return s;
  }
  std::string Junk();  // a short hostile string
  std::string MutateDigest(const std::string& good);
  void MutateJson(json& j, int depth = 0);
  std::string MutateText(std::string s);

  // Sending, with the generic oracles (5xx, hang, server gone).
  Response Do(Client& c, Trace& t, Step s, const std::string& location = "");
  void Report(const std::string& oracle, const std::string& detail, const Trace& t);
  void CheckHealth(const std::string& when);

  // Set-up and scenarios.
  void Setup();
  bool PushBlob(Client& c, const std::string& repo, const std::string& content, Trace& t);
  void BlobMonolithic();
  void BlobChunked();
  void BlobProbe();
  void Manifest();
  void Listing();
  void Token();
  void ApiBody();
  void Trust();
  void CheckPrivate();
  void VerifyBlob(Client& c, const std::string& repo, const std::string& digest,
                  const std::string& how, Trace& t);

  std::string Repo() { return Pick(repos_); }

  const Options& opts_;
  std::ostream& log_;
  std::mt19937_64 rng_;
  Origin origin_;
  Client main_;  // with the credentials, when there are any
  Client anon_;  // never sends credentials
  RunResult result_;
  std::set<std::string> seen_;  // distinct findings: oracle + method + route
  bool stop_ = false;
  std::string ns_;
  std::vector<std::string> repos_;  // repositories the fuzzer writes to
  std::string private_repo_;        // empty without credentials
  std::string private_tag_ = "secret";
  std::string private_blob_;
  std::vector<std::string> fz_accounts_;  // accounts this run created (never the caller)
  int counter_ = 0;
};

std::string Fuzzer::Junk() {
  static const std::vector<std::string> pool = {"",
                                                "-1",
                                                "0",
                                                "99999999999999999999",
                                                "abc",
                                                "1e3",
                                                "%00",
                                                "%2e%2e",
                                                "..",
                                                "../../x",
                                                "%ff%fe",
                                                "a:b:c",
                                                "*",
                                                ",,,",
                                                "\"'<>",
                                                "%0d%0a",
                                                "null",
                                                "true",
                                                "[]",
                                                "{}",
                                                "%20",
                                                "A-Z_a.z",
                                                "ñandú",
                                                "sha256:",
                                                "repository:",
                                                "\\",
                                                "//",
                                                "%25"};
  std::string s = Pick(pool);
  if (OneIn(6)) s = std::string(1 + Below(3000), "ax-_/.:"[Below(7)]);
  return s;
}

std::string Fuzzer::MutateDigest(const std::string& good) {
  switch (Below(8)) {
    case 0:
      return Sha256Digest(Bytes(8));  // well formed, other content
    case 1:
      return "sha256:" + good.substr(7, 63);  // too short
    case 2: {
      std::string d = good;
      for (size_t i = 7; i < d.size(); ++i) d[i] = static_cast<char>(std::toupper(d[i]));
      return d;
    }
    case 3:
      return "sha512:" + good.substr(7);
    case 4:
      return "md5:d41d8cd98f00b204e9800998ecf8427e";
    case 5:
      return Percent(Junk());
    case 6: {
      std::string d = good;
      d[7 + Below(64)] = "0123456789abcdef"[Below(16)];
      return d;  // usually one hex digit off
    }
    default:
      return "sha256:" + std::string(64, 'z');
  }
}

void Fuzzer::MutateJson(json& j, int depth) {
  if (j.is_object() && !j.empty() && OneIn(2) && depth < 6) {
    auto it = j.begin();
    std::advance(it, static_cast<long>(Below(j.size())));
    MutateJson(it.value(), depth + 1);
    return;
  }
  if (j.is_array() && !j.empty() && OneIn(2) && depth < 6) {
    MutateJson(j[Below(j.size())], depth + 1);
    return;
  }
  switch (Below(12)) {
    case 0:
      j = nullptr;
      break;
    case 1:
      j = static_cast<int64_t>(Next());
      break;
    case 2:
      j = -1;
      break;
    case 3:
      j = std::string(1 + Below(70000), 'x');
      break;
    case 4:
      j = json::array({j, j});
      break;
    case 5:
      j = Junk();
      break;
    case 6:
      j = OneIn(2);
      break;
    case 7:
      if (j.is_object() && !j.empty()) {
        auto it = j.begin();
        std::advance(it, static_cast<long>(Below(j.size())));
        j.erase(it);
      }
      break;
    case 8:
      if (j.is_object()) j["fz" + std::to_string(Below(100))] = Junk();
      break;
    case 9: {
      json deep = 1;
      for (size_t i = 0; i < 50 + Below(400); ++i) deep = json::array({deep});
      j = deep;
      break;
    }
    case 10:
      j = 1.5e308;
      break;
    default:
      j = json::object();
      break;
  }
}

std::string Fuzzer::MutateText(std::string s) {
  if (s.empty()) return Bytes(Below(64));
  switch (Below(5)) {
    case 0:
      return s.substr(0, Below(s.size()));
    case 1:
      s.insert(Below(s.size()), 1, "{}[],:\"\\\x00\xff"[Below(10)]);
      return s;
    case 2:
      s.erase(Below(s.size()), 1);
      return s;
    case 3:
      s[Below(s.size())] = static_cast<char>(Next() & 0xff);
      return s;
    default:
      return s + s;
  }
}

Response Fuzzer::Do(Client& c, Trace& t, Step s, const std::string& location) {
  Response r = c.Send(s, location);
  ++result_.requests;
  std::string target = c.Target(s, location);
  s.status = r.status;
  t.steps.push_back(s);
  if (opts_.verbose) log_ << s.method << " " << target << " -> " << r.status << "\n";
  if (r.timed_out) {
    Report("hang",
           s.method + " " + target + " had no answer within " + std::to_string(opts_.timeout_ms) +
               " ms",
           t);
  } else if (!r.received) {
    Step ping{"GET", "/v2/", "", {}, "", 0};
    Response p = anon_.Send(ping);
    if (!p.received) {
      Report(
          "server-down",
          s.method + " " + target + " got no response (" + r.error + ") and /v2/ no longer answers",
          t);
      stop_ = true;
    }
  } else if (r.status >= 500) {
    Report("server-error",
           s.method + " " + target + " answered " + std::to_string(r.status) + ": " +
               r.body.substr(0, 300),
           t);
  }
  return r;
}

void Fuzzer::Report(const std::string& oracle, const std::string& detail, const Trace& t) {
  ++result_.counts[oracle];
  // The same oracle at the same endpoint (method + path with digests and ids cut) counts once.
  std::string route;
  if (!t.steps.empty()) {
    const Step& last = t.steps.back();
    route = last.method + " ";
    std::string p = last.path.substr(0, last.path.find('?'));
    for (const auto& r : repos_) {
      auto at = p.find(r);
      if (at != std::string::npos) p.replace(at, r.size(), "<repo>");
    }
    auto uploads = p.find("/uploads/");
    if (uploads != std::string::npos) p = p.substr(0, uploads + 9);
    auto sha = p.find("sha256:");
    if (sha != std::string::npos) p = p.substr(0, sha);
    for (char c : p) {  // names the fuzzer numbers (fz1x7, upload ids) count as one
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        route += c;
      } else if (route.back() != '#') {
        route += '#';
      }
    }
  }
  if (!seen_.insert(oracle + " " + route).second) return;
  Finding f{oracle, detail, opts_.seed, t.steps};
  result_.findings.push_back(f);
  log_ << "FINDING " << oracle << ": " << detail << "\n";
  if (static_cast<int>(result_.files.size()) >= kMaxFindingFiles) return;
  std::error_code ec;
  std::filesystem::create_directories(opts_.out_dir, ec);
  std::string name = opts_.out_dir + "/" + oracle + "-" + std::to_string(opts_.seed) + "-" +
                     std::to_string(result_.findings.size()) + ".req";
  std::ofstream out(name);
  out << FormatFinding(f);
  if (out) {
    result_.files.push_back(name);
    log_ << "  replay: dtr-fuzz --url " << origin_.text << " --replay " << name << "\n";
  }
}

void Fuzzer::CheckHealth(const std::string& when) {
  Trace t;
  Response r = Do(anon_, t, Step{"GET", "/v2/", "", {}, "", 0});
  if (!r.received || (r.status != 200 && r.status != 401)) {
    Report("server-down",
           "GET /v2/ " + when + " answered " +
               (r.received ? std::to_string(r.status) : "nothing (" + r.error + ")"),
           t);
  }
}

bool Fuzzer::PushBlob(Client& c, const std::string& repo, const std::string& content, Trace& t) {
  Response r = Do(c, t,
                  Step{"POST",
                       "/v2/" + repo + "/blobs/uploads/",
                       "digest=" + Sha256Digest(content),
                       {{"Content-Type", kOctet}},
                       content,
                       0});
  return r.status == 201;
}

void Fuzzer::Setup() {
  ns_ = opts_.user.empty() ? "fuzz" : opts_.user;
  std::string tag = "fz" + std::to_string(opts_.seed);
  for (int i = 0; i < 3; ++i) repos_.push_back(ns_ + "/" + tag + "-r" + std::to_string(i));
  Trace t;
  for (const auto& r : repos_) {
    json body = {{"name", r.substr(ns_.size() + 1)}, {"visibility", "public"}};
    Do(main_, t,
       Step{"POST",
            "/api/v0/repositories/" + ns_,
            "",
            {{"Content-Type", "application/json"}},
            body.dump(),
            0});
  }
  if (!main_.has_credentials()) return;
  private_repo_ = ns_ + "/" + tag + "-private";
  json body = {{"name", private_repo_.substr(ns_.size() + 1)}, {"visibility", "private"}};
  Do(main_, t,
     Step{"POST",
          "/api/v0/repositories/" + ns_,
          "",
          {{"Content-Type", "application/json"}},
          body.dump(),
          0});
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})";
  std::string layer = "private layer " + tag;
  private_blob_ = Sha256Digest(layer);
  bool ok = PushBlob(main_, private_repo_, config, t) && PushBlob(main_, private_repo_, layer, t);
  json m = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifest},
      {"config",
       {{"mediaType", kOciConfig}, {"digest", Sha256Digest(config)}, {"size", config.size()}}},
      {"layers",
       json::array(
           {{{"mediaType", kOciLayer}, {"digest", private_blob_}, {"size", layer.size()}}})}};
  if (ok) {
    Response r = Do(main_, t,
                    Step{"PUT",
                         "/v2/" + private_repo_ + "/manifests/" + private_tag_,
                         "",
                         {{"Content-Type", kOciManifest}},
                         m.dump(),
                         0});
    ok = r.status == 201;
  }
  log_ << "private repository " << private_repo_
       << (ok ? " made with an image" : " made (push failed)") << "\n";
}

void Fuzzer::VerifyBlob(Client& c, const std::string& repo, const std::string& digest,
                        const std::string& how, Trace& t) {
  if (!IsSha256Digest(digest)) {
    Report("blob-digest-mismatch",
           how + " was accepted (201) under the malformed digest '" + digest + "'", t);
    return;
  }
  Response g = Do(c, t, Step{"GET", "/v2/" + repo + "/blobs/" + digest, "", {}, "", 0});
  if (g.status == 200 && Sha256Digest(g.body) != digest) {
    Report("blob-digest-mismatch",
           how + " was accepted (201) as " + digest + " but the stored content hashes to " +
               Sha256Digest(g.body),
           t);
  }
}

void Fuzzer::BlobMonolithic() {
  Trace t;
  std::string repo = Repo();
  std::string content = Bytes(OneIn(8) ? 0 : Below(4096));
  std::string good = Sha256Digest(content);
  std::string digest = OneIn(3) ? good : MutateDigest(good);
  Step s{"POST", "/v2/" + repo + "/blobs/uploads/", "digest=" + digest, {}, content, 0};
  if (!OneIn(5)) s.headers.emplace_back("Content-Type", kOctet);
  if (OneIn(6)) s.query += "&digest=" + good;  // two digests
  Response r = Do(main_, t, s);
  if (r.status == 201) {
    if (digest != good) {
      Report("blob-digest-mismatch",
             "a monolithic upload of content " + good + " was accepted (201) as " + digest, t);
    } else {
      VerifyBlob(main_, repo, digest, "a monolithic upload", t);
    }
  }
}

void Fuzzer::BlobChunked() {
  Trace t;
  std::string repo = Repo();
  std::string content = Bytes(1 + Below(6000));
  std::string good = Sha256Digest(content);
  Response start = Do(main_, t, Step{"POST", "/v2/" + repo + "/blobs/uploads/", "", {}, "", 0});
  std::string location = start.Header("location");
  if (start.status != 202 || location.empty()) return;
  // Chunks: in order with correct ranges, or mutated (order, ranges, gaps, overlaps).
  size_t n = 1 + Below(4);
  std::vector<std::pair<size_t, size_t>> chunks;  // offset, length
  size_t off = 0;
  for (size_t i = 0; i < n && off < content.size(); ++i) {
    size_t len = i + 1 == n ? content.size() - off : 1 + Below(content.size() - off);
    chunks.emplace_back(off, len);
    off += len;
  }
  bool mutate = !OneIn(3);
  if (mutate && chunks.size() > 1 && OneIn(2)) std::swap(chunks[0], chunks[chunks.size() - 1]);
  std::string sent;  // what was sent, in order
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto [o, len] = chunks[i];
    Step s{"PATCH", "{location}", "", {{"Content-Type", kOctet}}, content.substr(o, len), 0};
    std::string range = std::to_string(o) + "-" + std::to_string(o + len - 1);
    if (mutate && OneIn(3)) {
      static const std::vector<std::string> bad = {
          "bytes=0-1", "5-2", "-1-3", "0-", "abc", "0-99999999999999999999", "1-1", ""};
      range = Pick(bad);
    } else if (mutate && OneIn(3)) {
      range = std::to_string(o + 1) + "-" + std::to_string(o + len);  // shifted by one
    }
    if (!(mutate && OneIn(4))) s.headers.emplace_back("Content-Range", range);
    Response r = Do(main_, t, s, location);
    if (r.status != 202) break;
    sent += s.body;
    if (!r.Header("location").empty()) location = r.Header("location");
  }
  if (mutate && OneIn(4)) {
    Response st = Do(main_, t, Step{"GET", "{location}", "", {}, "", 0}, location);
    (void)st;
  }
  std::string digest = mutate && OneIn(2) ? MutateDigest(good) : good;
  Step put{"PUT", "{location}", "digest=" + digest, {{"Content-Type", kOctet}}, "", 0};
  if (mutate && OneIn(4)) put.body = Bytes(1 + Below(100));
  Response r = Do(main_, t, put, location);
  if (r.status == 201) VerifyBlob(main_, repo, digest, "a chunked upload", t);
  if (r.status != 201 && OneIn(2))
    Do(main_, t, Step{"DELETE", "{location}", "", {}, "", 0}, location);
}

void Fuzzer::BlobProbe() {
  Trace t;
  std::string repo = OneIn(5) ? Percent(Junk()) : Repo();
  std::string digest = MutateDigest(Sha256Digest(Bytes(4)));
  static const std::vector<std::string> methods = {"GET", "HEAD", "DELETE"};
  Step s{Pick(methods), "/v2/" + repo + "/blobs/" + digest, "", {}, "", 0};
  if (OneIn(3)) s.headers.emplace_back("Range", "bytes=" + Junk());
  if (OneIn(4)) {
    s = Step{"POST",
             "/v2/" + repo + "/blobs/uploads/",
             "mount=" + digest + "&from=" + Percent(OneIn(2) ? Repo() : Junk()),
             {},
             "",
             0};
  }
  if (OneIn(5)) s = Step{"GET", "/v2/" + repo + "/blobs/uploads/" + Percent(Junk()), "", {}, "", 0};
  Do(OneIn(4) ? anon_ : main_, t, s);
}

void Fuzzer::Manifest() {
  Trace t;
  std::string repo = Repo();
  std::string config =
      R"({"architecture":"amd64","os":"linux","n":)" + std::to_string(Next()) + "}";
  std::string layer = Bytes(1 + Below(512));
  if (!PushBlob(main_, repo, config, t) || !PushBlob(main_, repo, layer, t)) return;
  bool oci = OneIn(2);
  json m = {{"schemaVersion", 2},
            {"mediaType", oci ? kOciManifest : kDockerManifest},
            {"config",
             {{"mediaType", oci ? kOciConfig : kDockerConfig},
              {"digest", Sha256Digest(config)},
              {"size", config.size()}}},
            {"layers", json::array({{{"mediaType", oci ? kOciLayer : kDockerLayer},
                                     {"digest", Sha256Digest(layer)},
                                     {"size", layer.size()}}})}};
  std::string content_type = oci ? kOciManifest : kDockerManifest;
  bool index = OneIn(5);
  if (index) {
    // An index over one manifest we push first, and maybe one that does not exist.
    std::string inner = m.dump();
    Response r = Do(main_, t,
                    Step{"PUT",
                         "/v2/" + repo + "/manifests/" + Sha256Digest(inner),
                         "",
                         {{"Content-Type", content_type}},
                         inner,
                         0});
    if (r.status != 201) return;
    json entry = {{"mediaType", content_type},
                  {"digest", Sha256Digest(inner)},
                  {"size", inner.size()},
                  {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}};
    m = {{"schemaVersion", 2},
         {"mediaType", oci ? kOciIndex : kDockerList},
         {"manifests", json::array({entry})}};
    content_type = oci ? kOciIndex : kDockerList;
  }
  bool raw = false;
  std::string body;
  switch (Below(8)) {
    case 0:
      break;   // valid
    case 1: {  // a blob or manifest that does not exist
      json& list = index ? m["manifests"] : (OneIn(2) ? m["layers"] : m["config"]);
      std::string missing = Sha256Digest(Bytes(16));
      if (list.is_array()) {
        list.push_back(list[0]);
        list.back()["digest"] = missing;
      } else {
        list["digest"] = missing;
      }
      break;
    }
    case 2: {  // wrong media types
      static const std::vector<std::string> types = {
          kDockerManifest,
          kDockerList,
          kOciManifest,
          kOciIndex,
          kOciLayer,
          "application/json",
          "",
          "text/plain",
          "application/vnd.docker.distribution.manifest.v1+prettyjws"};
      if (OneIn(2)) m["mediaType"] = Pick(types);
      if (OneIn(2)) content_type = Pick(types);
      if (!index && OneIn(2)) m["layers"][0]["mediaType"] = Pick(types);
      break;
    }
    case 3: {  // sizes
      static const std::vector<json> sizes = {
          json(int64_t{1} << 62), json(-1), json(0), json("12"), json(1.5), json(nullptr)};
      json& d = index ? m["manifests"][0] : (OneIn(2) ? m["layers"][0] : m["config"]);
      d["size"] = Pick(sizes);
      break;
    }
    case 4: {  // digests
      json& d = index ? m["manifests"][0] : (OneIn(2) ? m["layers"][0] : m["config"]);
      d["digest"] = MutateDigest(d["digest"].get<std::string>());
      break;
    }
    case 5:
      MutateJson(m);
      break;
    case 6:
      raw = true;
      body = MutateText(m.dump());
      break;
    default:  // many layers
      if (!index) {
        for (size_t i = 0; i < 1 + Below(200); ++i) m["layers"].push_back(m["layers"][0]);
      }
      break;
  }
  if (!raw) body = m.dump();
  std::string good = Sha256Digest(body);
  std::string ref = "fz" + std::to_string(Below(50));
  bool by_digest = OneIn(3);
  if (by_digest) ref = OneIn(3) ? MutateDigest(good) : good;
  Response r = Do(main_, t,
                  Step{"PUT",
                       "/v2/" + repo + "/manifests/" + ref,
                       "",
                       {{"Content-Type", content_type}},
                       body,
                       0});
  if (r.status != 201) return;
  // A reference without ':' is a tag (some mutations give tag-like strings); one with ':'
  // can only be a digest, and it must be the body's.
  if (ref.find(':') != std::string::npos && ref != good) {
    Report("manifest-digest-mismatch",
           "a manifest with digest " + good + " was accepted (201) as " + ref, t);
  }
  // Every descriptor it names must now exist in the repository.
  json sent = json::parse(body, nullptr, false);
  if (!sent.is_object()) return;
  std::vector<std::pair<std::string, std::string>> refs;  // kind, digest
  auto collect = [&](const json& d, const std::string& kind) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) return;
    if (d.contains("urls")) return;  // foreign layers need not be in the registry
    refs.emplace_back(kind, d["digest"].get<std::string>());
  };
  if (sent.contains("config")) collect(sent["config"], "blobs");
  for (const char* list : {"layers", "manifests"}) {
    if (!sent.contains(list) || !sent[list].is_array()) continue;
    for (const auto& d : sent[list])
      collect(d, list == std::string("layers") ? "blobs" : "manifests");
  }
  for (const auto& [kind, d] : refs) {
    if (!IsSha256Digest(d)) {
      Report("manifest-missing-blob",
             "a manifest naming the malformed digest '" + d.substr(0, 100) + "' was accepted (201)",
             t);
      return;
    }
    Response h = Do(main_, t, Step{"HEAD", "/v2/" + repo + "/" + kind + "/" + d, "", {}, "", 0});
    if (h.status == 404) {
      Report(
          "manifest-missing-blob",
          "a manifest naming " + kind + " " + d + ", absent from " + repo + ", was accepted (201)",
          t);
      return;
    }
  }
}

void Fuzzer::Listing() {
  Trace t;
  std::string q;
  if (!OneIn(4)) q = "n=" + Percent(Junk());
  if (OneIn(2)) q += std::string(q.empty() ? "" : "&") + "last=" + Percent(Junk());
  std::string path = OneIn(2) ? "/v2/_catalog" : "/v2/" + Repo() + "/tags/list";
  if (OneIn(8)) path = "/v2/" + Percent(Junk()) + "/tags/list";
  if (OneIn(8)) path = "/v2/" + Repo() + "/referrers/" + MutateDigest(Sha256Digest("x"));
  if (OneIn(6)) {
    path = "/api/v0/repositories";
    if (OneIn(2)) path += "/" + ns_;
    q = "pageSize=" + Percent(Junk()) + "&pageStart=" + Percent(Junk());
  }
  Do(OneIn(3) ? anon_ : main_, t, Step{"GET", path, q, {}, "", 0});
}

void Fuzzer::Token() {
  Trace t;
  static const std::vector<std::string> actions = {"pull",   "push", "*",          "pull,push",
                                                   "delete", "",     "pull,,push", "PULL"};
  std::vector<std::string> scopes;
  for (size_t i = 0; i < 1 + Below(3); ++i) {
    std::string s;
    switch (Below(6)) {
      case 0:
        s = "repository:" + Repo() + ":" + Pick(actions);
        break;
      case 1:
        s = "registry:catalog:*";
        break;
      case 2:
        s = "repository:" + Junk() + ":" + Pick(actions);
        break;
      case 3:
        s = "repository(plugin):" + Repo() + ":pull";
        break;
      case 4:
        s = private_repo_.empty() ? Junk() : "repository:" + private_repo_ + ":pull,push";
        break;
      default:
        s = Junk();
        break;
    }
    scopes.push_back(s);
  }
  std::string q = "service=" + Percent(OneIn(4) ? Junk() : origin_.host);
  for (const auto& s : scopes) q += "&scope=" + Percent(s);
  if (OneIn(4)) q += "&account=" + Percent(Junk());
  if (OneIn(4)) q += "&offline_token=" + Percent(Junk());
  Step s{"GET", "/auth/token", q, {}, "", 0};
  if (!opts_.user.empty() && OneIn(2)) {
    std::string pass = OneIn(3) ? opts_.password + "x" : opts_.password;
    s.headers.emplace_back("Authorization", "Basic " + Base64Encode(opts_.user + ":" + pass));
  } else if (OneIn(4)) {
    s.headers.emplace_back("Authorization",
                           OneIn(2) ? "Basic " + Percent(Junk()) : "Bearer " + Junk());
  }
  if (OneIn(4)) {  // the OAuth form
    s.method = "POST";
    s.query.clear();
    s.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    s.body = "grant_type=" + (OneIn(2) ? std::string("password") : Percent(Junk())) +
             "&username=" + Percent(opts_.user.empty() ? Junk() : opts_.user) +
             "&password=" + Percent(OneIn(2) ? opts_.password : Junk()) +
             "&service=" + Percent(origin_.host) +
             "&client_id=dtr-fuzz&scope=" + Percent(scopes[0]);
  }
  Do(anon_, t, s);  // anon_: the credentials, when any, are in the step itself
}

void Fuzzer::ApiBody() {
  Trace t;
  std::string method = "POST";
  std::string path;
  json body;
  std::string name = "fz" + std::to_string(opts_.seed) + "x" + std::to_string(counter_++);
  switch (Below(8)) {
    case 0:
      path = "/api/v0/repositories/" + ns_;
      body = {{"name", name},
              {"visibility", OneIn(2) ? "public" : "private"},
              {"shortDescription", "fuzz"},
              {"longDescription", "fuzz"},
              {"immutableTags", false},
              {"enableManifestLists", true},
              {"scanOnPush", false}};
      break;
    case 1:
      method = "PATCH";
      path = "/api/v0/repositories/" + Repo();
      body = {{"visibility", "public"}, {"shortDescription", "x"}, {"immutableTags", OneIn(2)}};
      break;
    case 2:
      if (OneIn(4) || fz_accounts_.empty()) {
        path = "/enzi/v0/accounts";
        body = {{"name", name},     {"isOrg", OneIn(2)}, {"fullName", "Fuzz"},
                {"isActive", true}, {"isAdmin", false},  {"password", "fuzz-password-" + name}};
        if (body["isOrg"].get<bool>()) body.erase("password");
        fz_accounts_.push_back(name);
      } else {
        method = "PATCH";
        path = "/enzi/v0/accounts/" + Pick(fz_accounts_);
        body = {{"fullName", "F"}, {"isActive", OneIn(2)}, {"isAdmin", false}};
      }
      break;
    case 3:
      method = OneIn(2) ? "PUT" : "POST";
      path = fz_accounts_.empty() ? "/enzi/v0/accounts/" + name + "/teams"
                                  : "/enzi/v0/accounts/" + Pick(fz_accounts_) + "/teams";
      body = {{"name", "t" + name}, {"description", "d"}, {"type", "managed"}};
      method = "POST";
      break;
    case 4:
      method = "PUT";
      path = "/api/v0/repositories/" + Repo() + "/teamAccess/t" + name;
      body = {{"accessLevel", OneIn(2) ? "read-write" : "admin"}};
      break;
    case 5:
      path = "/api/v0/api_tokens";
      body = {{"tokenLabel", name}};
      break;
    case 6:
      // A subscription on one of our repositories; deliveries go to the discard port of the
      // server's own loopback, so a pushed tag calls nobody.
      path = "/api/v0/webhooks";
      body = {{"type", OneIn(2) ? "TAG_PUSH" : "MANIFEST_DELETE"},
              {"key", Repo()},
              {"endpoint", "http://127.0.0.1:9/dtr-fuzz"},
              {"skipTLSVerification", false}};
      break;
    default:
      method = OneIn(2) ? "POST" : "PUT";
      path = "/api/v0/repositories/" + Repo() + "/pruningPolicies";
      body = {
          {"enabled", true},
          {"rules",
           json::array({{{"field", "tag"}, {"operator", "eq"}, {"values", json::array({"x"})}}})}};
      break;
  }
  std::string text;
  switch (Below(4)) {
    case 0:
      text = body.dump();
      break;
    case 1:
      text = MutateText(body.dump());
      break;
    default:
      MutateJson(body);
      text = body.dump();
      break;
  }
  Step s{method, path, "", {{"Content-Type", OneIn(8) ? "text/plain" : "application/json"}},
         text,   0};
  Do(OneIn(6) ? anon_ : main_, t, s);
}

void Fuzzer::Trust() {
  Trace t;
  std::string gun = OneIn(5) ? Percent(Junk()) : origin_.host + "/" + Repo();
  std::string base = "/v2/" + gun + "/_trust/tuf/";
  if (OneIn(3)) {
    static const std::vector<std::string> files = {
        "root.json",     "targets.json", "snapshot.json", "timestamp.json",
        "timestamp.key", "snapshot.key", "1.root.json",   "x.json"};
    Do(main_, t,
       Step{OneIn(4) ? "DELETE" : "GET",
            base + (OneIn(6) ? Percent(Junk()) : Pick(files)),
            "",
            {},
            "",
            0});
    return;
  }
  json root = {
      {"signed",
       {{"_type", "Root"},
        {"version", 1},
        {"expires", "2035-01-01T00:00:00Z"},
        {"consistent_snapshot", false},
        {"keys", json::object()},
        {"roles",
         {{"root", {{"keyids", json::array()}, {"threshold", 1}}},
          {"targets", {{"keyids", json::array()}, {"threshold", 1}}}}}}},
      {"signatures", json::array({{{"keyid", "ab"}, {"method", "ecdsa"}, {"sig", "AA=="}}})}};
  MutateJson(root);
  std::string doc = OneIn(4) ? MutateText(root.dump()) : root.dump();
  std::string boundary = "fzboundary" + std::to_string(Below(1000));
  std::string role = Pick(std::vector<std::string>{"root", "targets", "snapshot", "timestamp",
                                                   "targets/releases", "../x"});
  std::string body =
      "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + role +
      "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + doc + "\r\n--" + boundary + "--\r\n";
  if (OneIn(5)) body = MutateText(body);
  std::string ct = "multipart/form-data; boundary=" + boundary;
  if (OneIn(6)) ct = OneIn(2) ? "application/json" : "multipart/form-data";
  Do(main_, t, Step{"POST", base, "", {{"Content-Type", ct}}, body, 0});
}

void Fuzzer::CheckPrivate() {
  if (private_repo_.empty()) return;
  Trace t;
  auto seen_in = [&](const std::string& body, const char* list, const char* field) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains(list) || !j[list].is_array()) return false;
    for (const auto& e : j[list]) {
      if (e.is_string() && e.get<std::string>() == private_repo_) return true;
      if (field && e.is_object() && e.contains(field) && e.contains("namespace") &&
          e["namespace"].is_string() && e[field].is_string() &&
          e["namespace"].get<std::string>() + "/" + e[field].get<std::string>() == private_repo_) {
        return true;
      }
    }
    return false;
  };
  std::string name = private_repo_.substr(ns_.size() + 1);
  Response r = Do(anon_, t, Step{"GET", "/v2/_catalog", "n=10000", {}, "", 0});
  if (r.status == 200 && seen_in(r.body, "repositories", nullptr)) {
    return Report("private-repo-visible", "anonymous GET /v2/_catalog lists " + private_repo_, t);
  }
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v2/" + private_repo_ + "/tags/list"},
           {"GET", "/v2/" + private_repo_ + "/manifests/" + private_tag_},
           {"HEAD", "/v2/" + private_repo_ + "/manifests/" + private_tag_},
           {"GET", "/v2/" + private_repo_ + "/blobs/" + private_blob_},
           {"GET", "/api/v0/repositories/" + private_repo_},
           {"GET", "/api/v0/repositories/" + private_repo_ + "/tags"}}) {
    r = Do(anon_, t, Step{method, path, "", {}, "", 0});
    if (r.status >= 200 && r.status < 300) {
      return Report("private-repo-visible",
                    "anonymous " + method + " " + path + " answered " + std::to_string(r.status),
                    t);
    }
  }
  for (const std::string& path :
       {std::string("/api/v0/repositories"), "/api/v0/repositories/" + ns_}) {
    r = Do(anon_, t, Step{"GET", path, "pageSize=1000", {}, "", 0});
    if (r.status == 200 && seen_in(r.body, "repositories", "name")) {
      return Report("private-repo-visible",
                    std::string("anonymous GET ") + path + " lists " + private_repo_, t);
    }
  }
}

RunResult Fuzzer::Go() {
  Trace t;
  Response first = anon_.Send(Step{"GET", "/v2/", "", {}, "", 0});
  if (!first.received) {
    log_ << "dtr-fuzz: " << origin_.text << " is unreachable: " << first.error << "\n";
    result_.unreachable = true;
    return result_;
  }
  Setup();
  CheckPrivate();
  auto deadline = Clock::now() + std::chrono::seconds(opts_.seconds);
  // Weights: uploads and manifests are where content can be fooled, so they run most.
  const std::vector<std::pair<int, std::function<void()>>> scenarios = {
      {4, [this] { BlobMonolithic(); }}, {4, [this] { BlobChunked(); }},
      {2, [this] { BlobProbe(); }},      {5, [this] { Manifest(); }},
      {2, [this] { Listing(); }},        {2, [this] { Token(); }},
      {3, [this] { ApiBody(); }},        {2, [this] { Trust(); }}};
  int total = 0;
  for (const auto& s : scenarios) total += s.first;
  // Bounded: by the deadline and by a cap on scenarios (a very fast server cannot spin us).
  for (long long i = 0; i < 10'000'000 && !stop_ && Clock::now() < deadline; ++i) {
    int pick = static_cast<int>(Below(static_cast<size_t>(total)));
    for (const auto& [w, run] : scenarios) {
      if (pick < w) {
        run();
        break;
      }
      pick -= w;
    }
    ++result_.scenarios;
    if (i % 50 == 49) CheckPrivate();
  }
  if (!stop_) {
    CheckPrivate();
    CheckHealth("at the end of the run");
  }
  return result_;
}

}  // namespace

RunResult Run(const Options& opts, std::ostream& log) {
  std::string error;
  auto origin = ParseOrigin(opts.url, &error);
  if (!origin) {
    RunResult r;
    r.unreachable = true;
    log << "dtr-fuzz: " << error << "\n";
    return r;
  }
  Fuzzer f(opts, *origin, log);
  return f.Go();
}

bool Replay(const Options& opts, const Finding& f, std::ostream& out) {
  std::string error;
  auto origin = ParseOrigin(opts.url, &error);
  if (!origin) {
    out << "dtr-fuzz: " << error << "\n";
    return false;
  }
  Client c(
      *origin, opts.timeout_ms,
      opts.user.empty() ? std::nullopt : std::optional<Credentials>({opts.user, opts.password}));
  out << "oracle: " << f.oracle << "\ndetail: " << f.detail << "\n";
  std::string location;
  for (const auto& s : f.steps) {
    Response r = c.Send(s, location);
    out << "> " << s.method << " " << c.Target(s, location) << " (" << s.body.size()
        << " body bytes; recorded status " << s.status << ")\n";
    if (!r.received) {
      out << "< no response: " << r.error << (r.timed_out ? " (timed out)" : "") << "\n";
      if (r.connect_failed) return false;
      continue;
    }
    out << "< " << r.status << " in " << r.elapsed_ms << " ms\n";
    for (const auto& [k, v] : r.headers) out << "< " << k << ": " << v << "\n";
    if (r.headers.count("content-type") &&
        r.Header("content-type").find("octet") != std::string::npos) {
      out << "< (" << r.body.size() << " bytes, " << Sha256Digest(r.body) << ")\n";
    } else {
      out << "< " << r.body.substr(0, 2000) << (r.body.size() > 2000 ? "..." : "") << "\n";
    }
    if (!r.Header("location").empty()) location = r.Header("location");
  }
  return true;
}

}  // namespace dtr::blackbox
