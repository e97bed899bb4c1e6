// The scenarios: what one operation is, and what each seeds first.
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "bench.h"

namespace dtrb {

namespace {

// GET /v2/ and follow any auth challenge: proves the registry answers, and gets a token
// before the clock starts.
std::string Probe(Worker& w) {
  Request req;
  req.target = w.s.prefix + "/v2/";
  Response resp;
  if (!w.Send("GET /v2/", req, &resp, {200})) return "the registry did not answer: " + w.last_error;
  return "";
}

// A tag unique within the run: w<worker>-<n>. (Built with append: g++ 12 -O3 warns falsely
// on "literal" + std::string chains.)
std::string NewTag(const Worker& w, uint64_t n) {
  std::string tag(1, 'w');
  tag.append(std::to_string(w.id));
  tag.push_back('-');
  tag.append(std::to_string(n));
  return tag;
}

std::string SeedImage(Worker& w, int layers, uint64_t size, Image* img) {
  if (std::string e = Probe(w); !e.empty()) return e;
  if (!w.PushImage(layers, size, "bench", img)) return "seeding an image failed: " + w.last_error;
  return "";
}

class Ping : public Scenario {
 public:
  std::string Setup(Worker& w, bool*) override {
    Request req;
    req.target = w.s.prefix + "/v2/";
    Response resp;
    if (!w.Send("GET /v2/", req, &resp, {200, 401}, false)) {
      return "the registry did not answer: " + w.last_error;
    }
    return "";
  }
  bool Op(Worker& w, size_t*) override {
    Request req;
    req.target = w.s.prefix + "/v2/";
    return w.Send("GET /v2/", req, &w.scratch, {200, 401}, false);
  }
};

class ManifestGet : public Scenario {
 public:
  std::string Setup(Worker& w, bool*) override {
    // A typical small image: the manifest is what is measured, layer sizes do not matter.
    return SeedImage(w, w.s.opt.layers, 1024, &img_);
  }
  bool Op(Worker& w, size_t*) override {
    const std::string& ref = w.s.opt.by_digest ? img_.manifest_digest : img_.tag;
    return w.GetManifest(ref, img_.manifest.size(), img_.manifest_digest, nullptr);
  }

 private:
  Image img_;
};

class BlobRead : public Scenario {
 public:
  explicit BlobRead(bool head) : head_(head) {}
  std::string Setup(Worker& w, bool*) override {
    if (std::string e = Probe(w); !e.empty()) return e;
    BlobBody blob(w.s.opt.size, w.rng);
    if (!w.PushBlob(blob, blob.digest())) return "seeding a blob failed: " + w.last_error;
    digest_ = blob.digest();
    return "";
  }
  bool Op(Worker& w, size_t*) override {
    return head_ ? w.HeadBlob(digest_, w.s.opt.size) : w.GetBlob(digest_, w.s.opt.size);
  }

 private:
  bool head_;
  std::string digest_;
};

class PushBlob : public Scenario {
 public:
  std::string Setup(Worker& w, bool*) override {
    PrepareBlobs(w.s.opt.size);
    return Probe(w);
  }
  bool Op(Worker& w, size_t*) override {
    BlobBody blob(w.s.opt.size, w.rng);
    return w.PushBlob(blob, blob.digest());
  }
  void AfterOp(Worker& w) override {
    // Big blobs go at once, so a long run does not fill the disk (not timed).
    if (w.s.opt.size >= (64u << 20) && w.s.opt.cleanup && !w.created_blobs.empty()) {
      if (w.DeleteBlob(w.created_blobs.back())) w.created_blobs.pop_back();
    }
  }
};

class PushImage : public Scenario {
 public:
  std::string Setup(Worker& w, bool*) override {
    PrepareBlobs(w.s.opt.size);
    return Probe(w);
  }
  bool Op(Worker& w, size_t*) override {
    uint64_t n = n_++;
    // --untagged R: the m-th image of the run goes by digest when floor((m+1)R) > floor(mR),
    // so of N images exactly floor(NR) are untagged, however they spread over the workers.
    double r = w.s.opt.untagged;
    bool untagged = false;
    if (r > 0) {
      auto m = static_cast<double>(images_.fetch_add(1));
      untagged = std::floor((m + 1) * r) > std::floor(m * r);
    }
    return w.PushImage(w.s.opt.layers, w.s.opt.size, untagged ? std::string() : NewTag(w, n),
                       nullptr);
  }

