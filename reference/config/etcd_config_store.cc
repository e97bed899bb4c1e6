#include "config/etcd_config_store.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

#include "config/etcd_json.h"
#include "config/watch_thread.h"

namespace dtr::config {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How a failed try ended, which decides whether another member may be tried.
enum class Outcome {
  kAnswered,   // etcd answered; its answer stands
  kNotSent,    // the request certainly had no effect: try elsewhere
  kMaybeSent,  // the request may have taken effect
};

std::string Reason(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "connection lost or timed out while reading the answer";
    case httplib::Error::Write:
      return "connection lost or timed out while sending";
    default:
      return httplib::to_string(e);
  }
}

bool NotSent(httplib::Error e) {
  return e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout ||
         e == httplib::Error::SSLConnection || e == httplib::Error::BindIPAddress;
}

// etcd's range for a prefix: "" is every key ("\0" to "\0"), and a prefix with no end (all
// 0xff bytes) runs to the end of the keyspace ("\0" as range_end).
std::pair<std::string, std::string> PrefixRange(std::string_view prefix) {
  const std::string zero(1, '\0');
  if (prefix.empty()) return {zero, zero};
  std::string end = PrefixEnd(prefix);
  return {std::string(prefix), end.empty() ? zero : end};
}

std::pair<time_t, time_t> SecUsec(milliseconds d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<time_t>((d.count() % 1000) * 1000)};
}

}  // namespace

struct EtcdConfigStore::WatchStream {
  std::string key;
  std::string range_end;
  int64_t next = 0;  // the revision the watch resumes from
  WatchCallback on_change;
  WatchEndCallback on_end;

  // The connection in use, so that Cancel can abort a blocked read.
  std::mutex mu;
  std::condition_variable cv;
  httplib::Client* client = nullptr;
};

EtcdConfigStore::EtcdConfigStore(EtcdOptions options)
    : options_(std::move(options)), idle_(options_.endpoints.size()) {}

EtcdConfigStore::~EtcdConfigStore() = default;

Result<std::unique_ptr<EtcdConfigStore>> EtcdConfigStore::Open(EtcdOptions options) {
  if (options.endpoints.empty()) return InvalidArgument("etcd: no endpoints given");
  for (auto& e : options.endpoints) {
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
      return InvalidArgument("etcd endpoint \"" + e + "\" is not an http:// or https:// URL");
    }
  }
  if (options.request_timeout.count() <= 0 || options.operation_timeout.count() <= 0 ||
      options.connect_timeout.count() <= 0 || options.watch_idle_timeout.count() <= 0) {
    return InvalidArgument("etcd: timeouts must be positive");
  }
  return std::unique_ptr<EtcdConfigStore>(new EtcdConfigStore(std::move(options)));
}

std::string EtcdConfigStore::Describe() const {
  std::string out = "etcd configuration store (";
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    out += (i ? ", " : "") + options_.endpoints[i];
  }
  return out + ")";
}

EtcdStats EtcdConfigStore::stats() const {
  return EtcdStats{requests_.load(), failovers_.load(), watch_reconnects_.load()};
}

std::unique_ptr<httplib::Client> EtcdConfigStore::NewClient(size_t endpoint,
                                                            milliseconds read_timeout) const {
  auto c = std::make_unique<httplib::Client>(options_.endpoints[endpoint]);
  auto [cs, cus] = SecUsec(options_.connect_timeout);
  auto [rs, rus] = SecUsec(read_timeout);
  auto [ws, wus] = SecUsec(options_.request_timeout);
  c->set_connection_timeout(cs, cus);
  c->set_read_timeout(rs, rus);
  c->set_write_timeout(ws, wus);
  c->set_keep_alive(true);
  c->set_follow_location(false);
  return c;
}

std::unique_ptr<httplib::Client> EtcdConfigStore::Acquire(size_t endpoint) {
  {
    std::lock_guard lock(pool_mu_);
    auto& idle = idle_[endpoint];
    if (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      return c;
    }
  }
  return NewClient(endpoint, options_.request_timeout);
}

void EtcdConfigStore::Release(size_t endpoint, std::unique_ptr<httplib::Client> c) {
  std::lock_guard lock(pool_mu_);
  if (idle_[endpoint].size() < 16) idle_[endpoint].push_back(std::move(c));
}

