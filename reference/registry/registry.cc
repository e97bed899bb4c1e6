#include "registry/registry.h"

#include <algorithm>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "core/names.h"
#include "storage/layout.h"

namespace dtr::registry {

namespace layout = storage::layout;
using storage::FileInfo;

struct Registry::Upload {
  std::string repo;
  std::string uuid;
  std::mutex mu;
  std::unique_ptr<Hasher> sha256;  // over bytes [0, offset)
  uint64_t offset = 0;
  bool hash_valid = false;
  std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();
};

namespace {

std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

bool ValidUuid(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'F');
  });
}

Status Tagged(Code code, std::string message, const char* tag) {
  return Status(code, std::move(message), tag);
}

// Media type of stored manifest bytes, also for schema 1 content another registry wrote.
std::string DetectMediaType(const std::string& content) {
  auto j = nlohmann::json::parse(content, nullptr, false);
  if (!j.is_object()) return "application/octet-stream";
  if (auto mt = j.find("mediaType"); mt != j.end() && mt->is_string())
    return mt->get<std::string>();
  if (auto sv = j.find("schemaVersion");
      sv != j.end() && sv->is_number_integer() && sv->get<int>() == 1) {
    return j.contains("signatures") ? std::string(media::kDockerSchema1Signed)
                                    : std::string(media::kDockerSchema1);
  }
  return std::string(j.contains("manifests") ? media::kOciIndex : media::kOciManifest);
}

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

Registry::Registry(storage::BlobDriver* driver, meta::MetaStore* meta, RegistryOptions options)
    : driver_(driver), meta_(meta), options_(options), repo_locks_(64) {}

Registry::~Registry() = default;

std::mutex& Registry::RepoLock(const std::string& repo) {
  return repo_locks_[std::hash<std::string>{}(repo) % repo_locks_.size()];
}

bool Registry::RepositoryExists(const std::string& repo) {
  auto st = driver_->Stat(layout::Repo(repo));
  return st.ok() && st->is_dir;
}

Result<Digest> Registry::ReadLink(const std::string& path) {
  auto content = driver_->GetContent(path);
  if (!content.ok()) return content.status();
  std::string text = *content;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto d = Digest::Parse(text);
  if (!d.ok())
    return Status(Code::kCorruption, "link " + path + " is corrupt: " + d.status().message());
  return d;
}

// ---- blobs ----

Result<BlobInfo> Registry::StatBlob(const std::string& repo, const Digest& digest) {
  auto link = ReadLink(layout::LayerLink(repo, digest));
  if (!link.ok()) {
    if (!link.status().is(Code::kNotFound)) return link.status();
    // Manifests are blobs too; serve them through the blob endpoint as distribution does.
    link = ReadLink(layout::RevisionLink(repo, digest));
    if (!link.ok()) {
      if (link.status().is(Code::kNotFound)) {
        return Tagged(Code::kNotFound, "blob " + digest.str() + " is not in repository " + repo,
                      oci::kBlobUnknown);
      }
      return link.status();
    }
  }
  auto st = driver_->Stat(layout::BlobData(digest));
  if (!st.ok()) {
    if (st.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "blob " + digest.str() + " is linked but its data is gone",
                    oci::kBlobUnknown);
    }
    return st.status();
  }
  return BlobInfo{digest, st->size};
}

Result<std::unique_ptr<storage::FileReader>> Registry::OpenBlob(const Digest& digest,
                                                                uint64_t offset) {
  return driver_->Reader(layout::BlobData(digest), offset);
}

Status Registry::DeleteBlob(const std::string& repo, const Digest& digest) {
  auto link = ReadLink(layout::LayerLink(repo, digest));
  if (!link.ok()) {
    if (link.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "blob " + digest.str() + " is not in repository " + repo,
                    oci::kBlobUnknown);
    }
    return link.status();
  }
  // Only the repository's link goes; the data stays for other repositories until GC.
  Status s = driver_->Delete(layout::LayerDir(repo, digest));
  return s.is(Code::kNotFound) ? Status::Ok() : s;
}

