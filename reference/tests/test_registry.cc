#include "tests/test_registry.h"

#include "http/parser.h"

namespace dtr::testing {

namespace {
class StringWriter : public http::BodyWriter {
 public:
  bool Write(const char* data, size_t n) override {
    out.append(data, n);
    return true;
  }
  std::string out;
};
}  // namespace

Reply TestRegistry::Do(const std::string& method, const std::string& target,
                       const std::string& body,
                       std::vector<std::pair<std::string, std::string>> headers, bool chunked) {
  http::Request req;
  req.method = method;
  req.target = target;
  http::SplitTarget(target, &req);
  req.headers.Add("Host", "registry.test");
  for (auto& [k, v] : headers) req.headers.Add(k, v);
  if (chunked) {
    req.headers.Add("Transfer-Encoding", "chunked");
  } else if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
    req.headers.Add("Content-Length", std::to_string(body.size()));
  }
  http::StringBodyReader reader(body, chunked);
  req.body = &reader;
  req.remote_addr = "127.0.0.1";
  http::Response res;
  app_->Handle(req, res);
  Reply r;
  r.status = res.status;
  r.headers = res.headers;
  if (res.stream && method != "HEAD") {
    StringWriter w;
    res.stream(w);
    r.body = std::move(w.out);
  } else if (method != "HEAD") {
    r.body = res.body;
  }
  return r;
}

Reply TestRegistry::PushBlob(const std::string& repo, const std::string& content) {
  return Do("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + DigestOf(content), content);
}

Reply TestRegistry::PushManifest(const std::string& repo, const std::string& ref,
                                 const std::string& type, const std::string& content) {
  return Do("PUT", "/v2/" + repo + "/manifests/" + ref, content, {{"Content-Type", type}});
}

std::string ImageManifest(const std::string& config, const std::vector<std::string>& layers,
                          const std::string& extra_json, const std::string& media_type) {
  bool docker = media_type.find("docker") != std::string::npos;
  std::string config_type = docker ? "application/vnd.docker.container.image.v1+json"
                                   : "application/vnd.oci.image.config.v1+json";
  std::string layer_type = docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                                  : "application/vnd.oci.image.layer.v1.tar";
  std::string m = R"({"schemaVersion":2,"mediaType":")" + media_type +
                  R"(","config":{"mediaType":")" + config_type + R"(","digest":")" +
                  DigestOf(config) + R"(","size":)" + std::to_string(config.size()) +
                  R"(},"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i) m += ",";
    m += R"({"mediaType":")" + layer_type + R"(","digest":")" + DigestOf(layers[i]) +
         R"(","size":)" + std::to_string(layers[i].size()) + "}";
  }
  m += "]" + extra_json + "}";
  return m;
}

std::string TestRegistry::PushImage(const std::string& repo, const std::string& tag,
                                    const std::string& layer_content,
                                    const std::string& extra_json) {
  std::string config =
      R"({"architecture":"amd64","os":"linux","layer":")" + DigestOf(layer_content) + "\"}";
  PushBlob(repo, config);
  PushBlob(repo, layer_content);
  std::string m = ImageManifest(config, {layer_content}, extra_json);
  PushManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", m);
  return m;
}

}  // namespace dtr::testing
