// The Swift driver's readers and writers (see swift_driver.h for the object layout).
#include "storage/swift_driver.h"

namespace dtr::storage {

namespace {

using objstore::WindowedReader;

}  // namespace

Result<std::unique_ptr<FileReader>> SwiftDriver::Reader(const std::string& path, uint64_t offset) {
  if (path == "/") return NotFound(path + " is not a file");
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  std::vector<WindowedReader::Piece> pieces;
  uint64_t size = 0;
  auto plain = HeadObject(*key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    // A large object reads through its manifest like a plain object.
    size = (*plain)->size;
    pieces.push_back({*key, size});
  } else {
    auto seg = HeadSegmented(*key);
    if (!seg.ok()) return seg.status();
    if (!seg->has_value()) return NotFound(path + ": no such file");
    const Segmented& s = **seg;
    pieces = objstore::SegmentedPieces(
        s, [&](uint64_t i) { return SegmentKey(s.gen, i); }, SidecarKey(*key));
    size = s.size();
  }
  if (offset > size) {
    return Status(Code::kOutOfRange,
                  "offset " + std::to_string(offset) + " is past the end of " + path);
  }
  return std::unique_ptr<FileReader>(new WindowedReader(
      [this](const std::string& k, uint64_t at, uint64_t n) { return GetRange(k, at, n); },
      std::move(pieces), offset));
}

Result<std::unique_ptr<FileWriter>> SwiftDriver::Writer(const std::string& path, bool append) {
  auto key = CheckedKey(path);
  if (!key.ok()) return key.status();
  if (path == "/") return InvalidArgument("cannot write the storage root");
  Segmented fresh;
  fresh.gen = objstore::RandomId();
  fresh.segment_size = chunk_size();
  if (!append) {
    if (auto r = DeleteFile(*key); !r.ok()) return r.status();
    if (Status s = PutSidecar(*key, fresh, ""); !s.ok()) return s;
    return std::unique_ptr<FileWriter>(new objstore::SegmentedWriter(this, *key, fresh, 0));
  }
  auto plain = HeadObject(*key);
  if (!plain.ok()) return plain.status();
  if (plain->has_value()) {
    // Appending to a finished object: copy it into a new upload, then drop the object.
    if (Status s = PutSidecar(*key, fresh, ""); !s.ok()) return s;
    auto w = std::make_unique<objstore::SegmentedWriter>(this, *key, fresh, 0);
    auto fetch = [this](const std::string& k, uint64_t at, uint64_t n) {
      return GetRange(k, at, n);
    };
    if (Status s = objstore::CopyObjectInto(fetch, *key, (*plain)->size, *w); !s.ok()) return s;
    if (Status s = w->Flush(); !s.ok()) return s;
    if (Status s = DeleteObject(*key, (*plain)->slo); !s.ok()) return s;
    return std::unique_ptr<FileWriter>(std::move(w));
  }
  auto seg = HeadSegmented(*key);
  if (!seg.ok()) return seg.status();
  if (!seg->has_value()) return NotFound(path + ": no such file");
  return std::unique_ptr<FileWriter>(
      new objstore::SegmentedWriter(this, *key, **seg, (*seg)->tail));
}

}  // namespace dtr::storage