 private:
  std::atomic<uint64_t> images_{0};
  static thread_local uint64_t n_;
};
thread_local uint64_t PushImage::n_ = 0;

class PullImage : public Scenario {
 public:
  std::string Setup(Worker& w, bool*) override {
    return SeedImage(w, w.s.opt.layers, w.s.opt.size, &img_);
  }
  bool Op(Worker& w, size_t*) override {
    return w.PullImage(w.s.opt.by_digest ? img_.manifest_digest : img_.tag, img_);
  }

 private:
  Image img_;
};

class Mixed : public Scenario {
 public:
  std::vector<std::string> Kinds() const override { return {"read", "write"}; }
  std::string Setup(Worker& w, bool*) override {
    return SeedImage(w, w.s.opt.layers, w.s.opt.size, &img_);
  }
  bool Op(Worker& w, size_t* kind) override {
    std::uniform_real_distribution<double> u(0, 1);
    if (u(w.rng) < w.s.opt.read_ratio) {
      *kind = 0;
      return w.PullImage(img_.tag, img_);
    }
    *kind = 1;
    return w.PushImage(w.s.opt.layers, w.s.opt.size, NewTag(w, n_++), nullptr);
  }

 private:
  Image img_;
  static thread_local uint64_t n_;
};
thread_local uint64_t Mixed::n_ = 0;

// The token round trip a client makes when it starts: GET /v2/ (401 with a Bearer
// challenge), GET the realm for a pull token on the repository, GET /v2/ with the token.
class Token : public Scenario {
 public:
  std::string Setup(Worker& w, bool* skip) override {
    Request req;
    req.target = w.s.prefix + "/v2/";
    Response resp;
    if (!w.Send("GET /v2/", req, &resp, {200, 401}, false)) {
      return "the registry did not answer: " + w.last_error;
    }
    if (resp.status == 200) {
      *skip = true;
      return "the registry answers GET /v2/ without authentication: it has no token auth to "
             "measure (start it with token auth, or use another scenario)";
    }
    std::string header(resp.Get("www-authenticate"));
    auto c = ParseChallenge(header);
    if (!c || c->scheme != "bearer" || c->Param("realm").empty()) {
      *skip = true;
      return "the registry's challenge is not a Bearer token challenge (" + header +
             "): no token auth to measure";
    }
    challenge_ = *c;
    // One full round trip now, so a broken realm or bad credentials stop the run here.
    if (RoundTrip(w)) return "";
    std::string e = "token round trip failed: " + w.last_error;
    if (!w.s.auth.has_credentials()) e += " (no --user/--password given)";
    return e;
  }
  bool Op(Worker& w, size_t*) override { return RoundTrip(w); }

 private:
  bool RoundTrip(Worker& w) {
    Request ping;
    ping.target = w.s.prefix + "/v2/";
    Response resp;
    if (!w.Send("GET /v2/ (anonymous)", ping, &resp, {401}, false)) return false;
    auto c = ParseChallenge(resp.Get("www-authenticate"));
    if (!c || c->Param("realm").empty()) {
      w.Fail("GET /v2/: no Bearer challenge", std::string(resp.Get("www-authenticate")));
      return false;
    }
    std::string target, why;
    HttpClient* realm =
        w.ClientFor(TokenUrl(*c, {"repository:" + w.s.repo + ":pull"}), &target, &why);
    if (realm == nullptr) {
      w.Fail("token realm", why);
      return false;
    }
    Request treq;
    treq.target = target;
    treq.keep_body = true;
    treq.max_kept = 1 << 20;
    if (w.s.auth.has_credentials())
      treq.headers.push_back({"Authorization", w.s.auth.BasicHeader()});
    if (!w.Send("token GET", treq, &resp, {200}, false, realm)) return false;
    std::string token = ExtractToken(resp.body);
    if (token.empty()) {
      w.Fail("token GET: no token in the answer", resp.body.substr(0, 200));
      return false;
    }
    Request authed;
    authed.target = w.s.prefix + "/v2/";
    authed.headers.push_back({"Authorization", "Bearer " + token});
    return w.Send("GET /v2/ (with token)", authed, &resp, {200}, false);
  }
  static std::string ExtractToken(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object()) return "";
    for (const char* key : {"token", "access_token"}) {
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
    }
    return "";
  }

