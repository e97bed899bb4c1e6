#include "storage/s3_driver.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>

namespace dtr::storage {

namespace {

std::string Base64Md5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

}  // namespace

using objstore::DirPrefix;
using objstore::EndsWith;
using objstore::kReserved;
using objstore::kSidecarSuffix;

S3Driver::S3Driver(S3Config config) : client_(std::move(config)) {}

std::string S3Driver::Key(const std::string& path) const {
  return objstore::KeyFor(client_.config().root, path);
}

std::string S3Driver::SidecarKey(const std::string& key) {
  return key + std::string(kSidecarSuffix);
}

std::string S3Driver::SegmentKey(const std::string& key, const std::string& gen, uint64_t n) {
  return key + "#dtr.seg/" + gen + "/" + objstore::Padded(n);
}

Result<std::string> S3Driver::CheckedKey(const std::string& path) const {
  return objstore::CheckedKey(client_.config().root, path, true);
}

std::vector<std::pair<std::string, std::string>> S3Driver::WriteHeaders() const {
  const S3Config& c = client_.config();
  std::vector<std::pair<std::string, std::string>> h;
  if (!c.storage_class.empty()) h.emplace_back("x-amz-storage-class", c.storage_class);
  if (c.encrypt) {
    if (c.kms_key_id.empty()) {
      h.emplace_back("x-amz-server-side-encryption", "AES256");
    } else {
      h.emplace_back("x-amz-server-side-encryption", "aws:kms");
      h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", c.kms_key_id);
    }
  }
  return h;
}

Status S3Driver::CreateBucket() {
  S3Call head{"HeadBucket", "HEAD", "", {}, {}, {}, true, 1u << 20, {404}};
  auto r = client_.Do(head);
  if (!r.ok()) return r.status();
  if (r->status != 404) return Status::Ok();
  std::string body;
  const S3Config& c = client_.config();
  if (c.region != "us-east-1" && c.driver == "s3") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + c.region +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  S3Call put{"CreateBucket", "PUT", "", {}, {}, body, true, 1u << 20, {409}};
  auto p = client_.Do(put);
  return p.ok() ? Status::Ok() : p.status();
}

Result<std::optional<FileInfo>> S3Driver::HeadObject(const std::string& key) {
  S3Call c{"HeadObject", "HEAD", key, {}, {}, {}, true, 1u << 20, {404}};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<FileInfo>();
  FileInfo fi;
  if (!HeaderNumber(*r, "Content-Length", &fi.size)) {
    return Status(Code::kCorruption, client_.Describe() + ": HeadObject " + key + " has no size");
  }
  ParseHttpDate(r->Header("Last-Modified"), &fi.mod_time);
  return std::optional<FileInfo>(fi);
}

Result<std::optional<S3Driver::Segmented>> S3Driver::HeadSegmented(const std::string& key) {
  S3Call c{"HeadObject", "HEAD", SidecarKey(key), {}, {}, {}, true, 1u << 20, {404}};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<Segmented>();
  auto s = objstore::SidecarState(*r, "x-amz-meta-",
                                  client_.Describe() + ": upload state " + SidecarKey(key));
  if (!s.ok()) return s.status();
  return std::optional<Segmented>(std::move(*s));
}

Status S3Driver::PutObject(const std::string& op, const std::string& key, std::string_view body,
                           std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& h : WriteHeaders()) headers.push_back(std::move(h));
  S3Call c{op, "PUT", key, {}, std::move(headers), body};
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status S3Driver::PutSidecar(const std::string& key, const Segmented& s, std::string_view tail) {
  return PutObject("PutObject(upload state)", SidecarKey(key), tail,
                   objstore::SidecarHeaders("x-amz-meta-", s));
}

Status S3Driver::PutSegment(const std::string& key, const std::string& gen, uint64_t n,
                            std::string_view bytes) {
  return PutObject("PutObject(upload segment)", SegmentKey(key, gen, n), bytes);
}

Result<std::string> S3Driver::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  if (length == 0) return std::string();
  S3Call c{
      "GetObject",
      "GET",
      key,
      {},
      {{"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}}};
  c.max_body = length;
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (Status s = objstore::CheckRangeLength(client_.Describe() + ": GetObject " + key, offset,
                                            length, r->body.size());
      !s.ok()) {
    return s;
  }
  return std::move(r->body);
}

Status S3Driver::ListPages(const std::string& prefix, bool delimited, int max_keys,
                           const std::function<bool(const s3xml::Listing&)>& page) {
  std::string token;
  for (int i = 0; i < 1000000; ++i) {
    S3Call c{
        "ListObjectsV2", "GET", "", {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}}};
    if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
    if (delimited) c.query.emplace_back("delimiter", "/");
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    auto r = client_.Do(c);
    if (!r.ok()) return r.status();
    auto l = s3xml::ParseListing(r->body);
    if (!l.ok()) {
      return Status(l.status().code(),
                    client_.Describe() + ": ListObjectsV2 " + prefix + ": " + l.status().message());
    }
    if (!page(*l) || !l->truncated) return Status::Ok();
    if (l->next_token.empty()) {
      return Status(Code::kIOError,
                    client_.Describe() + ": a truncated listing came without a continuation token");
    }
    token = l->next_token;
  }
  return Status(Code::kIOError, client_.Describe() + ": listing " + prefix + " never ended");
}

Status S3Driver::DeleteKeys(const std::vector<std::string>& keys) {
  for (size_t at = 0; at < keys.size(); at += 1000) {
    size_t end = std::min(keys.size(), at + 1000);
    if (!multi_delete_unsupported_) {
      std::string body = "<Delete><Quiet>true</Quiet>";
      for (size_t i = at; i < end; ++i)
        body += "<Object><Key>" + s3xml::Escape(keys[i]) + "</Key></Object>";
      body += "</Delete>";
      S3Call c{"DeleteObjects",
               "POST",
               "",
               {{"delete", ""}},
               {{"Content-MD5", Base64Md5(body)}, {"Content-Type", "application/xml"}},
               body};
      auto r = client_.Do(c);
      if (r.ok()) {
        auto d = s3xml::ParseDeleteResult(r->body);
        if (!d.ok()) return d.status();
        for (const auto& [k, why] : d->errors) {
          if (why.rfind("NoSuchKey", 0) == 0) continue;
          return Status(Code::kIOError, client_.Describe() + ": DeleteObjects " + k + ": " + why);
        }
        continue;
      }
      if (!r.status().is(Code::kUnsupported)) return r.status();
      multi_delete_unsupported_ = true;
    }
    for (size_t i = at; i < end; ++i) {
      S3Call c{"DeleteObject", "DELETE", keys[i], {}, {}, {}, true, 1u << 20, {404}};
      auto r = client_.Do(c);
      if (!r.ok()) return r.status();
    }
  }
  return Status::Ok();
}

Result<bool> S3Driver::DeleteFile(const std::string& key) {
  std::vector<std::string> keys;
  auto plain = HeadObject(key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) keys.push_back(key);
  // The sidecar goes first: without it, stray segments are invisible.
  std::vector<std::string> segments;
  bool sidecar = false;
  Status s = ListPages(key + std::string(kReserved), false, 1000, [&](const s3xml::Listing& l) {
    for (const auto& o : l.objects) {
      if (o.key == SidecarKey(key)) {
        sidecar = true;
      } else {
        segments.push_back(o.key);
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  if (sidecar) keys.push_back(SidecarKey(key));
  bool existed = !keys.empty();
  keys.insert(keys.end(), segments.begin(), segments.end());
  if (Status d = DeleteKeys(keys); !d.ok()) return d;
  return existed;
}

Result<std::string> S3Driver::GetContent(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return NotFound(path + " is a directory");
  S3Call c{"GetObject", "GET", *key, {}, {}, {}, true, 1u << 30, {404}};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status != 404) return std::move(r->body);
  auto reader = Reader(path, 0);
  if (!reader.ok()) return reader.status();
  return objstore::ReadAll(**reader);
}

Status S3Driver::PutContent(const std::string& path, std::string_view content) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  return PutObject("PutObject", *key, content);
}

Result<FileInfo> S3Driver::Stat(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  FileInfo fi;
  fi.path = path;
  if (path != "/") {
    auto plain = HeadObject(*key);
    if (!plain.ok()) return plain.status();
    if (plain->has_value()) {
      FileInfo out = **plain;
      out.path = path;
      return out;
    }
    auto seg = HeadSegmented(*key);
    if (!seg.ok()) return seg.status();
    if (seg->has_value()) {
      fi.size = (*seg)->size();
      fi.mod_time = (*seg)->mod_time;
      return fi;
    }
  }
  bool any = false;
  Status s = ListPages(DirPrefix(*key), false, 1, [&](const s3xml::Listing& l) {
    any = !l.objects.empty() || !l.prefixes.empty();
    return false;
  });
  if (!s.ok()) return s;
  if (!any && path != "/") return NotFound(path + ": no such file or directory");
  fi.is_dir = true;
  return fi;
}

Result<std::vector<std::string>> S3Driver::List(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::ChildNames names(path, prefix, true);
  Status s =
      ListPages(prefix, client_.config().delimiter_listing, 1000, [&](const s3xml::Listing& l) {
        for (const auto& o : l.objects) names.Add(o.key);
        for (const auto& p : l.prefixes) names.Add(p);
        return true;
      });
  if (!s.ok()) return s;
  return names.Take();
}

Status S3Driver::Walk(const std::string& path,
                      const std::function<Status(const FileInfo&)>& visit) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::WalkTree tree(path, prefix, true);
  Status s = ListPages(prefix, false, 1000, [&](const s3xml::Listing& l) {
    for (const auto& o : l.objects) tree.Add(o.key, o.size, o.last_modified);
    return true;
  });
  if (!s.ok()) return s;
  return tree.Visit([this](const std::string& p) { return Stat(p); }, visit);
}

Status S3Driver::Delete(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("refusing to delete the storage root");
  auto file = DeleteFile(*key);
  if (!file.ok()) return file.status();
  std::vector<std::string> under;
  Status s = ListPages(DirPrefix(*key), false, 1000, [&](const s3xml::Listing& l) {
    for (const auto& o : l.objects) under.push_back(o.key);
    return true;
  });
  if (!s.ok()) return s;
  if (!*file && under.empty()) return NotFound(path + ": no such file or directory");
  // Sidecars before segments, so that a crash in between leaves no half-readable file.
  std::stable_partition(under.begin(), under.end(),
                        [](const std::string& k) { return EndsWith(k, kSidecarSuffix); });
  return DeleteKeys(under);
}

Status S3Driver::CopyObject(const std::string& src, const std::string& dst, uint64_t size) {
  const S3Config& c = client_.config();
  if (size > c.copy_threshold && !part_copy_unsupported_) {
    std::vector<PartSource> parts;
    for (uint64_t off = 0; off < size; off += c.copy_chunk_size) {
      parts.push_back({src, off, std::min(c.copy_chunk_size, size - off), false});
    }
    Status s = MultipartCopy(dst, parts);
    if (s.ok() || !part_copy_unsupported_ || size > kS3MaxPartSize) return s;
  }
  auto headers = WriteHeaders();
  headers.emplace_back("x-amz-copy-source",
                       (c.path_style ? "" : "/" + c.bucket) + client_.PathFor(src));
  S3Call call{"CopyObject", "PUT", dst, {}, headers};
  auto r = client_.Do(call);
  if (!r.ok()) return r.status();
  auto etag = s3xml::ParseCopyETag(r->body);
  if (!etag.ok()) {
    return Status(etag.status().code(), client_.Describe() + ": CopyObject " + src + " → " + dst +
                                            ": " + etag.status().message());
  }
  return Status::Ok();
}

Status S3Driver::MultipartCopy(const std::string& dst, const std::vector<PartSource>& sources) {
  const S3Config& c = client_.config();
  if (sources.size() > static_cast<size_t>(kS3MaxParts)) {
    return Status(Code::kTooLarge, client_.Describe() + ": " + dst + " would need " +
                                       std::to_string(sources.size()) +
                                       " parts, more than S3's 10000; raise chunksize");
  }
  auto headers = WriteHeaders();
  S3Call init{"CreateMultipartUpload", "POST", dst, {{"uploads", ""}}, headers};
  auto r = client_.Do(init);
  if (!r.ok()) return r.status();
  auto upload_id = s3xml::ParseUploadId(r->body);
  if (!upload_id.ok()) return upload_id.status();
  std::string id = *upload_id;
  std::string copy_source_prefix = c.path_style ? "" : "/" + c.bucket;

  std::vector<std::string> etags(sources.size());
  std::mutex mu;
  Status failure;
  size_t next = 0;
  auto worker = [&]() {
    while (true) {
      size_t i;
      {
        std::lock_guard lock(mu);
        if (!failure.ok() || next >= sources.size()) return;
        i = next++;
      }
      const PartSource& src = sources[i];
      sigv4::Params q{{"partNumber", std::to_string(i + 1)}, {"uploadId", id}};
      Result<S3Response> part = Status(Code::kUnsupported, "");
      if (!part_copy_unsupported_) {
        std::vector<std::pair<std::string, std::string>> h{
            {"x-amz-copy-source", copy_source_prefix + client_.PathFor(src.key)}};
        if (!src.whole) {
          h.emplace_back("x-amz-copy-source-range",
                         "bytes=" + std::to_string(src.offset) + "-" +
                             std::to_string(src.offset + src.length - 1));
        }
        part = client_.Do(S3Call{"UploadPartCopy", "PUT", dst, q, h});
        if (part.ok()) {
          auto etag = s3xml::ParseCopyETag(part->body);
          if (!etag.ok()) {
            part = etag.status();
          } else {
            std::lock_guard lock(mu);
            etags[i] = *etag;
            continue;
          }
        } else if (part.status().is(Code::kUnsupported)) {
          part_copy_unsupported_ = true;
        }
      }
      if (part_copy_unsupported_) {
        // The store cannot copy parts: bring the bytes through here, one part at a time.
        uint64_t length = src.length;
        if (src.whole) {
          auto info = HeadObject(src.key);
          if (!info.ok() || !info->has_value()) {
            std::lock_guard lock(mu);
            failure = info.ok() ? NotFound(src.key + " vanished during a copy") : info.status();
            return;
          }
          length = (*info)->size;
        }
        auto bytes = GetRange(src.key, src.offset, length);
        if (bytes.ok()) {
          part = client_.Do(S3Call{"UploadPart", "PUT", dst, q, {}, *bytes});
          if (part.ok()) {
            std::lock_guard lock(mu);
            etags[i] = part->Header("ETag");
            continue;
          }
        } else {
          part = bytes.status();
        }
      }
      std::lock_guard lock(mu);
      if (failure.ok()) failure = part.status();
      return;
    }
  };
  std::vector<std::future<void>> workers;
  int n = std::min<int>(c.copy_concurrency, static_cast<int>(sources.size()));
  for (int i = 0; i < n; ++i) workers.push_back(std::async(std::launch::async, worker));
  for (auto& w : workers) w.get();

  auto abort = [&] {
    client_.Do(S3Call{"AbortMultipartUpload",
                      "DELETE",
                      dst,
                      {{"uploadId", id}},
                      {},
                      {},
                      true,
                      1u << 20,
                      {404, 405, 501}});
  };
  if (!failure.ok()) {
    abort();
    return failure;
  }
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
            s3xml::Escape(etags[i]) + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  S3Call complete{"CompleteMultipartUpload",
                  "POST",
                  dst,
                  {{"uploadId", id}},
                  {{"Content-Type", "application/xml"}},
                  body};
  auto done = client_.Do(complete);
  if (!done.ok()) {
    // A retried Complete whose first attempt went through finds no upload: check the object.
    if (S3ErrorCode(done.status()) == "NoSuchUpload") {
      auto head = HeadObject(dst);
      if (head.ok() && head->has_value()) return Status::Ok();
    }
    abort();
    return done.status();
  }
  if (Status s = s3xml::ParseCompleteResult(done->body); !s.ok()) {
    abort();
    return Status(s.code(),
                  client_.Describe() + ": CompleteMultipartUpload " + dst + ": " + s.message());
  }
  return Status::Ok();
}

Status S3Driver::Assemble(const std::string& src_key, const Segmented& s, const std::string& dst) {
  if (s.segments == 0) {
    auto tail = GetRange(SidecarKey(src_key), 0, s.tail);
    if (!tail.ok()) return tail.status();
    return PutObject("PutObject", dst, *tail);
  }
  std::vector<PartSource> parts;
  for (uint64_t i = 0; i < s.segments; ++i) {
    parts.push_back({SegmentKey(src_key, s.gen, i), 0, s.segment_size, true});
  }
  if (s.tail > 0) parts.push_back({SidecarKey(src_key), 0, s.tail, true});
  return MultipartCopy(dst, parts);
}

Status S3Driver::Move(const std::string& from, const std::string& to) {
  auto src = CheckedKey(from);
  auto dst = CheckedKey(to);
  if (!src.ok()) return src.status();
  if (!dst.ok()) return dst.status();
  if (from == "/" || to == "/") return InvalidArgument("cannot move the storage root");
  if (*src == *dst) return Status::Ok();
  auto plain = HeadObject(*src);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    if (Status s = CopyObject(*src, *dst, (*plain)->size); !s.ok()) return s;
  } else {
    auto seg = HeadSegmented(*src);
    if (!seg.ok()) return seg.status();
    if (!seg->has_value()) return NotFound(from + ": no such file");
    if (Status s = Assemble(*src, **seg, *dst); !s.ok()) return s;
  }
  // The destination is replaced: an upload in progress there goes too.
  auto stale = HeadSegmented(*dst);
  if (stale.ok() && stale->has_value()) {
    std::vector<std::string> keys{SidecarKey(*dst)};
    DeleteKeys(keys);
  }
  auto removed = DeleteFile(*src);
  return removed.ok() ? Status::Ok() : removed.status();
}

Result<std::string> S3Driver::URLFor(const std::string& path, std::string_view method,
                                     std::chrono::seconds expires) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  auto plain = HeadObject(*key);
  if (!plain.ok()) return plain.status();
  if (!plain->has_value()) {
    auto seg = HeadSegmented(*key);
    if (seg.ok() && seg->has_value()) {
      return Status(
          Code::kFailedPrecondition,
          path + " is an upload in progress (segments); it has no single URL until moved");
    }
    return NotFound(path + ": no such file");
  }
  return client_.Presign(method, *key, expires);
}

}  // namespace dtr::storage