Result<bool> Registry::MountBlob(const std::string& repo, const std::string& from,
                                 const Digest& digest) {
  if (!ValidateRepositoryName(from).ok()) return false;
  auto link = ReadLink(layout::LayerLink(from, digest));
  if (!link.ok()) {
    if (link.status().is(Code::kNotFound)) return false;
    return link.status();
  }
  GcGuard::Pins pins(&gc_guard_);
  if (!gc_guard_.Use(digest.str(), &pins)) return false;  // being garbage-collected
  auto st = driver_->Stat(layout::BlobData(digest));
  if (!st.ok()) return false;
  if (Status s = driver_->PutContent(layout::LayerLink(repo, digest), digest.str()); !s.ok()) {
    return s;
  }
  if (Status s = meta_->EnsureRepository(repo); !s.ok()) return s;
  return true;
}

// ---- uploads ----

Result<UploadStatus> Registry::StartUpload(const std::string& repo) {
  auto u = std::make_shared<Upload>();
  u->repo = repo;
  u->uuid = NewUuid();
  u->sha256 = std::make_unique<Hasher>(DigestAlgorithm::kSha256);
  u->hash_valid = true;
  char ts[64];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  if (Status s = driver_->PutContent(layout::UploadStartedAt(repo, u->uuid), ts); !s.ok()) {
    return s;
  }
  auto w = driver_->Writer(layout::UploadData(repo, u->uuid), false);
  if (!w.ok()) return w.status();
  if (Status s = (*w)->Close(); !s.ok()) return s;
  {
    std::lock_guard lock(uploads_mu_);
    uploads_[u->uuid] = u;
  }
  return UploadStatus{u->uuid, 0};
}

Result<std::shared_ptr<Registry::Upload>> Registry::FindUpload(const std::string& repo,
                                                               const std::string& uuid) {
  auto unknown = [&] {
    return Tagged(Code::kNotFound, "upload " + uuid + " is unknown to repository " + repo,
                  oci::kBlobUploadUnknown);
  };
  if (!ValidUuid(uuid)) return unknown();
  {
    std::lock_guard lock(uploads_mu_);
    auto it = uploads_.find(uuid);
    if (it != uploads_.end()) {
      if (it->second->repo != repo) return unknown();
      return it->second;
    }
  }
  // Not in memory: a restart happened, or another replica started it. Resume from storage.
  auto st = driver_->Stat(layout::UploadData(repo, uuid));
  if (!st.ok()) {
    if (st.status().is(Code::kNotFound)) return unknown();
    return st.status();
  }
  auto u = std::make_shared<Upload>();
  u->repo = repo;
  u->uuid = uuid;
  std::lock_guard lock(uploads_mu_);
  auto [it, inserted] = uploads_.emplace(uuid, u);
  return it->second;
}

// Makes the session's offset and hash agree with the bytes in storage (the truth).
Status Registry::Reconcile(Upload& u) {
  auto st = driver_->Stat(layout::UploadData(u.repo, u.uuid));
  if (!st.ok()) {
    if (st.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "upload " + u.uuid + " is unknown", oci::kBlobUploadUnknown);
    }
    return st.status();
  }
  if (u.hash_valid && st->size == u.offset) return Status::Ok();
  auto r = driver_->Reader(layout::UploadData(u.repo, u.uuid), 0);
  if (!r.ok()) return r.status();
  u.sha256 = std::make_unique<Hasher>(DigestAlgorithm::kSha256);
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (true) {
    auto n = (*r)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    u.sha256->Update(buf.data(), *n);
    total += *n;
  }
  u.offset = total;
  u.hash_valid = true;
  return Status::Ok();
}

Result<UploadStatus> Registry::GetUpload(const std::string& repo, const std::string& uuid) {
  auto u = FindUpload(repo, uuid);
  if (!u.ok()) return u.status();
  std::lock_guard lock((*u)->mu);
  auto st = driver_->Stat(layout::UploadData(repo, uuid));
  if (!st.ok()) {
    if (st.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "upload " + uuid + " is unknown", oci::kBlobUploadUnknown);
    }
    return st.status();
  }
  return UploadStatus{uuid, st->size};
}

