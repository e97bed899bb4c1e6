#include "storage/azure_driver.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "storage/shared_key.h"

namespace dtr::storage {

namespace {

using objstore::DirPrefix;

// Stages whole chunks as blocks (uploadconcurrency in flight) and commits the block list,
// the blob's committed blocks first, on Close and Commit.
class AzureWriter : public FileWriter {
 public:
  AzureWriter(AzureDriver* d, std::string key, std::vector<std::string> committed,
              uint64_t committed_size)
      : d_(d),
        key_(std::move(key)),
        id_(objstore::RandomId()),
        ids_(std::move(committed)),
        size_(committed_size),
        uploads_(d->upload_concurrency()) {}

  ~AzureWriter() override { Drain(); }

  Status Write(const char* data, size_t n) override {
    if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
    if (!failed_.ok()) return failed_;
    buffer_.append(data, n);
    size_ += n;
    dirty_ = dirty_ || n > 0;
    uint64_t chunk = d_->chunk_size();
    size_t used = 0;
    while (buffer_.size() - used >= chunk) {
      if (Status s = Stage(buffer_.substr(used, chunk)); !s.ok()) {
        failed_ = s;
        return s;
      }
      used += chunk;
    }
    if (used > 0) buffer_.erase(0, used);
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }

  // Stages what is buffered and commits every block: the content is then the blob's.
  Status Flush() {
    if (!buffer_.empty()) {
      if (Status s = Stage(std::move(buffer_)); !s.ok()) failed_ = s;
      buffer_.clear();
    }
    if (Status s = Drain(); !s.ok()) return s;
    if (!failed_.ok()) return failed_;
    if (!dirty_) return Status::Ok();
    if (ids_.size() > kAzureMaxBlocks) {
      return Status(Code::kTooLarge, d_->client().Describe() + ": " + key_ + " would have " +
                                         std::to_string(ids_.size()) +
                                         " blocks, more than Azure's 50000; raise chunksize");
    }
    if (Status s = d_->PutBlockList(key_, ids_); !s.ok()) return s;
    dirty_ = false;
    return Status::Ok();
  }

  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    return Flush();
  }

  Status Commit() override {
    if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
    return Close();
  }

  Status Cancel() override {
    closed_ = true;
    Drain();
    return d_->DeleteBlob(key_);
  }

 private:
  Status Stage(std::string block) {
    std::string id = AzureDriver::BlockId(id_, next_block_);
    Status s = uploads_.Start(
        [d = d_, key = key_, id, b = std::move(block)] { return d->PutBlock(key, id, b); });
    if (!s.ok()) return s;
    next_block_++;
    ids_.push_back(id);
    return Status::Ok();
  }

  Status Drain() {
    Status first = uploads_.Drain();
    if (!first.ok() && failed_.ok()) failed_ = first;
    return first;
  }

  AzureDriver* d_;
  std::string key_;
  std::string id_;                // this writer's part of its block ids
  std::vector<std::string> ids_;  // the blob's blocks: committed, then staged by this writer
  uint64_t next_block_ = 0;
  uint64_t size_;
  std::string buffer_;
  bool dirty_ = false;
  bool closed_ = false;
  Status failed_;
  objstore::UploadQueue uploads_;
};

}  // namespace

AzureDriver::AzureDriver(AzureConfig config) : client_(std::move(config)) {}

std::string AzureDriver::BlockId(const std::string& writer, uint64_t n) {
  return sharedkey::Base64Encode("dtr-" + writer + "-" + objstore::Padded(n));
}

std::string AzureDriver::Key(const std::string& path) const {
  return objstore::KeyFor(client_.config().root, path);
}

Result<std::string> AzureDriver::CheckedKey(const std::string& path) const {
  auto key = objstore::CheckedKey(client_.config().root, path, false);
  if (key.ok() && key->size() > 1024) {
    return InvalidArgument("storage path too long for Azure: " + path);
  }
  return key;
}

Result<std::optional<FileInfo>> AzureDriver::HeadBlob(const std::string& key) {
  AzureCall c{"Get Blob Properties", "HEAD", key};
  c.accept = {404};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<FileInfo>();
  FileInfo fi;
  if (!HeaderNumber(*r, "Content-Length", &fi.size)) {
    return Status(Code::kCorruption, client_.Describe() + ": " + key + " has no size");
  }
  ParseHttpDate(r->Header("Last-Modified"), &fi.mod_time);
  return std::optional<FileInfo>(fi);
}

