#include "storage/object_store_common.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace dtr::storage::objstore {

namespace {

// Sorting full paths with '/' as the smallest character gives depth-first order.
std::string WalkOrderKey(const std::string& p) {
  std::string k = p;
  std::replace(k.begin(), k.end(), '/', '\0');
  return k;
}

}  // namespace

std::string KeyFor(const std::string& root, const std::string& path) {
  if (path == "/") return root;
  return root.empty() ? path.substr(1) : root + path;
}

Result<std::string> CheckedKey(const std::string& root, const std::string& path, bool reserve) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgument("storage path must be absolute: " + path);
  }
  if (path != "/") {
    if (path.back() == '/') return InvalidArgument("storage path must not end with '/': " + path);
    size_t start = 1;
    while (start <= path.size()) {
      size_t slash = path.find('/', start);
      std::string_view comp = std::string_view(path).substr(
          start, slash == std::string::npos ? std::string::npos : slash - start);
      if (comp.empty() || comp == "." || comp == "..") {
        return InvalidArgument("invalid storage path: " + path);
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (reserve && path.find(kReserved) != std::string::npos) {
      return InvalidArgument("storage path " + path +
                             " holds \"#dtr.\", which this driver reserves");
    }
  }
  return KeyFor(root, path);
}

std::string DirPrefix(const std::string& key) { return key.empty() ? std::string() : key + "/"; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string RandomId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string Padded(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n));
  return buf;
}

HttpHeaders SidecarHeaders(const std::string& meta, const Segmented& s) {
  return {{meta + "Dtr-Gen", s.gen},
          {meta + "Dtr-Segments", std::to_string(s.segments)},
          {meta + "Dtr-Segment-Size", std::to_string(s.segment_size)}};
}

Result<Segmented> SidecarState(const HttpReply& r, const std::string& meta,
                               const std::string& what) {
  Segmented s;
  s.gen = r.Header(meta + "Dtr-Gen");
  if (s.gen.empty() || !HeaderNumber(r, meta + "Dtr-Segments", &s.segments) ||
      !HeaderNumber(r, meta + "Dtr-Segment-Size", &s.segment_size) ||
      !HeaderNumber(r, "Content-Length", &s.tail)) {
    return Status(Code::kCorruption,
                  what + " lacks its metadata (was it written by another tool?)");
  }
  ParseHttpDate(r.Header("Last-Modified"), &s.mod_time);
  return s;
}

// ---- listings ----

ChildNames::ChildNames(const std::string& path, std::string prefix, bool segmented)
    : path_(path),
      base_(path == "/" ? "/" : path + "/"),
      prefix_(std::move(prefix)),
      segmented_(segmented) {}

void ChildNames::Add(std::string_view listed) {
  // What follows the prefix; its first component is the child.
  std::string_view rest = listed.substr(std::min(prefix_.size(), listed.size()));
  auto slash = rest.find('/');
  std::string_view name = rest.substr(0, slash);
  if (name.empty()) return;
  if (segmented_) {
    if (slash == std::string_view::npos && EndsWith(name, kSidecarSuffix)) {
      name.remove_suffix(kSidecarSuffix.size());
    } else if (name.find(kReserved) != std::string_view::npos) {
      return;
    }
  }
  names_.insert(base_ + std::string(name));
}

Result<std::vector<std::string>> ChildNames::Take() {
  if (names_.empty() && path_ != "/") return NotFound(path_ + ": no such directory");
  return std::vector<std::string>(names_.begin(), names_.end());
}

WalkTree::WalkTree(const std::string& path, std::string prefix, bool segmented)
    : path_(path),
      base_(path == "/" ? "" : path),
      prefix_(std::move(prefix)),
      segmented_(segmented) {}