Result<std::string> EtcdConfigStore::Call(const char* path, const std::string& body, Retry retry,
                                          bool* maybe_applied) {
  if (maybe_applied != nullptr) *maybe_applied = false;
  const size_t n = options_.endpoints.size();
  auto start = Clock::now();
  auto deadline = start + options_.operation_timeout;
  size_t ep = preferred_.load() % n;
  milliseconds pause(20);
  Status last;
  for (size_t tries = 1;; ++tries) {
    ++requests_;
    auto client = Acquire(ep);
    auto res = client->Post(path, body, "application/json");
    Outcome outcome;
    if (!res) {
      outcome = NotSent(res.error()) ? Outcome::kNotSent : Outcome::kMaybeSent;
      last = Status(Code::kUnavailable,
                    "etcd member " + options_.endpoints[ep] + ": " + Reason(res.error()));
    } else if (res->status == 200) {
      Release(ep, std::move(client));
      preferred_.store(ep);
      return std::move(res->body);
    } else {
      Release(ep, std::move(client));
      last = etcd::ErrorFromResponse(res->status, res->body);
      if (!last.is(Code::kUnavailable)) return last;
      // No leader, a timed-out proposal, a member shutting down: another member may do better.
      outcome = etcd::RejectedBeforeProposal(last) ? Outcome::kNotSent : Outcome::kMaybeSent;
      last = Status(Code::kUnavailable,
                    "etcd member " + options_.endpoints[ep] + ": " + last.message());
    }
    if (outcome == Outcome::kMaybeSent) {
      if (maybe_applied != nullptr) *maybe_applied = true;
      if (retry == Retry::kIfNotSent) {
        return Status(Code::kUnavailable,
                      last.message() + "; the outcome of the write is unknown (re-read it)");
      }
    }
    if (Clock::now() >= deadline) {
      auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
      return Status(Code::kUnavailable, "etcd unavailable after " + std::to_string(tries) +
                                            " tries in " + std::to_string(ms) +
                                            " ms; last: " + last.message());
    }
    ++failovers_;
    ep = (ep + 1) % n;
    if (tries % n == 0) {
      // Every member failed once: wait a little (an election takes a few heartbeats).
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      std::this_thread::sleep_for(std::max(milliseconds(0), std::min(pause, left)));
      pause = std::min(pause * 2, milliseconds(500));
    }
  }
}

Result<ConfigEntry> EtcdConfigStore::Get(std::string_view key) {
  if (Status s = ValidateKey(key); !s.ok()) return s;
  auto body = Call("/v3/kv/range", etcd::RangeRequest(key, ""), Retry::kAlways);
  if (!body.ok()) return body.status();
  auto r = etcd::ParseRange(*body);
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return NotFound("configuration key \"" + std::string(key) + "\" not found");
  auto& kv = r->kvs.front();
  return ConfigEntry{std::move(kv.key), std::move(kv.value), kv.mod_revision};
}

Result<int64_t> EtcdConfigStore::Put(std::string_view key, std::string_view value) {
  if (Status s = ValidateKey(key); !s.ok()) return s;
  if (Status s = ValidateValue(value); !s.ok()) return s;
  // Repeating a put leaves the same value (with one more revision), so it is always retried.
  auto body = Call("/v3/kv/put", etcd::PutRequest(key, value), Retry::kAlways);
  if (!body.ok()) return body.status();
  auto r = etcd::ParseWrite(*body);
  if (!r.ok()) return r.status();
  return r->revision;
}

Result<int64_t> EtcdConfigStore::CompareAndSwap(std::string_view key, int64_t expected_version,
                                                std::string_view value, int64_t* current_version) {
  if (Status s = ValidateValue(value); !s.ok()) return s;
  return ConditionalWrite(key, expected_version, value, current_version);
}

Result<int64_t> EtcdConfigStore::Delete(std::string_view key,
                                        std::optional<int64_t> expected_version) {
  if (Status s = ValidateKey(key); !s.ok()) return s;
  std::string name = "configuration key \"" + std::string(key) + "\"";
  if (expected_version) {
    if (*expected_version != 0)
      return ConditionalWrite(key, *expected_version, std::nullopt, nullptr);
    // "Delete only if absent" deletes nothing: say why.
    auto cur = Get(key);
    if (!cur.ok()) return cur.status();
    return Status(Code::kFailedPrecondition,
                  name + " is at version " + std::to_string(cur->version) + ", not 0");
  }
  bool maybe_applied = false;
  auto body =
      Call("/v3/kv/deleterange", etcd::DeleteRangeRequest(key), Retry::kAlways, &maybe_applied);
  if (!body.ok()) return body.status();
  auto r = etcd::ParseWrite(*body);
  if (!r.ok()) return r.status();
  // After a lost answer, nothing to delete most likely means our first try deleted it.
  if (r->deleted == 0 && !maybe_applied) return NotFound(name + " not found");
  return r->revision;
}

Result<int64_t> EtcdConfigStore::ConditionalWrite(std::string_view key, int64_t expected,
                                                  std::optional<std::string_view> value,
                                                  int64_t* current) {
  if (Status s = ValidateKey(key); !s.ok()) return s;
  auto body =
      Call("/v3/kv/txn", etcd::CompareAndSwapRequest(key, expected, value), Retry::kIfNotSent);
  if (!body.ok()) return body.status();
  auto r = etcd::ParseTxn(*body);
  if (!r.ok()) return r.status();
  if (r->succeeded) return r->revision;
  int64_t now = 0;
  if (!r->ranges.empty() && !r->ranges.front().kvs.empty()) {
    now = r->ranges.front().kvs.front().mod_revision;
  }
  std::string name = "configuration key \"" + std::string(key) + "\"";
  if (!value && now == 0) return NotFound(name + " not found");
  if (current != nullptr) *current = now;
  return Status(Code::kFailedPrecondition, name + " is at version " + std::to_string(now) +
                                               ", not " + std::to_string(expected));
}