Result<UploadStatus> Registry::AppendUpload(const std::string& repo, const std::string& uuid,
                                            std::optional<uint64_t> expected_offset,
                                            std::optional<uint64_t> expected_length,
                                            const ReadFn& body) {
  auto found = FindUpload(repo, uuid);
  if (!found.ok()) return found.status();
  Upload& u = **found;
  std::lock_guard lock(u.mu);
  if (Status s = Reconcile(u); !s.ok()) return s;
  if (expected_offset && *expected_offset != u.offset) {
    return Tagged(Code::kOutOfRange,
                  "chunk starts at byte " + std::to_string(*expected_offset) +
                      " but the upload has " + std::to_string(u.offset) +
                      " bytes; send the next chunk from there",
                  oci::kRangeInvalid);
  }
  auto w = driver_->Writer(layout::UploadData(repo, uuid), true);
  if (!w.ok()) return w.status();
  CopiedBody copied = CopyUploadBody(body, **w, *u.sha256);
  u.offset += copied.bytes;
  uint64_t received = copied.bytes;
  Status failure;
  if (!copied.write_error.ok()) {
    failure = copied.write_error;
    u.hash_valid = false;  // the file may hold part of a buffer the hash has seen
  } else if (copied.body_error) {
    failure = Tagged(Code::kInvalidArgument, "upload body incomplete: " + *copied.body_error,
                     oci::kBlobUploadInvalid);
  }
  Status closed = (*w)->Close();
  u.last_active = std::chrono::steady_clock::now();
  if (!failure.ok()) return failure;
  if (!closed.ok()) {
    u.hash_valid = false;
    return closed;
  }
  if (expected_length && *expected_length != received) {
    return Tagged(Code::kInvalidArgument,
                  "Content-Range announced " + std::to_string(*expected_length) +
                      " bytes but the body had " + std::to_string(received),
                  oci::kRangeInvalid);
  }
  return UploadStatus{uuid, u.offset};
}

Result<BlobInfo> Registry::CompleteUpload(const std::string& repo, const std::string& uuid,
                                          const Digest& digest) {
  auto found = FindUpload(repo, uuid);
  if (!found.ok()) return found.status();
  Upload& u = **found;
  std::unique_lock lock(u.mu);
  if (Status s = Reconcile(u); !s.ok()) return s;
  std::string data = layout::UploadData(repo, uuid);
  Digest actual;
  if (digest.algorithm() == DigestAlgorithm::kSha256) {
    // Finish consumes the hasher; the session ends here either way.
    actual = u.sha256->Finish();
    u.hash_valid = false;
  } else {
    auto r = driver_->Reader(data, 0);
    if (!r.ok()) return r.status();
    Hasher h(digest.algorithm());
    std::vector<char> buf(1 << 20);
    while (true) {
      auto n = (*r)->Read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      h.Update(buf.data(), *n);
    }
    actual = h.Finish();
  }
  uint64_t size = u.offset;
  auto forget = [&] {
    std::lock_guard l(uploads_mu_);
    uploads_.erase(uuid);
  };
  if (!(actual == digest)) {
    lock.unlock();
    CancelUpload(repo, uuid);
    return Tagged(Code::kInvalidArgument,
                  "content digest " + actual.str() + " does not match the digest " + digest.str() +
                      " given by the client; the upload was discarded",
                  oci::kDigestInvalid);
  }
  std::string blob = layout::BlobData(digest);
  GcGuard::Pins pins(&gc_guard_);
  gc_guard_.UseAfterDelete(digest.str(), &pins);
  auto existing = driver_->Stat(blob);
  if (existing.ok() && existing->size == size) {
    // Already stored (another push won the race): drop this copy.
  } else {
    auto w = driver_->Writer(data, true);
    if (!w.ok()) return w.status();
    if (Status s = (*w)->Commit(); !s.ok()) return s;  // durable before it becomes visible
    if (Status s = driver_->Move(data, blob); !s.ok()) return s;
  }
  if (Status s = driver_->PutContent(layout::LayerLink(repo, digest), digest.str()); !s.ok()) {
    return s;
  }
  driver_->Delete(layout::UploadDir(repo, uuid));
  forget();
  if (Status s = meta_->EnsureRepository(repo); !s.ok()) return s;
  return BlobInfo{digest, size};
}