Result<std::string> AzureDriver::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  if (length == 0) return std::string();
  AzureCall c{"Get Blob", "GET", key};
  c.headers = {{"x-ms-range",
                "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  c.max_body = length;
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (Status s = objstore::CheckRangeLength(client_.Describe() + ": Get Blob " + key, offset,
                                            length, r->body.size());
      !s.ok()) {
    return s;
  }
  return std::move(r->body);
}

Status AzureDriver::PutBlob(const std::string& key, std::string_view body) {
  AzureCall c{"Put Blob", "PUT", key};
  c.headers = {{"x-ms-blob-type", "BlockBlob"}};
  c.body = body;
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status AzureDriver::PutBlock(const std::string& key, const std::string& id, std::string_view body) {
  AzureCall c{"Put Block", "PUT", key};
  c.query = {{"comp", "block"}, {"blockid", id}};
  c.body = body;
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status AzureDriver::PutBlockList(const std::string& key, const std::vector<std::string>& ids) {
  std::string body = azurexml::BlockListBody(ids);
  AzureCall c{"Put Block List", "PUT", key};
  c.query = {{"comp", "blocklist"}};
  c.headers = {{"Content-Type", "application/xml"}};
  c.body = body;
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Result<azurexml::BlockList> AzureDriver::GetBlockList(const std::string& key) {
  AzureCall c{"Get Block List", "GET", key};
  c.query = {{"comp", "blocklist"}, {"blocklisttype", "committed"}};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  auto l = azurexml::ParseBlockList(r->body);
  if (!l.ok()) {
    return Status(l.status().code(),
                  client_.Describe() + ": Get Block List " + key + ": " + l.status().message());
  }
  return l;
}

Status AzureDriver::DeleteBlob(const std::string& key) {
  AzureCall c{"Delete Blob", "DELETE", key};
  c.accept = {404};
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status AzureDriver::ListPages(const std::string& prefix, bool delimited, int limit,
                              const std::function<bool(const azurexml::BlobList&)>& page) {
  std::string marker;
  limit = std::min(limit, client_.config().list_limit);
  for (int i = 0; i < 1000000; ++i) {
    AzureCall c{"List Blobs", "GET", ""};
    c.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", std::to_string(limit)}};
    if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
    if (delimited) c.query.emplace_back("delimiter", "/");
    if (!marker.empty()) c.query.emplace_back("marker", marker);
    c.max_body = 64u << 20;
    auto r = client_.Do(c);
    if (!r.ok()) return r.status();
    auto l = azurexml::ParseBlobList(r->body);
    if (!l.ok()) {
      return Status(l.status().code(),
                    client_.Describe() + ": List Blobs " + prefix + ": " + l.status().message());
    }
    if (!page(*l) || l->next_marker.empty()) return Status::Ok();
    if (l->next_marker == marker) {
      return Status(Code::kIOError, client_.Describe() + ": List Blobs " + prefix +
                                        " answered the same marker twice");
    }
    marker = l->next_marker;
  }
  return Status(Code::kIOError, client_.Describe() + ": listing " + prefix + " never ended");
}

Result<std::string> AzureDriver::GetContent(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return NotFound(path + " is a directory");
  AzureCall c{"Get Blob", "GET", *key};
  c.accept = {404};
  c.max_body = 1u << 30;
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return NotFound(path + ": no such file");
  return std::move(r->body);
}

Status AzureDriver::PutContent(const std::string& path, std::string_view content) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  if (content.size() > kAzureMaxPutBlob) {
    return Status(Code::kTooLarge, path + ": PutContent takes at most 5000 MiB; use a Writer");
  }
  return PutBlob(*key, content);
}

Result<std::unique_ptr<FileReader>> AzureDriver::Reader(const std::string& path, uint64_t offset) {
  if (path == "/") return NotFound(path + " is not a file");
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  auto info = HeadBlob(*key);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return NotFound(path + ": no such file");
  uint64_t size = (*info)->size;
  if (offset > size) {
    return Status(Code::kOutOfRange,
                  "offset " + std::to_string(offset) + " is past the end of " + path);
  }
  return std::unique_ptr<FileReader>(new objstore::WindowedReader(
      [this](const std::string& k, uint64_t at, uint64_t n) { return GetRange(k, at, n); },
      {{*key, size}}, offset));
}

Result<std::unique_ptr<FileWriter>> AzureDriver::Writer(const std::string& path, bool append) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  if (!append) {
    // An empty blob now: the file exists (and is truncated) from the start.
    if (Status s = PutBlob(*key, ""); !s.ok()) return s;
    return std::unique_ptr<FileWriter>(new AzureWriter(this, *key, {}, 0));
  }
  auto info = HeadBlob(*key);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return NotFound(path + ": no such file");
  uint64_t size = (*info)->size;
  auto blocks = GetBlockList(*key);
  if (!blocks.ok()) return blocks.status();
  std::vector<std::string> ids;
  uint64_t committed = 0;
  size_t id_length = BlockId("0000000000000000", 0).size();
  bool ours = true;
  for (const auto& b : blocks->committed) {
    ids.push_back(b.id);
    committed += b.size;
    ours = ours && b.id.size() == id_length;
  }
  if (committed == size && ours) {
    return std::unique_ptr<FileWriter>(new AzureWriter(this, *key, std::move(ids), size));
  }
  // Written in one Put Blob (no blocks) or by another tool: its bytes become our blocks.
  auto w = std::make_unique<AzureWriter>(this, *key, std::vector<std::string>{}, 0);
  auto fetch = [this](const std::string& k, uint64_t at, uint64_t n) { return GetRange(k, at, n); };
  if (Status s = objstore::CopyObjectInto(fetch, *key, size, *w); !s.ok()) return s;
  if (Status s = w->Flush(); !s.ok()) return s;
  return std::unique_ptr<FileWriter>(std::move(w));
}

Result<FileInfo> AzureDriver::Stat(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  FileInfo fi;
  fi.path = path;
  if (path != "/") {
    auto info = HeadBlob(*key);
    if (!info.ok()) return info.status();
    if (info->has_value()) {
      FileInfo out = **info;
      out.path = path;
      return out;
    }
  }
  bool any = false;
  Status s = ListPages(DirPrefix(*key), false, 1, [&](const azurexml::BlobList& l) {
    any = !l.blobs.empty() || !l.prefixes.empty();
    return false;
  });
  if (!s.ok()) return s;
  if (!any && path != "/") return NotFound(path + ": no such file or directory");
  fi.is_dir = true;
  return fi;
}

Result<std::vector<std::string>> AzureDriver::List(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::ChildNames names(path, prefix, false);
  Status s = ListPages(prefix, true, 5000, [&](const azurexml::BlobList& l) {
    for (const auto& b : l.blobs) names.Add(b.name);
    for (const auto& p : l.prefixes) names.Add(p);
    return true;
  });
  if (!s.ok()) return s;
  return names.Take();
}

Status AzureDriver::Walk(const std::string& path,
                         const std::function<Status(const FileInfo&)>& visit) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::WalkTree tree(path, prefix, false);
  Status s = ListPages(prefix, false, 5000, [&](const azurexml::BlobList& l) {
    for (const auto& b : l.blobs) tree.Add(b.name, b.size, b.last_modified);
    return true;
  });
  if (!s.ok()) return s;
  return tree.Visit([this](const std::string& p) { return Stat(p); }, visit);
}

Status AzureDriver::Delete(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("refusing to delete the storage root");
  auto info = HeadBlob(*key);
  if (!info.ok()) return info.status();
  bool file = info->has_value();
  if (file) {
    if (Status d = DeleteBlob(*key); !d.ok()) return d;
  }
  std::vector<std::string> under;
  Status s = ListPages(DirPrefix(*key), false, 5000, [&](const azurexml::BlobList& l) {
    for (const auto& b : l.blobs) under.push_back(b.name);
    return true;
  });
  if (!s.ok()) return s;
  if (!file && under.empty()) return NotFound(path + ": no such file or directory");
  for (const auto& k : under) {
    if (Status d = DeleteBlob(k); !d.ok()) return d;
  }
  return Status::Ok();
}

Status AzureDriver::Move(const std::string& from, const std::string& to) {
  auto src = CheckedKey(from);
  auto dst = CheckedKey(to);
  if (!src.ok()) return src.status();
  if (!dst.ok()) return dst.status();
  if (from == "/" || to == "/") return InvalidArgument("cannot move the storage root");
  if (*src == *dst) return Status::Ok();
  AzureCall copy{"Copy Blob", "PUT", *dst};
  copy.headers = {{"x-ms-copy-source", client_.BlobUrl(*src)}};
  copy.accept = {404};
  auto r = client_.Do(copy);
  if (!r.ok()) return r.status();
  if (r->status == 404) {
    auto info = HeadBlob(*src);
    if (info.ok() && !info->has_value()) return NotFound(from + ": no such file");
    return Status(Code::kIOError, client_.Describe() + ": Copy Blob " + *src + " → " + *dst +
                                      ": HTTP 404 " + r->Header("x-ms-error-code"));
  }
  // Within one account a copy is usually done on return; otherwise wait for it.
  std::string state = r->Header("x-ms-copy-status");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  auto wait = std::chrono::milliseconds(50);
  while (state == "pending") {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Code::kUnavailable,
                    client_.Describe() + ": Copy Blob " + *src + " → " + *dst + " still pending");
    }
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(2000));
    auto head = client_.Do(AzureCall{"Get Blob Properties", "HEAD", *dst});
    if (!head.ok()) return head.status();
    state = head->Header("x-ms-copy-status");
  }
  if (!state.empty() && state != "success") {
    return Status(Code::kIOError,
                  client_.Describe() + ": Copy Blob " + *src + " → " + *dst + " ended " + state);
  }
  return DeleteBlob(*src);
}

}  // namespace dtr::storage
