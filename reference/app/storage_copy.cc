#include "app/storage_copy.h"

#include <vector>

#include "core/digest.h"

namespace dtr::app {

namespace {

const std::string kRoot = "/docker/registry/v2";
constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kCompareBytes = 64 << 10;  // small files are compared byte for byte

// "sha256" and the hex of a blob's data file (.../blobs/<alg>/<xx>/<hex>/data), else empty.
std::pair<std::string, std::string> BlobOf(const std::string& path) {
  const std::string prefix = kRoot + "/blobs/";
  if (path.rfind(prefix, 0) != 0 || path.size() < 5 ||
      path.compare(path.size() - 5, 5, "/data") != 0) {
    return {};
  }
  std::string rest = path.substr(prefix.size(), path.size() - prefix.size() - 5);
  size_t a = rest.find('/');
  size_t b = rest.rfind('/');
  if (a == std::string::npos || b == a) return {};
  return {rest.substr(0, a), rest.substr(b + 1)};
}

Result<std::string> HashOf(storage::BlobDriver* d, const std::string& path, DigestAlgorithm alg) {
  auto reader = d->Reader(path, 0);
  if (!reader.ok()) return reader.status();
  Hasher h(alg);
  std::vector<char> buf(kChunk);
  while (true) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    h.Update(buf.data(), *n);
  }
  return h.Finish().hex();
}

class Copier {
 public:
  Copier(storage::BlobDriver* from, storage::BlobDriver* to, const CopyOptions& o)
      : from_(from), to_(to), o_(o) {}

  Status CopyFile(const storage::FileInfo& fi) {
    auto [alg_name, hex] = BlobOf(fi.path);
    bool is_blob = !hex.empty() && (alg_name == "sha256" || alg_name == "sha512");
    DigestAlgorithm alg =
        alg_name == "sha512" ? DigestAlgorithm::kSha512 : DigestAlgorithm::kSha256;
    auto existing = to_->Stat(fi.path);
    if (!existing.ok() && !existing.status().is(Code::kNotFound)) {
      return Status(existing.status().code(),
                    "destination: stat " + fi.path + ": " + existing.status().message());
    }
    if (existing.ok() && !existing->is_dir && existing->size == fi.size) {
      auto same = AlreadyThere(fi, is_blob, alg, hex);
      if (!same.ok()) return same.status();
      if (*same) {
        ++report_.files_skipped;
        return Status::Ok();
      }
    }
    auto reader = from_->Reader(fi.path, 0);
    if (!reader.ok()) {
      return Status(reader.status().code(),
                    "source: read " + fi.path + ": " + reader.status().message());
    }
    auto writer = to_->Writer(fi.path, false);
    if (!writer.ok()) {
      return Status(writer.status().code(),
                    "destination: write " + fi.path + ": " + writer.status().message());
    }
    Hasher h(alg);
    std::vector<char> buf(kChunk);
    uint64_t total = 0;
    auto fail = [&](Status s) {
      (void)(*writer)->Cancel();
      return s;
    };
    while (true) {
      auto n = (*reader)->Read(buf.data(), buf.size());
      if (!n.ok())
        return fail(
            Status(n.status().code(), "source: read " + fi.path + ": " + n.status().message()));
      if (*n == 0) break;
      if (is_blob) h.Update(buf.data(), *n);
      if (Status s = (*writer)->Write(buf.data(), *n); !s.ok()) {
        return fail(Status(s.code(), "destination: write " + fi.path + ": " + s.message()));
      }
      total += *n;
    }
    if (is_blob) {
      std::string got = h.Finish().hex();
      if (got != hex) {
        return fail(Status(Code::kCorruption, "source blob " + fi.path + " does not match its " +
                                                  "digest (its bytes hash to " + got +
                                                  "); nothing was written for it"));
      }
      ++report_.blobs_verified;
    }
    if (Status s = (*writer)->Commit(); !s.ok()) {
      return fail(Status(s.code(), "destination: commit " + fi.path + ": " + s.message()));
    }
    ++report_.files_copied;
    report_.bytes_copied += total;
    if (o_.log && (report_.files_copied % 1000 == 0 || total >= (64u << 20))) {
      o_.log("copied " + std::to_string(report_.files_copied) + " files, " +
             std::to_string(report_.bytes_copied) + " bytes (last: " + fi.path + ")");
    }
    return Status::Ok();
  }

  Result<bool> AlreadyThere(const storage::FileInfo& fi, bool is_blob, DigestAlgorithm alg,
                            const std::string& hex) {
    if (is_blob) {
      if (!o_.verify_existing) return true;
      auto got = HashOf(to_, fi.path, alg);
      if (!got.ok()) return got.status();
      if (*got == hex) ++report_.blobs_verified;
      return *got == hex;  // a damaged copy is copied again
    }
    if (fi.size > kCompareBytes) return true;
    auto a = from_->GetContent(fi.path);
    if (!a.ok()) return a.status();
    auto b = to_->GetContent(fi.path);
    if (!b.ok()) return b.status();
    return *a == *b;
  }

  Status CopyTree(const std::string& root, std::vector<storage::FileInfo>* deferred) {
    Status s = from_->Walk(root, [&](const storage::FileInfo& fi) -> Status {
      if (fi.is_dir) return Status::Ok();
      if (fi.path.find("/_uploads/") != std::string::npos) return Status::Ok();
      if (deferred != nullptr && fi.path.find("/_manifests/tags/") != std::string::npos) {
        deferred->push_back(fi);
        return Status::Ok();
      }
      return CopyFile(fi);
    });
    if (s.is(Code::kNotFound)) return Status::Ok();  // nothing of that kind in the source
    return s;
  }

  CopyReport report_;

 private:
  storage::BlobDriver* from_;
  storage::BlobDriver* to_;
  const CopyOptions& o_;
};

}  // namespace

Result<CopyReport> CopyStorage(storage::BlobDriver* from, storage::BlobDriver* to,
                               const CopyOptions& options) {
  Copier c(from, to, options);
  if (options.log) options.log("copying blobs");
  if (Status s = c.CopyTree(kRoot + "/blobs", nullptr); !s.ok()) return s;
  if (options.log) options.log("copying repositories (layers and manifest revisions)");
  std::vector<storage::FileInfo> tags;
  if (Status s = c.CopyTree(kRoot + "/repositories", &tags); !s.ok()) return s;
  if (options.log) options.log("copying " + std::to_string(tags.size()) + " tag files");
  for (const auto& fi : tags) {
    if (Status s = c.CopyFile(fi); !s.ok()) return s;
  }
  return c.report_;
}

}  // namespace dtr::app