Status Registry::CancelUpload(const std::string& repo, const std::string& uuid) {
  auto found = FindUpload(repo, uuid);
  if (!found.ok()) return found.status();
  {
    std::lock_guard lock((*found)->mu);
    Status s = driver_->Delete(layout::UploadDir(repo, uuid));
    if (!s.ok() && !s.is(Code::kNotFound)) return s;
  }
  std::lock_guard l(uploads_mu_);
  uploads_.erase(uuid);
  return Status::Ok();
}

size_t Registry::PurgeExpiredUploads() {
  size_t purged = 0;
  auto cutoff = std::chrono::system_clock::now() - options_.upload_expiry;
  std::vector<std::string> stale;
  driver_->Walk(layout::kRepositories, [&](const FileInfo& fi) -> Status {
    // .../_uploads/<uuid>/data
    auto pos = fi.path.rfind("/_uploads/");
    if (pos == std::string::npos || fi.is_dir) return Status::Ok();
    if (fi.path.size() < 5 || fi.path.compare(fi.path.size() - 5, 5, "/data") != 0) {
      return Status::Ok();
    }
    if (fi.mod_time < cutoff) stale.push_back(fi.path.substr(0, fi.path.size() - 5));
    return Status::Ok();
  });
  for (const auto& dir : stale) {
    if (driver_->Delete(dir).ok()) ++purged;
    std::string uuid = dir.substr(dir.rfind('/') + 1);
    std::lock_guard l(uploads_mu_);
    uploads_.erase(uuid);
  }
  return purged;
}

// ---- manifests ----

Result<StoredManifest> Registry::LoadManifest(const Digest& digest) {
  std::string key = digest.str();
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      cache_lru_.splice(cache_lru_.begin(), cache_lru_, it->second.second);
      return it->second.first;
    }
  }
  auto content = driver_->GetContent(layout::BlobData(digest));
  if (!content.ok()) {
    if (content.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "manifest " + key + " is linked but its content is gone",
                    oci::kManifestUnknown);
    }
    return content.status();
  }
  StoredManifest m;
  m.digest = digest;
  m.media_type = DetectMediaType(*content);
  m.content = std::make_shared<const std::string>(std::move(content.value()));
  std::lock_guard lock(cache_mu_);
  if (cache_.find(key) == cache_.end()) {
    cache_lru_.push_front(key);
    cache_.emplace(key, std::make_pair(m, cache_lru_.begin()));
    cache_bytes_ += m.content->size();
    while (cache_bytes_ > options_.manifest_cache_bytes && !cache_lru_.empty()) {
      auto victim = cache_.find(cache_lru_.back());
      cache_bytes_ -= victim->second.first.content->size();
      cache_.erase(victim);
      cache_lru_.pop_back();
    }
  }
  return m;
}

Result<StoredManifest> Registry::GetManifest(const std::string& repo,
                                             const std::string& reference) {
  Digest digest;
  if (LooksLikeDigest(reference)) {
    auto d = Digest::Parse(reference);
    if (!d.ok()) {
      return Tagged(Code::kInvalidArgument, "invalid digest: " + d.status().message(),
                    oci::kDigestInvalid);
    }
    digest = d.value();
    auto link = ReadLink(layout::RevisionLink(repo, digest));
    if (!link.ok()) {
      if (!link.status().is(Code::kNotFound)) return link.status();
      if (!RepositoryExists(repo)) {
        return Tagged(Code::kNotFound, "repository " + repo + " is not known", oci::kNameUnknown);
      }
      return Tagged(Code::kNotFound, "manifest " + reference + " is not in repository " + repo,
                    oci::kManifestUnknown);
    }
  } else {
    if (Status s = ValidateTag(reference); !s.ok()) {
      return Tagged(Code::kInvalidArgument, "invalid tag: " + s.message(), oci::kManifestInvalid);
    }
    auto link = ReadLink(layout::TagCurrentLink(repo, reference));
    if (!link.ok()) {
      if (!link.status().is(Code::kNotFound)) return link.status();
      if (!RepositoryExists(repo)) {
        return Tagged(Code::kNotFound, "repository " + repo + " is not known", oci::kNameUnknown);
      }
      return Tagged(Code::kNotFound, "tag " + reference + " is not in repository " + repo,
                    oci::kManifestUnknown);
    }
    digest = link.value();
  }
  return LoadManifest(digest);
}