Result<ConfigListing> EtcdConfigStore::List(std::string_view prefix) {
  auto [key, end] = PrefixRange(prefix);
  auto body = Call("/v3/kv/range", etcd::RangeRequest(key, end), Retry::kAlways);
  if (!body.ok()) return body.status();
  auto r = etcd::ParseRange(*body);
  if (!r.ok()) return r.status();
  ConfigListing out;
  out.revision = r->revision;
  out.entries.reserve(r->kvs.size());
  for (auto& kv : r->kvs) {
    out.entries.push_back(ConfigEntry{std::move(kv.key), std::move(kv.value), kv.mod_revision});
  }
  return out;
}

Result<std::unique_ptr<ConfigWatch>> EtcdConfigStore::Watch(std::string_view prefix,
                                                            int64_t from_version,
                                                            WatchCallback on_change,
                                                            WatchEndCallback on_end) {
  if (!on_change) return InvalidArgument("a watch needs a callback");
  auto w = std::make_shared<WatchStream>();
  std::tie(w->key, w->range_end) = PrefixRange(prefix);
  w->on_change = std::move(on_change);
  w->on_end = std::move(on_end);
  w->next = from_version;
  if (w->next <= 0) {
    // Pin "from now" to a revision, so reconnects cannot skip or repeat anything.
    auto body = Call("/v3/kv/range", etcd::RangeRequest(std::string(1, '\0'), ""), Retry::kAlways);
    if (!body.ok()) return body.status();
    auto r = etcd::ParseRange(*body);
    if (!r.ok()) return r.status();
    w->next = r->revision + 1;
  }
  auto loop = [this, w](const WatchControl& control) { WatchLoop(*w, control); };
  auto interrupt = [w] {
    std::lock_guard lock(w->mu);
    if (w->client != nullptr) w->client->stop();
    w->cv.notify_all();
  };
  return std::unique_ptr<ConfigWatch>(new WatchThread(std::move(loop), std::move(interrupt)));
}

void EtcdConfigStore::WatchLoop(WatchStream& w, const WatchControl& control) {
  const size_t n = options_.endpoints.size();
  size_t ep = preferred_.load() % n;
  milliseconds pause = options_.watch_retry_interval;
  for (bool first = true; !control.cancelled(); first = false) {
    if (!first) {
      ++watch_reconnects_;
      std::unique_lock lock(w.mu);
      w.cv.wait_for(lock, pause, [&] { return control.cancelled(); });
      if (control.cancelled()) return;
    }
    auto client = NewClient(ep, options_.watch_idle_timeout);
    {
      std::lock_guard lock(w.mu);
      if (control.cancelled()) return;
      w.client = client.get();
    }
    etcd::JsonStreamSplitter splitter;
    bool delivered = false;
    bool ended = false;  // the watch cannot go on (compacted history)
    Status end_status;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v3/watch";
    req.body = etcd::WatchCreateRequest(w.key, w.range_end, w.next);
    req.headers.emplace("Content-Type", "application/json");
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      splitter.Feed(std::string_view(data, len));
      while (auto text = splitter.Next()) {
        auto msg = etcd::ParseWatchMessage(*text);
        if (!msg.ok()) return false;  // an error message or garbage: reconnect
        if (msg->canceled) {
          if (msg->compact_revision > 0) {
            ended = true;
            end_status = Status(Code::kOutOfRange, "etcd compacted its history up to revision " +
                                                       std::to_string(msg->compact_revision) +
                                                       "; the watch needed it from revision " +
                                                       std::to_string(w.next));
          }
          return false;
        }
        if (msg->created) delivered = true;
        for (auto& ev : msg->events) {
          if (ev.kv.mod_revision < w.next) continue;  // already delivered before a reconnect
          if (control.cancelled()) return false;
          ConfigChange ch;
          ch.type = ev.deleted ? ConfigChange::Type::kDelete : ConfigChange::Type::kPut;
          ch.key = std::move(ev.kv.key);
          ch.value = std::move(ev.kv.value);
          ch.version = ev.kv.mod_revision;
          w.on_change(ch);
          w.next = ch.version + 1;
          delivered = true;
        }
      }
      return !control.cancelled() && splitter.buffered() <= (64u << 20);
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    client->send(req, res, err);
    {
      std::lock_guard lock(w.mu);
      w.client = nullptr;
    }
    if (control.cancelled()) return;
    if (ended) {
      if (w.on_end) w.on_end(end_status);
      return;
    }
    // The stream ended: its member died, lost its leader, or it stayed silent for the idle
    // timeout. Resume from w.next on the next member; back off while nothing works.
    pause = delivered ? options_.watch_retry_interval : std::min(pause * 2, milliseconds(2000));
    ep = (ep + 1) % n;
  }
}

}  // namespace dtr::config