void WalkTree::Add(const std::string& key, uint64_t size,
                   std::chrono::system_clock::time_point mod_time, bool restat) {
  std::string rel = key.substr(std::min(prefix_.size(), key.size()));
  bool is_sidecar = false;
  if (segmented_) {
    auto reserved = rel.find(kReserved);
    is_sidecar = EndsWith(rel, kSidecarSuffix) && reserved == rel.size() - kSidecarSuffix.size();
    if (reserved != std::string::npos && !is_sidecar) return;
    if (is_sidecar) rel.resize(rel.size() - kSidecarSuffix.size());
  }
  if (rel.empty()) return;
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    FileInfo d;
    d.path = base_ + "/" + rel.substr(0, slash);
    d.is_dir = true;
    entries_.emplace(WalkOrderKey(d.path), d);
  }
  FileInfo f;
  f.path = base_ + "/" + rel;
  f.size = size;
  f.mod_time = mod_time;
  if (is_sidecar) {
    // The listed size is the tail's: Stat knows the file's. A plain object wins (see Stat).
    if (entries_.count(WalkOrderKey(f.path)) == 0) {
      restat_.push_back(f.path);
      entries_.emplace(WalkOrderKey(f.path), std::move(f));
    }
    return;
  }
  if (restat) restat_.push_back(f.path);
  std::string order = WalkOrderKey(f.path);
  entries_[order] = std::move(f);
}

Status WalkTree::Visit(const std::function<Result<FileInfo>(const std::string&)>& stat,
                       const std::function<Status(const FileInfo&)>& visit) {
  if (entries_.empty() && path_ != "/") return NotFound(path_ + ": no such directory");
  for (const auto& p : restat_) {
    auto& e = entries_[WalkOrderKey(p)];
    if (e.is_dir) continue;
    auto st = stat(p);
    if (st.ok()) e = *st;
  }
  for (const auto& [k, fi] : entries_) {
    if (Status v = visit(fi); !v.ok()) return v;
  }
  return Status::Ok();
}

// ---- reading ----

Status CheckRangeLength(const std::string& what, uint64_t offset, uint64_t length, size_t got) {
  if (got == length) return Status::Ok();
  return Status(Code::kIOError, what + ": asked for " + std::to_string(length) + " bytes at " +
                                    std::to_string(offset) + ", got " + std::to_string(got));
}

WindowedReader::WindowedReader(FetchRange fetch, std::vector<Piece> pieces, uint64_t offset)
    : fetch_(std::move(fetch)), pieces_(std::move(pieces)), next_(offset) {}

WindowedReader::~WindowedReader() {
  if (ahead_.valid()) ahead_.wait();
}

Result<size_t> WindowedReader::Read(char* buf, size_t n) {
  if (at_ >= window_.size()) {
    if (!ahead_.valid()) ahead_ = Fetch();
    auto bytes = ahead_.get();
    if (!bytes.ok()) return bytes.status();
    window_ = std::move(*bytes);
    at_ = 0;
    if (window_.empty()) return size_t{0};
    ahead_ = Fetch();
  }
  size_t k = std::min(n, window_.size() - at_);
  std::copy_n(window_.data() + at_, k, buf);
  at_ += k;
  return k;
}

// The window that starts at next_ (empty at the end), fetched in the background.
std::future<Result<std::string>> WindowedReader::Fetch() {
  uint64_t start = 0;
  const Piece* piece = nullptr;
  for (const auto& p : pieces_) {
    if (next_ < start + p.size) {
      piece = &p;
      break;
    }
    start += p.size;
  }
  if (piece == nullptr) {
    std::promise<Result<std::string>> done;
    done.set_value(std::string());
    return done.get_future();
  }
  uint64_t in = next_ - start;
  uint64_t len = std::min<uint64_t>(kReadWindow, piece->size - in);
  next_ += len;
  return std::async(std::launch::async,
                    [fetch = fetch_, key = piece->key, in, len] { return fetch(key, in, len); });
}