Status Registry::IndexManifest(const std::string& repo, const Digest& digest, const Manifest& m,
                               size_t size, int64_t created) {
  meta::ManifestRecord rec;
  rec.repo = repo;
  rec.digest = digest.str();
  rec.media_type = m.media_type;
  rec.artifact_type = m.artifact_type;
  rec.subject = m.subject ? m.subject->digest.str() : "";
  rec.size = static_cast<int64_t>(size);
  rec.annotations_json = m.annotations_json;
  rec.created_at = created;
  return meta_->PutManifest(rec);
}

Result<PutManifestResult> Registry::PutManifest(const std::string& repo,
                                                const std::string& reference,
                                                const std::string& content_type,
                                                const std::string& body) {
  auto parsed = ParseManifest(content_type, body);
  if (!parsed.ok()) {
    const Status& s = parsed.status();
    return Tagged(s.code(), s.message(), oci::kManifestInvalid);
  }
  const Manifest& m = parsed.value();
  std::optional<std::string> tag;
  Digest digest;
  if (LooksLikeDigest(reference)) {
    auto want = Digest::Parse(reference);
    if (!want.ok()) {
      return Tagged(Code::kInvalidArgument, "invalid digest: " + want.status().message(),
                    oci::kDigestInvalid);
    }
    digest = ComputeDigest(body, want->algorithm());
    if (!(digest == want.value())) {
      return Tagged(Code::kInvalidArgument,
                    "manifest content has digest " + digest.str() + ", not " + reference,
                    oci::kDigestInvalid);
    }
  } else {
    if (Status s = ValidateTag(reference); !s.ok()) {
      return Tagged(Code::kInvalidArgument, "invalid tag: " + s.message(), oci::kManifestInvalid);
    }
    tag = reference;
    digest = ComputeDigest(body);
  }

  // Everything this manifest relies on stays pinned until it is written.
  GcGuard::Pins pins(&gc_guard_);
  for (const Digest& blob : m.RequiredBlobs()) {
    auto st = gc_guard_.Use(blob.str(), &pins)
                  ? StatBlob(repo, blob)
                  : Result<BlobInfo>(Status(Code::kNotFound, "being garbage-collected"));
    if (!st.ok()) {
      if (st.status().is(Code::kNotFound)) {
        return Tagged(Code::kFailedPrecondition,
                      "manifest references blob " + blob.str() + " which is not in repository " +
                          repo + "; push it first",
                      oci::kManifestBlobUnknown);
      }
      return st.status();
    }
  }
  for (const Descriptor& child : m.manifests) {
    auto link = gc_guard_.Use(child.digest.str(), &pins)
                    ? ReadLink(layout::RevisionLink(repo, child.digest))
                    : Result<Digest>(Status(Code::kNotFound, "being garbage-collected"));
    if (!link.ok()) {
      if (link.status().is(Code::kNotFound)) {
        return Tagged(Code::kFailedPrecondition,
                      "index references manifest " + child.digest.str() +
                          " which is not in repository " + repo + "; push it first",
                      oci::kManifestBlobUnknown);
      }
      return link.status();
    }
  }

  std::lock_guard lock(RepoLock(repo));
  std::string blob = layout::BlobData(digest);
  gc_guard_.UseAfterDelete(digest.str(), &pins);
  if (!driver_->Stat(blob).ok()) {
    if (Status s = driver_->PutContent(blob, body); !s.ok()) return s;
  }
  if (Status s = driver_->PutContent(layout::RevisionLink(repo, digest), digest.str()); !s.ok()) {
    return s;
  }
  if (tag) {
    if (Status s = driver_->PutContent(layout::TagIndexLink(repo, *tag, digest), digest.str());
        !s.ok()) {
      return s;
    }
    if (Status s = driver_->PutContent(layout::TagCurrentLink(repo, *tag), digest.str()); !s.ok()) {
      return s;
    }
  }
  if (Status s = IndexManifest(repo, digest, m, body.size(), UnixNow()); !s.ok()) return s;
  if (tag) {
    if (Status s = meta_->PutTag({repo, *tag, digest.str(), UnixNow()}); !s.ok()) return s;
  }
  PutManifestResult out;
  out.digest = digest;
  if (m.subject) out.subject = m.subject->digest;
  return out;
}

