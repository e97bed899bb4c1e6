// What the object-store drivers (S3, Swift, Azure) share, so that each keeps only its
// protocol: driver paths mapped to keys below a root, a listing turned into a folder's
// children or into a depth-first walk, readers that fetch ranged windows ahead, the
// bookkeeping of chunks uploaded in the background, and the writer of uploads kept as
// segments plus a sidecar (S3 and Swift; see s3_driver.h for that layout).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/blob_driver.h"
#include "storage/object_http.h"

namespace dtr::storage::objstore {

// Names holding kReserved belong to the segmented layout (sidecars and segments).
inline constexpr std::string_view kReserved = "#dtr.";
inline constexpr std::string_view kSidecarSuffix = "#dtr.writer";
// Bytes a reader asks for in one ranged GET.
inline constexpr uint64_t kReadWindow = 4u << 20;

// The key of `path` below `root` ("" or "a/b", no '/' at either end); "/" is the root.
std::string KeyFor(const std::string& root, const std::string& path);
// Checks `path` (absolute; no empty, "." or ".." component; no trailing '/'; with
// `reserve`, nothing holding kReserved) and maps it with KeyFor.
Result<std::string> CheckedKey(const std::string& root, const std::string& path, bool reserve);
// What the keys of a folder's content start with: "key/", "" for an unprefixed root.
std::string DirPrefix(const std::string& key);
bool EndsWith(std::string_view s, std::string_view suffix);
// 16 random hex digits (upload generations, writer ids).
std::string RandomId();
// `n` as 10 zero-padded digits, so that names sort in number order.
std::string Padded(uint64_t n);

// An upload in progress stored as whole segments plus a sidecar holding the tail.
struct Segmented {
  std::string gen;
  uint64_t segments = 0;      // whole segments stored
  uint64_t segment_size = 0;  // bytes in each
  uint64_t tail = 0;          // bytes in the sidecar's body
  std::chrono::system_clock::time_point mod_time;
  uint64_t size() const { return segments * segment_size + tail; }
};

// The sidecar's metadata headers; `meta` is the store's user-metadata prefix
// ("x-amz-meta-", "X-Object-Meta-").
HttpHeaders SidecarHeaders(const std::string& meta, const Segmented& s);
// The upload state that a sidecar's HEAD reply describes; kCorruption, naming `what`, when
// its metadata is missing.
Result<Segmented> SidecarState(const HttpReply& r, const std::string& meta,
                               const std::string& what);

// The direct children of the folder `path` from a listing of its DirPrefix (delimited or
// not). With `segmented`, a sidecar stands for its file and other reserved names are hidden.
class ChildNames {
 public:
  ChildNames(const std::string& path, std::string prefix, bool segmented);
  // A key or common prefix that the listing gave.
  void Add(std::string_view listed);
  // Full paths, sorted; kNotFound when there are none (unless `path` is the root).
  Result<std::vector<std::string>> Take();

 private:
  std::string path_;
  std::string base_;
  std::string prefix_;
  bool segmented_;
  std::set<std::string> names_;
};

// Everything below `path` from a recursive listing of its DirPrefix, visited depth first
// in sorted order, folders included. With `segmented`, as in ChildNames; a plain object
// wins over an upload at the same path.
class WalkTree {
 public:
  WalkTree(const std::string& path, std::string prefix, bool segmented);
  // An object the listing gave. `restat`: its listed size is not the file's (a large
  // object's manifest), Visit asks `stat` instead.
  void Add(const std::string& key, uint64_t size, std::chrono::system_clock::time_point mod_time,
           bool restat = false);
  // kNotFound when nothing was listed (unless `path` is the root); else visits each entry,
  // and a visitor's error stops the walk.
  Status Visit(const std::function<Result<FileInfo>(const std::string&)>& stat,
               const std::function<Status(const FileInfo&)>& visit);

