// Micro-benchmarks of the reference's hot paths, in process: what every push hashes, what
// every manifest PUT parses, what every request's name and head go through.
//   build/release/bin/dtr-microbench [--benchmark_filter=REGEX] [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/digest.h"
#include "core/manifest.h"
#include "core/names.h"
#include "http/parser.h"

namespace {

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

std::string HexDigest(int i) { return dtr::ComputeDigest("layer-" + std::to_string(i)).str(); }

// Streaming SHA-256 the way an upload feeds it: one Update per buffer of the given size.
void BM_Sha256Stream(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  const size_t total = 16u << 20;
  std::string buf = RandomBytes(chunk);
  for (auto _ : state) {
    dtr::Hasher h(dtr::DigestAlgorithm::kSha256);
    for (size_t done = 0; done < total; done += chunk) h.Update(buf.data(), buf.size());
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
}
BENCHMARK(BM_Sha256Stream)
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond);

void BM_Sha512Stream(benchmark::State& state) {
  const size_t chunk = 256u << 10;
  const size_t total = 16u << 20;
  std::string buf = RandomBytes(chunk);
  for (auto _ : state) {
    dtr::Hasher h(dtr::DigestAlgorithm::kSha512);
    for (size_t done = 0; done < total; done += chunk) h.Update(buf.data(), buf.size());
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
}
BENCHMARK(BM_Sha512Stream)->Unit(benchmark::kMillisecond);

// Digest of a small document (manifests are hashed whole on PUT and on reindex).
void BM_ComputeDigestSmall(benchmark::State& state) {
  std::string doc = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(dtr::ComputeDigest(doc));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ComputeDigestSmall)->Arg(512)->Arg(4096);

void BM_DigestParse(benchmark::State& state) {
  std::string d = HexDigest(1);
  for (auto _ : state) benchmark::DoNotOptimize(dtr::Digest::Parse(d));
}
BENCHMARK(BM_DigestParse);

std::string ImageManifest(int layers) {
  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                  R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                  HexDigest(-1) + R"(","size":1469},"layers":[)";
  for (int i = 0; i < layers; ++i) {
    if (i > 0) m += ',';
    m += R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + HexDigest(i) +
         R"(","size":)" + std::to_string(1000000 + i) + "}";
  }
  m += R"(],"annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}})";
  return m;
}

std::string Index(int manifests) {
  std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
  const char* arch[] = {"amd64", "arm64", "arm", "ppc64le", "s390x", "386"};
  for (int i = 0; i < manifests; ++i) {
    if (i > 0) m += ',';
    m += R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
         HexDigest(100 + i) + R"(","size":)" + std::to_string(500 + i) +
         R"(,"platform":{"architecture":")" + arch[i % 6] + R"(","os":"linux"}})";
  }
  m += "]}";
  return m;
}

// Parse and validate a manifest as a PUT does (then list the blobs it needs).
void BM_ParseImageManifest(benchmark::State& state) {
  std::string body = ImageManifest(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto m = dtr::ParseManifest(dtr::media::kOciManifest, body);
    if (!m.ok()) state.SkipWithError(m.status().message().c_str());
    benchmark::DoNotOptimize(m->RequiredBlobs());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseImageManifest)->Arg(3)->Arg(50);

void BM_ParseIndex(benchmark::State& state) {
  std::string body = Index(6);
  for (auto _ : state) {
    auto m = dtr::ParseManifest(dtr::media::kOciIndex, body);
    if (!m.ok()) state.SkipWithError(m.status().message().c_str());
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_ParseIndex);

void BM_RejectSchema1(benchmark::State& state) {
  std::string body = R"({"schemaVersion":1,"name":"a/b","tag":"latest","fsLayers":[]})";
  for (auto _ : state) {
    benchmark::DoNotOptimize(dtr::ParseManifest(dtr::media::kDockerSchema1Signed, body));
  }
}
BENCHMARK(BM_RejectSchema1);

void BM_ValidateRepositoryName(benchmark::State& state) {
  std::vector<std::string> names = {"library/ubuntu", "myorg/team-a/service_x.api",
                                    std::string(120, 'a') + "/" + std::string(120, 'b')};
  const std::string& name = names[static_cast<size_t>(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(dtr::ValidateRepositoryName(name));
}
BENCHMARK(BM_ValidateRepositoryName)->Arg(0)->Arg(1)->Arg(2);

void BM_ValidateRepositoryNameInvalid(benchmark::State& state) {
  std::string name = "MyOrg/../service";
  for (auto _ : state) benchmark::DoNotOptimize(dtr::ValidateRepositoryName(name));
}
BENCHMARK(BM_ValidateRepositoryNameInvalid);

void BM_ValidateTag(benchmark::State& state) {
  std::string tag = "v1.2.3-alpine_2024";
  for (auto _ : state) benchmark::DoNotOptimize(dtr::ValidateTag(tag));
}
BENCHMARK(BM_ValidateTag);

// Request heads as they arrive: a manifest GET the way skopeo sends it (six Accept lines)
// and a blob upload PATCH.
const std::string kManifestGet =
    "GET /v2/myorg/service/manifests/v1.2.3 HTTP/1.1\r\n"
    "Host: registry.example.com:5000\r\n"
    "User-Agent: skopeo/1.9.3\r\n"
    "Accept: application/vnd.oci.image.manifest.v1+json\r\n"
    "Accept: application/vnd.docker.distribution.manifest.v2+json\r\n"
    "Accept: application/vnd.docker.distribution.manifest.v1+prettyjws\r\n"
    "Accept: application/vnd.docker.distribution.manifest.v1+json\r\n"
    "Accept: application/vnd.docker.distribution.manifest.list.v2+json\r\n"
    "Accept: application/vnd.oci.image.index.v1+json\r\n"
    "Authorization: Bearer "
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkdHIiLCJzdWIiOiJ1c2VyIn0."
    "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl\r\n"
    "Connection: close\r\n"
    "Accept-Encoding: gzip";

const std::string kUploadPatch =
    "PATCH /v2/myorg/service/blobs/uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b?_state=abc%3D%3D "
    "HTTP/1.1\r\n"
    "Host: 127.0.0.1:5000\r\n"
    "User-Agent: containers/5.23.1 (github.com/containers/image)\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Range: 0-1048575\r\n"
    "Content-Length: 1048576\r\n"
    "Accept-Encoding: gzip";

void BM_ParseRequestHead(benchmark::State& state) {
  const std::string& head = state.range(0) == 0 ? kManifestGet : kUploadPatch;
  dtr::http::HeadLimits limits;
  for (auto _ : state) {
    dtr::http::Request req;
    dtr::http::ParseError err;
    if (!dtr::http::ParseRequestHead(head, limits, &req, &err)) {
      state.SkipWithError(err.message.c_str());
    }
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(head.size()));
}
BENCHMARK(BM_ParseRequestHead)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