Status Registry::DeleteManifest(const std::string& repo, const std::string& reference) {
  std::lock_guard lock(RepoLock(repo));
  if (!LooksLikeDigest(reference)) {
    if (Status s = ValidateTag(reference); !s.ok()) {
      return Tagged(Code::kInvalidArgument, "invalid tag: " + s.message(), oci::kManifestInvalid);
    }
    auto link = ReadLink(layout::TagCurrentLink(repo, reference));
    if (!link.ok()) {
      if (link.status().is(Code::kNotFound)) {
        return Tagged(Code::kNotFound, "tag " + reference + " is not in repository " + repo,
                      oci::kManifestUnknown);
      }
      return link.status();
    }
    if (Status s = driver_->Delete(layout::TagDir(repo, reference));
        !s.ok() && !s.is(Code::kNotFound)) {
      return s;
    }
    return meta_->DeleteTag(repo, reference);
  }
  auto d = Digest::Parse(reference);
  if (!d.ok()) {
    return Tagged(Code::kInvalidArgument, "invalid digest: " + d.status().message(),
                  oci::kDigestInvalid);
  }
  auto link = ReadLink(layout::RevisionLink(repo, *d));
  if (!link.ok()) {
    if (link.status().is(Code::kNotFound)) {
      return Tagged(Code::kNotFound, "manifest " + reference + " is not in repository " + repo,
                    oci::kManifestUnknown);
    }
    return link.status();
  }
  // Tags pointing at it go first, so no tag ever names a missing manifest.
  auto tags = driver_->List(layout::TagsDir(repo));
  if (tags.ok()) {
    for (const auto& tag_dir : *tags) {
      auto current = ReadLink(tag_dir + "/current/link");
      if (current.ok() && current.value() == *d) {
        if (Status s = driver_->Delete(tag_dir); !s.ok() && !s.is(Code::kNotFound)) return s;
      }
    }
  }
  if (Status s = driver_->Delete(layout::RevisionDir(repo, *d));
      !s.ok() && !s.is(Code::kNotFound)) {
    return s;
  }
  auto removed = meta_->DeleteManifest(repo, d->str());
  return removed.ok() ? Status::Ok() : removed.status();
}

Result<std::vector<std::string>> Registry::ListTags(const std::string& repo,
                                                    const std::string& last, size_t limit) {
  auto exists = meta_->RepositoryExists(repo);
  if (!exists.ok()) return exists.status();
  if (!*exists && !RepositoryExists(repo)) {
    return Tagged(Code::kNotFound, "repository " + repo + " is not known", oci::kNameUnknown);
  }
  return meta_->ListTags(repo, last, limit);
}

Result<std::vector<std::string>> Registry::Catalog(const std::string& last, size_t limit) {
  return meta_->ListRepositories(last, limit);
}

Result<std::vector<meta::ManifestRecord>> Registry::Referrers(const std::string& repo,
                                                              const Digest& subject) {
  return meta_->Referrers(repo, subject.str());
}

// ---- reindex ----

