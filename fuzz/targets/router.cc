// Raw HTTP requests to the whole application in process (no sockets): parsed by the
// server's parser, then routed through App::Handle with auth, registry, API and jobs. The
// oracle: no crash, no sanitizer report, and no 5xx for any input.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "app/app.h"
#include "http/parser.h"

namespace {

dtr::app::App* Instance() {
  static dtr::app::App* app = [] {
    std::string dir =
        std::filesystem::temp_directory_path() / ("dtr-fuzz-router-" + std::to_string(getpid()));
    dtr::app::Settings s;
    s.data_dir = dir;
    s.access_log = false;
    s.auth = std::getenv("FUZZ_AUTH") ? std::getenv("FUZZ_AUTH") : "none";
    setenv("DTR_ADMIN_PASSWORD", "fuzz-admin-password", 1);
    auto a = dtr::app::App::Open(s);
    if (!a.ok()) std::abort();
    return a.value().release();
  }();
  return app;
}

class Sink : public dtr::http::BodyWriter {
 public:
  bool Write(const char*, size_t) override { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  dtr::http::Request req;
  dtr::http::ParseError err;
  if (!dtr::http::ParseRequestHead(raw.substr(0, end), dtr::http::HeadLimits{}, &req, &err)) {
    return 0;
  }
  std::string body = raw.substr(end + 4);
  bool chunked = req.headers.Has("Transfer-Encoding");
  dtr::http::StringBodyReader reader(body, chunked);
  req.body = &reader;
  req.remote_addr = "127.0.0.1";
  dtr::http::Response res;
  Instance()->Handle(req, res);
  if (res.status >= 500 && res.status != 503) __builtin_trap();
  if (res.stream && req.method != "HEAD") {
    Sink sink;
    res.stream(sink);
  }
  return 0;
}