std::vector<WindowedReader::Piece> SegmentedPieces(
    const Segmented& s, const std::function<std::string(uint64_t n)>& segment_key,
    const std::string& sidecar_key) {
  std::vector<WindowedReader::Piece> pieces;
  for (uint64_t i = 0; i < s.segments; ++i) pieces.push_back({segment_key(i), s.segment_size});
  pieces.push_back({sidecar_key, s.tail});
  return pieces;
}

Result<std::string> ReadAll(FileReader& r) {
  std::string out;
  std::vector<char> buf(1 << 20);
  while (true) {
    auto n = r.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

Status CopyObjectInto(const FetchRange& fetch, const std::string& key, uint64_t size,
                      FileWriter& w) {
  for (uint64_t off = 0; off < size; off += kReadWindow) {
    auto bytes = fetch(key, off, std::min<uint64_t>(kReadWindow, size - off));
    if (!bytes.ok()) return bytes.status();
    if (Status s = w.Write(bytes->data(), bytes->size()); !s.ok()) return s;
  }
  return Status::Ok();
}

// ---- writing ----

Status UploadQueue::Start(std::function<Status()> upload) {
  while (inflight_.size() >= std::max<size_t>(1, concurrency_)) {
    Status s = inflight_.front().get();
    inflight_.pop_front();
    if (!s.ok()) return s;
  }
  inflight_.push_back(std::async(std::launch::async, std::move(upload)));
  return Status::Ok();
}

Status UploadQueue::Drain() {
  Status first;
  while (!inflight_.empty()) {
    Status s = inflight_.front().get();
    inflight_.pop_front();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

SegmentedWriter::SegmentedWriter(SegmentStore* d, std::string key, Segmented state,
                                 uint64_t stored_tail)
    : d_(d),
      key_(std::move(key)),
      state_(std::move(state)),
      stored_tail_(stored_tail),
      uploads_(d->upload_concurrency()) {}

Status SegmentedWriter::Write(const char* data, size_t n) {
  if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
  if (!failed_.ok()) return failed_;
  if (stored_tail_ > 0) {
    auto tail = d_->GetRange(key_ + std::string(kSidecarSuffix), 0, stored_tail_);
    if (!tail.ok()) return tail.status();
    tail_ = std::move(*tail) + tail_;
    stored_tail_ = 0;
  }
  dirty_ = true;
  tail_.append(data, n);
  uint64_t seg = state_.segment_size;
  size_t used = 0;
  while (tail_.size() - used >= seg) {
    std::string chunk = tail_.substr(used, seg);
    used += seg;
    uint64_t number = state_.segments;
    Status s =
        uploads_.Start([d = d_, key = key_, gen = state_.gen, number, chunk = std::move(chunk)] {
          return d->PutSegment(key, gen, number, chunk);
        });
    if (!s.ok()) {
      failed_ = s;
      return s;
    }
    state_.segments++;
  }
  if (used > 0) tail_.erase(0, used);
  return Status::Ok();
}

uint64_t SegmentedWriter::size() const {
  return state_.segments * state_.segment_size + stored_tail_ + tail_.size();
}

Status SegmentedWriter::Flush() {
  if (Status s = Drain(); !s.ok()) return s;
  if (!dirty_) return Status::Ok();
  if (Status s = d_->PutSidecar(key_, state_, tail_); !s.ok()) return s;
  dirty_ = false;
  return Status::Ok();
}

Status SegmentedWriter::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  if (!failed_.ok()) {
    Drain();
    return failed_;
  }
  return Flush();
}

Status SegmentedWriter::Commit() {
  if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
  // Segments and sidecar are durable once stored; Move makes them one object.
  return Close();
}

Status SegmentedWriter::Cancel() {
  closed_ = true;
  Drain();
  auto r = d_->DeleteFile(key_);
  return r.ok() ? Status::Ok() : r.status();
}

Status SegmentedWriter::Drain() {
  Status first = uploads_.Drain();
  if (!first.ok() && failed_.ok()) failed_ = first;
  return first;
}

}  // namespace dtr::storage::objstore
