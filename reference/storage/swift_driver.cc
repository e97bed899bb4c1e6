#include "storage/swift_driver.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

namespace dtr::storage {

namespace {

constexpr std::string_view kSegmentDir = "#dtr.segments";
// Sorts after every name below a subdir, so that a listing continues past it.
constexpr std::string_view kAfterEverything = "\xF4\x8F\xBF\xBF";

}  // namespace

using objstore::DirPrefix;
using objstore::EndsWith;
using objstore::kSidecarSuffix;

SwiftDriver::SwiftDriver(SwiftConfig config) : client_(std::move(config)) {}

std::string SwiftDriver::Key(const std::string& path) const {
  return objstore::KeyFor(client_.config().root, path);
}

std::string SwiftDriver::SidecarKey(const std::string& key) {
  return key + std::string(kSidecarSuffix);
}

std::string SwiftDriver::SegmentKey(const std::string& gen, uint64_t n) const {
  return DirPrefix(Key("/")) + std::string(kSegmentDir) + "/" + gen + "/" + objstore::Padded(n);
}

Result<std::string> SwiftDriver::CheckedKey(const std::string& path) const {
  return objstore::CheckedKey(client_.config().root, path, true);
}

Result<std::optional<SwiftDriver::ObjectInfo>> SwiftDriver::HeadObject(const std::string& key) {
  SwiftCall c{"HEAD object", "HEAD", key};
  c.accept = {404};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<ObjectInfo>();
  ObjectInfo info;
  if (!HeaderNumber(*r, "Content-Length", &info.size)) {
    return Status(Code::kCorruption, client_.Describe() + ": HEAD " + key + " has no size");
  }
  std::string slo = r->Header("X-Static-Large-Object");
  info.slo = slo == "True" || slo == "true" || slo == "1";
  ParseHttpDate(r->Header("Last-Modified"), &info.mod_time);
  return std::optional<ObjectInfo>(info);
}

Result<std::optional<SwiftDriver::Segmented>> SwiftDriver::HeadSegmented(const std::string& key) {
  SwiftCall c{"HEAD upload state", "HEAD", SidecarKey(key)};
  c.accept = {404};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<Segmented>();
  auto s = objstore::SidecarState(*r, "X-Object-Meta-",
                                  client_.Describe() + ": upload state " + SidecarKey(key));
  if (!s.ok()) return s.status();
  return std::optional<Segmented>(std::move(*s));
}

Status SwiftDriver::PutObject(const std::string& op, const std::string& key, std::string_view body,
                              HttpHeaders headers) {
  SwiftCall c{op, "PUT", key};
  c.headers = std::move(headers);
  c.body = body;
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status SwiftDriver::PutSidecar(const std::string& key, const Segmented& s, std::string_view tail) {
  return PutObject("PUT upload state", SidecarKey(key), tail,
                   objstore::SidecarHeaders("X-Object-Meta-", s));
}

Status SwiftDriver::PutSegment(const std::string& key, const std::string& gen, uint64_t n,
                               std::string_view bytes) {
  (void)key;  // Swift's segments live under the root, named by generation only
  return PutObject("PUT upload segment", SegmentKey(gen, n), bytes);
}

Result<std::string> SwiftDriver::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  if (length == 0) return std::string();
  SwiftCall c{"GET object", "GET", key};
  c.headers = {
      {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  c.max_body = length;
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (Status s = objstore::CheckRangeLength(client_.Describe() + ": GET " + key, offset, length,
                                            r->body.size());
      !s.ok()) {
    return s;
  }
  return std::move(r->body);
}

Status SwiftDriver::ListPages(
    const std::string& prefix, bool delimited, int limit,
    const std::function<bool(const std::vector<swiftjson::Entry>&)>& page) {
  std::string marker;
  limit = std::min(limit, client_.config().list_limit);
  for (int i = 0; i < 1000000; ++i) {
    SwiftCall c{"GET listing", "GET", ""};
    c.query = {{"format", "json"}, {"limit", std::to_string(limit)}};
    if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
    if (delimited) c.query.emplace_back("delimiter", "/");
    if (!marker.empty()) c.query.emplace_back("marker", marker);
    c.headers = {{"Accept", "application/json"}};
    c.accept = {204};
    auto r = client_.Do(c);
    if (!r.ok()) return r.status();
    if (r->status == 204 || r->body.empty()) return Status::Ok();
    auto l = swiftjson::ParseListing(r->body);
    if (!l.ok()) {
      return Status(l.status().code(),
                    client_.Describe() + ": listing " + prefix + ": " + l.status().message());
    }
    if (l->empty() || !page(*l) || l->size() < static_cast<size_t>(limit)) return Status::Ok();
    const swiftjson::Entry& last = l->back();
    std::string next = last.is_subdir ? last.name + std::string(kAfterEverything) : last.name;
    if (next <= marker) {
      return Status(Code::kIOError, client_.Describe() + ": listing " + prefix +
                                        " did not advance past '" + marker + "'");
    }
    marker = next;
  }
  return Status(Code::kIOError, client_.Describe() + ": listing " + prefix + " never ended");
}

Status SwiftDriver::DeleteObject(const std::string& key, bool slo) {
  SwiftCall c{slo ? "DELETE large object" : "DELETE object", "DELETE", key};
  c.accept = {404};
  if (slo) {
    c.query = {{"multipart-manifest", "delete"}};
    c.headers = {{"Accept", "application/json"}};
  }
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (!slo || r->status == 404) return Status::Ok();
  auto result = swiftjson::ParseBulkDelete(r->body);
  if (!result.ok()) {
    return Status(result.status().code(),
                  client_.Describe() + ": DELETE " + key + ": " + result.status().message());
  }
  if (result->ok() || result->status.rfind("404", 0) == 0) return Status::Ok();
  std::string errors;
  for (const auto& e : result->errors) errors += (errors.empty() ? "" : "; ") + e;
  return Status(Code::kIOError, client_.Describe() + ": DELETE " + key + " with its segments: " +
                                    result->status + (errors.empty() ? "" : " (" + errors + ")"));
}

Status SwiftDriver::DeleteSegments(const std::string& gen) {
  std::vector<std::string> keys;
  std::string prefix = SegmentKey(gen, 0);
  prefix.resize(prefix.rfind('/') + 1);
  Status s = ListPages(prefix, false, 10000, [&](const std::vector<swiftjson::Entry>& l) {
    for (const auto& e : l) keys.push_back(e.name);
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& k : keys) {
    if (Status d = DeleteObject(k, false); !d.ok()) return d;
  }
  return Status::Ok();
}

Result<bool> SwiftDriver::DeleteFile(const std::string& key) {
  bool existed = false;
  auto plain = HeadObject(key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    existed = true;
    if (Status s = DeleteObject(key, (*plain)->slo); !s.ok()) return s;
  }
  auto seg = HeadSegmented(key);
  if (!seg.ok()) return seg.status();
  if (seg->has_value()) {
    existed = true;
    // The sidecar goes first: without it, stray segments are invisible.
    if (Status s = DeleteObject(SidecarKey(key), false); !s.ok()) return s;
    if (Status s = DeleteSegments((*seg)->gen); !s.ok()) return s;
  }
  return existed;
}

Result<std::string> SwiftDriver::GetContent(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return NotFound(path + " is a directory");
  SwiftCall c{"GET object", "GET", *key};
  c.accept = {404};
  c.max_body = 1u << 30;
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status != 404) return std::move(r->body);
  auto reader = Reader(path, 0);
  if (!reader.ok()) return reader.status();
  return objstore::ReadAll(**reader);
}

Status SwiftDriver::PutContent(const std::string& path, std::string_view content) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  if (content.size() > kSwiftMaxObject) {
    return Status(Code::kTooLarge, path + ": PutContent takes at most 5 GiB; use a Writer");
  }
  return PutObject("PUT object", *key, content);
}

Result<FileInfo> SwiftDriver::Stat(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  FileInfo fi;
  fi.path = path;
  if (path != "/") {
    auto plain = HeadObject(*key);
    if (!plain.ok()) return plain.status();
    if (plain->has_value()) {
      fi.size = (*plain)->size;
      fi.mod_time = (*plain)->mod_time;
      return fi;
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
  Status s = ListPages(DirPrefix(*key), false, 1, [&](const std::vector<swiftjson::Entry>& l) {
    any = !l.empty();
    return false;
  });
  if (!s.ok()) return s;
  if (!any && path != "/") return NotFound(path + ": no such file or directory");
  fi.is_dir = true;
  return fi;
}

Result<std::vector<std::string>> SwiftDriver::List(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::ChildNames names(path, prefix, true);
  Status s = ListPages(prefix, true, 10000, [&](const std::vector<swiftjson::Entry>& l) {
    for (const auto& e : l) names.Add(e.name);
    return true;
  });
  if (!s.ok()) return s;
  return names.Take();
}

Status SwiftDriver::Walk(const std::string& path,
                         const std::function<Status(const FileInfo&)>& visit) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::string prefix = DirPrefix(*key);
  objstore::WalkTree tree(path, prefix, true);
  Status s = ListPages(prefix, false, 10000, [&](const std::vector<swiftjson::Entry>& l) {
    // A large object's listed size is its manifest's: Stat gives the content's.
    for (const auto& o : l) tree.Add(o.name, o.bytes, o.last_modified, o.is_slo);
    return true;
  });
  if (!s.ok()) return s;
  return tree.Visit([this](const std::string& p) { return Stat(p); }, visit);
}

Status SwiftDriver::Delete(const std::string& path) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("refusing to delete the storage root");
  auto file = DeleteFile(*key);
  if (!file.ok()) return file.status();
  std::vector<swiftjson::Entry> under;
  Status s = ListPages(DirPrefix(*key), false, 10000, [&](const std::vector<swiftjson::Entry>& l) {
    under.insert(under.end(), l.begin(), l.end());
    return true;
  });
  if (!s.ok()) return s;
  if (!*file && under.empty()) return NotFound(path + ": no such file or directory");
  for (const auto& o : under) {
    if (EndsWith(o.name, kSidecarSuffix)) {
      std::string file_key = o.name.substr(0, o.name.size() - kSidecarSuffix.size());
      auto seg = HeadSegmented(file_key);
      if (!seg.ok()) return seg.status();
      if (Status d = DeleteObject(o.name, false); !d.ok()) return d;
      if (seg->has_value()) {
        if (Status d = DeleteSegments((*seg)->gen); !d.ok()) return d;
      }
    } else if (Status d = DeleteObject(o.name, o.is_slo); !d.ok()) {
      return d;
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SwiftDriver::ManifestSegments(const std::string& key) {
  SwiftCall c{"GET manifest", "GET", key};
  c.query = {{"multipart-manifest", "get"}};
  c.accept = {404};
  auto r = client_.Do(c);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::vector<std::string>();
  auto paths = swiftjson::ParseSloManifest(r->body);
  if (!paths.ok()) {
    return Status(paths.status().code(),
                  client_.Describe() + ": manifest " + key + ": " + paths.status().message());
  }
  return paths;
}

void SwiftDriver::DeleteReplacedSegments(const std::vector<std::string>& paths) {
  // Only segments this driver wrote, in this container: never whatever else a foreign
  // manifest pointed at.
  std::string mine =
      "/" + client_.config().container + "/" + DirPrefix(Key("/")) + std::string(kSegmentDir) + "/";
  for (const auto& p : paths) {
    if (p.rfind(mine, 0) != 0) continue;
    std::string key = p.substr(client_.config().container.size() + 2);
    // A sub-manifest (more than 1000 segments) goes with its own segments.
    bool sub = key.compare(key.rfind('/') + 1, 1, "m") == 0;
    DeleteObject(key, sub);
  }
}

Status SwiftDriver::PutManifest(const std::string& dst, const std::string& gen,
                                std::vector<swiftjson::SloSegment> segments) {
  if (segments.size() > kSwiftMaxManifestSegments) {
    // Sub-manifests of up to 1000 segments each, and a manifest of those.
    std::vector<swiftjson::SloSegment> subs;
    for (size_t at = 0; at < segments.size(); at += kSwiftMaxManifestSegments) {
      size_t end = std::min(segments.size(), at + kSwiftMaxManifestSegments);
      std::vector<swiftjson::SloSegment> part(segments.begin() + static_cast<ptrdiff_t>(at),
                                              segments.begin() + static_cast<ptrdiff_t>(end));
      uint64_t bytes = 0;
      for (const auto& s : part) bytes += s.size;
      std::string sub_key = SegmentKey(gen, 0);
      sub_key.resize(sub_key.rfind('/') + 1);
      sub_key += "m" + std::to_string(at / kSwiftMaxManifestSegments);
      if (Status s = PutManifest(sub_key, gen, std::move(part)); !s.ok()) return s;
      subs.push_back({"/" + client_.config().container + "/" + sub_key, bytes});
    }
    return PutManifest(dst, gen, std::move(subs));
  }
  std::string body = swiftjson::SloManifest(segments);
  SwiftCall c{"PUT manifest", "PUT", dst};
  c.query = {{"multipart-manifest", "put"}};
  c.body = body;
  c.headers = {{"Content-Type", "application/octet-stream"}};
  auto r = client_.Do(c);
  return r.ok() ? Status::Ok() : r.status();
}

Status SwiftDriver::Assemble(const std::string& src_key, const Segmented& s,
                             const std::string& dst) {
  auto tail = GetRange(SidecarKey(src_key), 0, s.tail);
  if (!tail.ok()) return tail.status();
  if (s.segments == 0) return PutObject("PUT object", dst, *tail);
  std::vector<swiftjson::SloSegment> segments;
  const std::string& container = client_.config().container;
  for (uint64_t i = 0; i < s.segments; ++i) {
    segments.push_back({"/" + container + "/" + SegmentKey(s.gen, i), s.segment_size});
  }
  if (s.tail > 0) {
    // The tail becomes the last segment (a later append to the upload would rewrite it).
    std::string key = SegmentKey(s.gen, s.segments);
    if (Status st = PutObject("PUT upload segment", key, *tail); !st.ok()) return st;
    segments.push_back({"/" + container + "/" + key, s.tail});
  }
  return PutManifest(dst, s.gen, std::move(segments));
}

Status SwiftDriver::Move(const std::string& from, const std::string& to) {
  auto src = CheckedKey(from);
  auto dst = CheckedKey(to);
  if (!src.ok()) return src.status();
  if (!dst.ok()) return dst.status();
  if (from == "/" || to == "/") return InvalidArgument("cannot move the storage root");
  if (*src == *dst) return Status::Ok();
  auto plain = HeadObject(*src);
  if (!plain.ok()) return plain.status();
  std::optional<Segmented> seg;
  if (!plain->has_value()) {
    auto h = HeadSegmented(*src);
    if (!h.ok()) return h.status();
    if (!h->has_value()) return NotFound(from + ": no such file");
    seg = **h;
  }
  // What the destination holds now, to clean up once it is replaced.
  std::vector<std::string> replaced;
  auto old = HeadObject(*dst);
  if (!old.ok()) return old.status();
  if (old->has_value() && (*old)->slo) {
    auto segs = ManifestSegments(*dst);
    if (segs.ok()) replaced = std::move(*segs);
  }
  if (seg) {
    if (Status s = Assemble(*src, *seg, *dst); !s.ok()) return s;
    if (Status s = DeleteObject(SidecarKey(*src), false); !s.ok()) return s;
  } else {
    SwiftCall copy{"PUT (copy)", "PUT", *dst};
    copy.headers = {{"X-Copy-From", client_.ObjectPath(*src)}};
    // A large object's manifest is copied, not its content; the segments stay shared until
    // the source manifest goes below.
    if ((*plain)->slo) copy.query = {{"multipart-manifest", "get"}};
    auto r = client_.Do(copy);
    if (!r.ok()) return r.status();
    if (Status s = DeleteObject(*src, false); !s.ok()) return s;
  }
  DeleteReplacedSegments(replaced);
  // The destination is replaced: an upload in progress there goes too.
  auto stale = HeadSegmented(*dst);
  if (stale.ok() && stale->has_value()) {
    DeleteObject(SidecarKey(*dst), false);
    DeleteSegments((*stale)->gen);
  }
  return Status::Ok();
}

}  // namespace dtr::storage