 private:
  std::string path_;
  std::string base_;
  std::string prefix_;
  bool segmented_;
  std::map<std::string, FileInfo> entries_;  // by a key that sorts depth first
  std::vector<std::string> restat_;
};

// Fetches `length` bytes of object `key` from `offset`.
using FetchRange =
    std::function<Result<std::string>(const std::string& key, uint64_t offset, uint64_t length)>;

// The error for a ranged GET answered with the wrong number of bytes ("" when right).
Status CheckRangeLength(const std::string& what, uint64_t offset, uint64_t length, size_t got);

// A file made of consecutive objects, read a window at a time with ranged GETs, the next
// window fetched while the caller consumes the current one.
class WindowedReader : public FileReader {
 public:
  struct Piece {
    std::string key;
    uint64_t size;
  };
  WindowedReader(FetchRange fetch, std::vector<Piece> pieces, uint64_t offset);
  ~WindowedReader() override;
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  std::future<Result<std::string>> Fetch();

  FetchRange fetch_;
  std::vector<Piece> pieces_;
  uint64_t next_;  // where the window after the current one starts
  std::string window_;
  size_t at_ = 0;
  std::future<Result<std::string>> ahead_;
};

// The pieces of an upload in progress: its segments, then the sidecar's tail.
std::vector<WindowedReader::Piece> SegmentedPieces(
    const Segmented& s, const std::function<std::string(uint64_t n)>& segment_key,
    const std::string& sidecar_key);

// Reads a whole file.
Result<std::string> ReadAll(FileReader& r);
// Copies the `size` bytes of object `key` into `w`, a window at a time.
Status CopyObjectInto(const FetchRange& fetch, const std::string& key, uint64_t size,
                      FileWriter& w);

// Uploads running in the background, at most `concurrency` at once.
class UploadQueue {
 public:
  explicit UploadQueue(int concurrency) : concurrency_(concurrency) {}
  ~UploadQueue() { Drain(); }
  // Starts `upload` once fewer than `concurrency` run; the failure of one waited for.
  Status Start(std::function<Status()> upload);
  // Waits for every upload; the first failure.
  Status Drain();

 private:
  size_t concurrency_;
  std::deque<std::future<Status>> inflight_;
};

// What SegmentedWriter needs from its driver.
class SegmentStore {
 public:
  virtual ~SegmentStore() = default;
  virtual Result<std::string> GetRange(const std::string& key, uint64_t offset,
                                       uint64_t length) = 0;
  // Stores segment `n` of the upload at `key` (generation `gen`).
  virtual Status PutSegment(const std::string& key, const std::string& gen, uint64_t n,
                            std::string_view bytes) = 0;
  virtual Status PutSidecar(const std::string& key, const Segmented& s, std::string_view tail) = 0;
  // Removes every form of the file at `key`; true if any existed.
  virtual Result<bool> DeleteFile(const std::string& key) = 0;
  virtual int upload_concurrency() const = 0;
};

// Appends whole chunks as segment objects (upload_concurrency of them in flight) and keeps
// the rest in memory until Close/Commit stores it as the sidecar's body.
class SegmentedWriter : public FileWriter {
 public:
  // `stored_tail` bytes of the sidecar's body are fetched when the first Write needs them,
  // so that opening to commit (the registry's last step) transfers nothing.
  SegmentedWriter(SegmentStore* d, std::string key, Segmented state, uint64_t stored_tail);
  ~SegmentedWriter() override { Drain(); }

  Status Write(const char* data, size_t n) override;
  uint64_t size() const override;
  // Stores what was written (waits for the segments, then writes the sidecar) and keeps the
  // writer open.
  Status Flush();
  Status Close() override;
  Status Commit() override;
  Status Cancel() override;

 private:
  Status Drain();

  SegmentStore* d_;
  std::string key_;
  Segmented state_;
  uint64_t stored_tail_;
  std::string tail_;
  bool dirty_ = false;
  bool closed_ = false;
  Status failed_;
  UploadQueue uploads_;
};

}  // namespace dtr::storage::objstore
