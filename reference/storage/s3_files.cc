// The S3 driver's readers and writers (see s3_driver.h for the object layout).
#include <algorithm>
#include <deque>
#include <future>

#include "storage/s3_driver.h"

namespace dtr::storage {

namespace {

constexpr uint64_t kReadWindow = 4u << 20;

// Reads a file made of consecutive objects (one for a plain object; segments then the
// sidecar's tail for an upload), a window at a time with ranged GETs, fetching the next
// window while the caller consumes the current one.
class S3Reader : public FileReader {
 public:
  struct Piece {
    std::string key;
    uint64_t size;
  };
  S3Reader(S3Driver* d, std::vector<Piece> pieces, uint64_t offset)
      : d_(d), pieces_(std::move(pieces)), next_(offset) {}

  ~S3Reader() override {
    if (ahead_.valid()) ahead_.wait();
  }

  Result<size_t> Read(char* buf, size_t n) override {
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

 private:
  // The window that starts at next_ (empty at the end), fetched in the background.
  std::future<Result<std::string>> Fetch() {
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
    S3Driver* d = d_;
    std::string key = piece->key;
    return std::async(std::launch::async, [d, key, in, len] { return d->GetRange(key, in, len); });
  }

  S3Driver* d_;
  std::vector<Piece> pieces_;
  uint64_t next_;  // where the window after the current one starts
  std::string window_;
  size_t at_ = 0;
  std::future<Result<std::string>> ahead_;
};

// Appends whole chunks as segment objects (uploadconcurrency of them in flight) and keeps
// the rest in memory until Close/Commit stores it as the sidecar's body.
class S3Writer : public FileWriter {
 public:
  // `stored_tail` bytes of the sidecar's body are fetched when the first Write needs them,
  // so that opening to commit (the registry's last step) transfers nothing.
  S3Writer(S3Driver* d, std::string path, std::string key, S3Driver::Segmented state,
           uint64_t stored_tail)
      : d_(d),
        path_(std::move(path)),
        key_(std::move(key)),
        state_(std::move(state)),
        stored_tail_(stored_tail) {}

  ~S3Writer() override { Drain(); }

  Status Write(const char* data, size_t n) override {
    if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
    if (!failed_.ok()) return failed_;
    if (stored_tail_ > 0) {
      auto tail = d_->GetRange(S3Driver::SidecarKey(key_), 0, stored_tail_);
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
      if (Status s = Launch(std::move(chunk)); !s.ok()) {
        failed_ = s;
        return s;
      }
    }
    if (used > 0) tail_.erase(0, used);
    return Status::Ok();
  }

  uint64_t size() const override {
    return state_.segments * state_.segment_size + stored_tail_ + tail_.size();
  }

  // Stores what was written (waits for the segments, then writes the sidecar) and keeps the
  // writer open.
  Status Flush() {
    if (Status s = Drain(); !s.ok()) return s;
    if (!dirty_) return Status::Ok();
    if (Status s = d_->PutSidecar(key_, state_, tail_); !s.ok()) return s;
    dirty_ = false;
    return Status::Ok();
  }

  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    if (!failed_.ok()) {
      Drain();
      return failed_;
    }
    return Flush();
  }

  Status Commit() override {
    if (closed_) return Status(Code::kFailedPrecondition, "writer is closed");
    // Segments and sidecar are durable once stored; Move assembles them into one object.
    return Close();
  }

  Status Cancel() override {
    closed_ = true;
    Drain();
    auto r = d_->DeleteFile(key_);
    return r.ok() ? Status::Ok() : r.status();
  }

 private:
  Status Launch(std::string chunk) {
    while (inflight_.size() >= static_cast<size_t>(d_->upload_concurrency())) {
      Status s = inflight_.front().get();
      inflight_.pop_front();
      if (!s.ok()) return s;
    }
    std::string key = S3Driver::SegmentKey(key_, state_.gen, state_.segments);
    state_.segments++;
    S3Driver* d = d_;
    inflight_.push_back(std::async(std::launch::async, [d, key, chunk = std::move(chunk)] {
      return d->PutObject("PutObject(upload segment)", key, chunk);
    }));
    return Status::Ok();
  }

  // Waits for every segment in flight; the first failure.
  Status Drain() {
    Status first;
    while (!inflight_.empty()) {
      Status s = inflight_.front().get();
      inflight_.pop_front();
      if (first.ok() && !s.ok()) first = s;
    }
    if (!first.ok() && failed_.ok()) failed_ = first;
    return first;
  }

  S3Driver* d_;
  std::string path_;
  std::string key_;
  S3Driver::Segmented state_;
  uint64_t stored_tail_;
  std::string tail_;
  bool dirty_ = false;
  bool closed_ = false;
  Status failed_;
  std::deque<std::future<Status>> inflight_;
};

}  // namespace

Result<std::unique_ptr<FileReader>> S3Driver::Reader(const std::string& path, uint64_t offset) {
  if (path == "/") return NotFound(path + " is not a file");
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::vector<S3Reader::Piece> pieces;
  uint64_t size = 0;
  auto plain = HeadObject(*key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    size = (*plain)->size;
    pieces.push_back({*key, size});
  } else {
    auto seg = HeadSegmented(*key);
    if (!seg.ok()) return seg.status();
    if (!seg->has_value()) return NotFound(path + ": no such file");
    const Segmented& s = **seg;
    for (uint64_t i = 0; i < s.segments; ++i) {
      pieces.push_back({SegmentKey(*key, s.gen, i), s.segment_size});
    }
    pieces.push_back({SidecarKey(*key), s.tail});
    size = s.size();
  }
  if (offset > size) {
    return Status(Code::kOutOfRange,
                  "offset " + std::to_string(offset) + " is past the end of " + path);
  }
  return std::unique_ptr<FileReader>(new S3Reader(this, std::move(pieces), offset));
}

Result<std::unique_ptr<FileWriter>> S3Driver::Writer(const std::string& path, bool append) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  Segmented fresh;
  fresh.gen = NewGeneration();
  fresh.segment_size = chunk_size();
  if (!append) {
    if (auto r = DeleteFile(*key); !r.ok()) return r.status();
    if (Status s = PutSidecar(*key, fresh, ""); !s.ok()) return s;
    return std::unique_ptr<FileWriter>(new S3Writer(this, path, *key, fresh, 0));
  }
  auto plain = HeadObject(*key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    // Appending to a finished object: copy it into a new upload, then drop the object.
    auto w = std::make_unique<S3Writer>(this, path, *key, fresh, 0);
    uint64_t size = (*plain)->size;
    for (uint64_t off = 0; off < size; off += kReadWindow) {
      auto bytes = GetRange(*key, off, std::min<uint64_t>(kReadWindow, size - off));
      if (!bytes.ok()) return bytes.status();
      if (Status s = w->Write(bytes->data(), bytes->size()); !s.ok()) return s;
    }
    if (Status s = w->Flush(); !s.ok()) return s;
    if (Status s = DeleteKeys({*key}); !s.ok()) return s;
    return std::unique_ptr<FileWriter>(std::move(w));
  }
  auto seg = HeadSegmented(*key);
  if (!seg.ok()) return seg.status();
  if (!seg->has_value()) return NotFound(path + ": no such file");
  return std::unique_ptr<FileWriter>(new S3Writer(this, path, *key, **seg, (*seg)->tail));
}

}  // namespace dtr::storage
