// ConfigStore: DTR's configuration store (the role of dtr-etcd). A versioned key/value store
// with compare-and-swap and watch, so that every replica and component agrees on settings and
// learns of a change without a restart.
//
// Versions are store-wide revisions, as in etcd: every write (put or delete) gets the next
// revision of the whole store, and a key's version is the revision of its last write (etcd's
// mod_revision). So versions of one key only grow, versions of different keys are comparable,
// and "List at revision R, then Watch from R + 1" sees every later change exactly once.
//
// Keys are non-empty byte strings of at most kMaxKeyBytes; values are byte strings (empty
// allowed) of at most kMaxValueBytes. Both may hold any byte. Listing order is bytewise.
//
// Errors: kNotFound (no such key), kFailedPrecondition (a compare-and-swap or conditional
// delete lost), kInvalidArgument (bad key), kTooLarge (value over the limit), kUnavailable (the
// backend did not answer, or a write's outcome is unknown because the connection broke after it
// was sent; re-read before retrying a conditional write), kOutOfRange (a watch asked for history
// the store has compacted away).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::config {

inline constexpr size_t kMaxKeyBytes = 4096;
inline constexpr size_t kMaxValueBytes = 1 << 20;

struct ConfigEntry {
  std::string key;
  std::string value;
  int64_t version = 0;  // the revision of the key's last write
};

// A consistent snapshot of every key under a prefix.
struct ConfigListing {
  std::vector<ConfigEntry> entries;  // sorted by key, bytewise
  int64_t revision = 0;              // the store's revision the snapshot was taken at
};

struct ConfigChange {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;    // empty for a delete
  int64_t version = 0;  // the revision of this change
};

// Called on the watch's own thread, one change at a time, in revision order.
using WatchCallback = std::function<void(const ConfigChange&)>;
// Called at most once, when a watch ends by itself (never after Cancel): kOutOfRange when the
// history it needs was compacted, so the caller must re-List and watch again.
using WatchEndCallback = std::function<void(const Status&)>;

// A running watch. Destroying it cancels it.
class ConfigWatch {
 public:
  virtual ~ConfigWatch() = default;
  // Stops delivery: once it returns, no callback is running or will run. Called from inside
  // the watch's own callback, it stops delivery after that callback returns.
  virtual void Cancel() = 0;
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // Returns the key's value and version, or kNotFound.
  virtual Result<ConfigEntry> Get(std::string_view key) = 0;

  // Sets the key unconditionally and returns its new version.
  virtual Result<int64_t> Put(std::string_view key, std::string_view value) = 0;

  // Sets the key only if its version is `expected_version` (0: only if the key does not exist)
  // and returns the new version; otherwise kFailedPrecondition, with the key's current version
  // (0: absent) in `*current_version` when that is given.
  virtual Result<int64_t> CompareAndSwap(std::string_view key, int64_t expected_version,
                                         std::string_view value,
                                         int64_t* current_version = nullptr) = 0;

  // Removes the key (only if its version is `expected_version`, when given) and returns the
  // revision of the removal; kNotFound if it does not exist, kFailedPrecondition on a version
  // mismatch.
  virtual Result<int64_t> Delete(std::string_view key,
                                 std::optional<int64_t> expected_version = std::nullopt) = 0;

  // Returns every key that starts with `prefix` ("" lists everything), sorted, at one revision.
  virtual Result<ConfigListing> List(std::string_view prefix) = 0;

  // Delivers every change to keys under `prefix` with a version >= `from_version`, in order and
  // each exactly once, until cancelled; `from_version` 0 means changes made after Watch
  // returns. Backends that lose their connection resume from the last delivered revision. The
  // store must outlive the watch.
  virtual Result<std::unique_ptr<ConfigWatch>> Watch(std::string_view prefix, int64_t from_version,
                                                     WatchCallback on_change,
                                                     WatchEndCallback on_end = nullptr) = 0;

  // Names the backend and where it is, for logs.
  virtual std::string Describe() const = 0;
};

// Checks a key and a value against the limits above; every implementation calls these first.
Status ValidateKey(std::string_view key);
Status ValidateValue(std::string_view value);

// The smallest key greater than every key that starts with `prefix`; "" when there is none
// (the prefix is empty or all 0xff bytes). etcd's range_end for a prefix is exactly this.
std::string PrefixEnd(std::string_view prefix);

// Opens a store by name: "sqlite:PATH" (the embedded default: a SQLite file) or
// "etcd:URL[,URL...]" (an etcd v3 cluster's client URLs, e.g.
// "etcd:http://127.0.0.1:2379,http://127.0.0.1:22379").
Result<std::unique_ptr<ConfigStore>> OpenConfigStore(std::string_view spec);

}  // namespace dtr::config