std::vector<std::string> Registry::StorageRepositories() {
  std::vector<std::string> found;
  std::function<void(const std::string&, const std::string&)> scan = [&](const std::string& dir,
                                                                         const std::string& name) {
    auto children = driver_->List(dir);
    if (!children.ok()) return;
    bool is_repo = false;
    for (const auto& c : *children) {
      std::string base = c.substr(c.rfind('/') + 1);
      if (base == "_manifests" || base == "_layers") is_repo = true;
    }
    if (is_repo && ValidateRepositoryName(name).ok()) found.push_back(name);
    for (const auto& c : *children) {
      std::string base = c.substr(c.rfind('/') + 1);
      if (base.empty() || base[0] == '_') continue;
      auto st = driver_->Stat(c);
      if (st.ok() && st->is_dir) scan(c, name.empty() ? base : name + "/" + base);
    }
  };
  scan(layout::kRepositories, "");
  return found;
}

std::vector<std::pair<Digest, std::chrono::system_clock::time_point>> Registry::StorageManifests(
    const std::string& repo) {
  std::vector<std::pair<Digest, std::chrono::system_clock::time_point>> out;
  for (const char* alg : {"sha256", "sha512"}) {
    auto revs = driver_->List(layout::RevisionsDir(repo) + "/" + alg);
    if (!revs.ok()) continue;
    for (const auto& rev : *revs) {
      auto d = Digest::Parse(std::string(alg) + ":" + rev.substr(rev.rfind('/') + 1));
      auto st = driver_->Stat(rev + "/link");
      if (d.ok() && st.ok()) out.emplace_back(*d, st->mod_time);
    }
  }
  return out;
}

std::vector<std::pair<std::string, Digest>> Registry::StorageTags(const std::string& repo) {
  std::vector<std::pair<std::string, Digest>> out;
  auto tag_dirs = driver_->List(layout::TagsDir(repo));
  if (!tag_dirs.ok()) return out;
  for (const auto& td : *tag_dirs) {
    auto current = ReadLink(td + "/current/link");
    if (current.ok()) out.emplace_back(td.substr(td.rfind('/') + 1), *current);
  }
  return out;
}

Status Registry::Reindex(size_t* repos, size_t* manifests, size_t* tags) {
  *repos = *manifests = *tags = 0;
  if (Status s = meta_->ClearRegistryIndex(); !s.ok()) return s;
  std::vector<std::string> found = StorageRepositories();
  for (const auto& repo : found) {
    if (Status s = meta_->EnsureRepository(repo); !s.ok()) return s;
    ++*repos;
    for (const char* alg : {"sha256", "sha512"}) {
      auto revs = driver_->List(layout::RevisionsDir(repo) + "/" + alg);
      if (!revs.ok()) continue;
      for (const auto& rev : *revs) {
        auto d = Digest::Parse(std::string(alg) + ":" + rev.substr(rev.rfind('/') + 1));
        if (!d.ok()) continue;
        auto st = driver_->Stat(rev + "/link");
        auto loaded = LoadManifest(*d);
        if (!loaded.ok() || !st.ok()) continue;
        auto m = ParseManifest(loaded->media_type, *loaded->content);
        if (!m.ok()) continue;  // schema 1 and other content we cannot index
        int64_t created =
            std::chrono::duration_cast<std::chrono::seconds>(st->mod_time.time_since_epoch())
                .count();
        if (Status s = IndexManifest(repo, *d, *m, loaded->content->size(), created); !s.ok()) {
          return s;
        }
        ++*manifests;
      }
    }
    auto tag_dirs = driver_->List(layout::TagsDir(repo));
    if (!tag_dirs.ok()) continue;
    for (const auto& td : *tag_dirs) {
      std::string tag = td.substr(td.rfind('/') + 1);
      auto current = ReadLink(td + "/current/link");
      if (!current.ok() || !ValidateTag(tag).ok()) continue;
      auto st = driver_->Stat(td + "/current/link");
      int64_t updated =
          st.ok()
              ? std::chrono::duration_cast<std::chrono::seconds>(st->mod_time.time_since_epoch())
                    .count()
              : UnixNow();
      if (Status s = meta_->PutTag({repo, tag, current->str(), updated}); !s.ok()) return s;
      ++*tags;
    }
  }
  return Status::Ok();
}

}  // namespace dtr::registry