  Challenge challenge_;
};

// What a Notary v1 client reads on every `docker pull` with content trust: the GUN's
// root.json and timestamp.json from the registry's trust endpoint, in alternation. Nothing
// is seeded: the GUN must have been published (e.g. `notary init GUN && notary publish GUN`).
class TrustGet : public Scenario {
 public:
  std::vector<std::string> Kinds() const override { return {"root", "timestamp"}; }
  std::string Setup(Worker& w, bool* skip) override {
    if (w.s.opt.gun.empty()) return "trust-get needs --gun GUN (a published Notary GUN)";
    for (const char* role : {"root", "timestamp"}) {
      Request req;
      req.target = Target(w, role);
      req.keep_body = true;
      req.max_kept = 1 << 20;
      Response resp;
      if (!w.Send(std::string("GET ") + role + ".json", req, &resp, {200, 404})) {
        return "the registry did not answer: " + w.last_error;
      }
      if (resp.status == 404) {
        *skip = true;
        return "no TUF " + std::string(role) + ".json for GUN " + w.s.opt.gun +
               " (publish it with the notary client first)";
      }
      if (role[0] == 'r') root_size_ = resp.body.size();
      if (nlohmann::json::parse(resp.body, nullptr, false).is_discarded()) {
        return std::string(role) + ".json is not JSON";
      }
    }
    return "";
  }
  bool Op(Worker& w, size_t* kind) override {
    *kind = (n_++ % 2 == 0) ? 0 : 1;
    Request req;
    req.target = Target(w, *kind == 0 ? "root" : "timestamp");
    if (!w.Send(*kind == 0 ? "GET root.json" : "GET timestamp.json", req, &w.scratch, {200})) {
      return false;
    }
    // The timestamp is re-signed when it nears expiry, so only root.json's size is fixed.
    if (*kind == 0 && w.scratch.body_bytes != root_size_) {
      w.Fail("GET root.json: wrong size", std::to_string(w.scratch.body_bytes) + " bytes");
      return false;
    }
    return true;
  }

 private:
  static std::string Target(const Worker& w, const char* role) {
    std::string t = w.s.prefix;
    t += "/v2/";
    t += w.s.opt.gun;
    t += "/_trust/tuf/";
    t += role;
    t += ".json";
    return t;
  }
  size_t root_size_ = 0;
  static thread_local uint64_t n_;
};
thread_local uint64_t TrustGet::n_ = 0;

}  // namespace

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> kNames = {
      "ping",       "manifest-get", "blob-head", "blob-get", "push-blob",
      "push-image", "pull-image",   "mixed",     "token",    "trust-get"};
  return kNames;
}

std::unique_ptr<Scenario> MakeScenario(const std::string& name, const Options&, std::string* err) {
  if (name == "ping") return std::make_unique<Ping>();
  if (name == "manifest-get") return std::make_unique<ManifestGet>();
  if (name == "blob-head") return std::make_unique<BlobRead>(true);
  if (name == "blob-get") return std::make_unique<BlobRead>(false);
  if (name == "push-blob") return std::make_unique<PushBlob>();
  if (name == "push-image") return std::make_unique<PushImage>();
  if (name == "pull-image") return std::make_unique<PullImage>();
  if (name == "mixed") return std::make_unique<Mixed>();
  if (name == "token") return std::make_unique<Token>();
  if (name == "trust-get") return std::make_unique<TrustGet>();
  *err = "unknown scenario '" + name + "'";
  return nullptr;
}

}  // namespace dtrb
