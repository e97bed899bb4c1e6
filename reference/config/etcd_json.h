// The etcd v3 JSON gateway's wire format (etcd 3.4: /v3/kv/range, /v3/kv/put,
// /v3/kv/deleterange, /v3/kv/txn, /v3/watch): request bodies to send and parsers for what comes
// back. Pure (no I/O), so the parsers can be fuzzed. Keys and values travel base64-encoded;
// 64-bit integers travel as JSON strings; fields at their zero value are left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::config::etcd {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
};

struct RangeResponse {
  int64_t revision = 0;  // the store's revision the range was read at
  std::vector<KeyValue> kvs;
  bool more = false;
};

struct WriteResponse {  // put and deleterange
  int64_t revision = 0;
  int64_t deleted = 0;
};

struct TxnResponse {
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<RangeResponse> ranges;  // the branch's range results, in order
};

struct WatchEvent {
  bool deleted = false;
  KeyValue kv;
};

// One message of a watch stream.
struct WatchMessage {
  int64_t revision = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

// Request bodies. `range_end` "" means the single key `key`; a prefix scan passes
// PrefixEnd(prefix), and everything is key "\0" with range_end "\0".
std::string RangeRequest(std::string_view key, std::string_view range_end);
std::string PutRequest(std::string_view key, std::string_view value);
std::string DeleteRangeRequest(std::string_view key);
// A transaction: if the key's mod_revision equals `expected` (0: the key does not exist) then
// put `value` (or delete the key when `value` is nullopt), else read the key.
std::string CompareAndSwapRequest(std::string_view key, int64_t expected,
                                  std::optional<std::string_view> value);
// start_revision 0: from the next revision.
std::string WatchCreateRequest(std::string_view key, std::string_view range_end,
                               int64_t start_revision);

// Parsers for 200 answers. A malformed body is kIOError naming what was wrong.
Result<RangeResponse> ParseRange(std::string_view body);
Result<WriteResponse> ParseWrite(std::string_view body);
Result<TxnResponse> ParseTxn(std::string_view body);
// A watch message: {"result": {...}}, or {"error": ...} turned into its Status.
Result<WatchMessage> ParseWatchMessage(std::string_view message);

// The Status for a failed answer: the gateway's {"error","code","message"} (a gRPC code) when
// the body holds one, else the HTTP status.
Status ErrorFromResponse(int http_status, std::string_view body);

// True when etcd refused the request before proposing it to raft, so a write can be retried
// without risk of applying it twice.
bool RejectedBeforeProposal(const Status& s);

// Splits a stream of concatenated JSON values (a watch response) into whole values, however
// the bytes arrive.
class JsonStreamSplitter {
 public:
  void Feed(std::string_view data);
  // The next complete top-level value, if one has arrived.
  std::optional<std::string> Next();
  size_t buffered() const { return buf_.size() - start_; }

 private:
  std::string buf_;
  size_t start_ = 0;  // where the current value begins
  size_t pos_ = 0;    // how far the scan has got
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool in_scalar_ = false;  // a top-level value that is not an object or array
};

}  // namespace dtr::config::etcd
