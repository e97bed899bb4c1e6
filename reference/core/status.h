// Status and Result<T>: how errors cross module boundaries. A Status carries a code callers
// branch on and a message written for the person who will read it in a log or a response.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dtr {

enum class Code {
  kOk = 0,
  kNotFound,         // the thing asked for does not exist
  kInvalidArgument,  // the caller's input is malformed
  kAlreadyExists,
  kOutOfRange,  // offsets and ranges outside the content
  kFailedPrecondition,
  kUnavailable,  // a backend did not answer; retrying may help
  kIOError,      // a backend answered with a failure
  kCorruption,   // stored data does not match what it claims to be
  kTooLarge,
  kUnsupported,
  kUnauthenticated,    // no or invalid credentials
  kPermissionDenied,   // authenticated, but not allowed
  kResourceExhausted,  // rate limited
  kInternal,
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // `tag` names the error in the caller's protocol (e.g. the OCI code MANIFEST_BLOB_UNKNOWN),
  // for layers that speak one; empty otherwise.
  Status(Code code, std::string message, std::string tag)
      : code_(code), message_(std::move(message)), tag_(std::move(tag)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool is(Code c) const { return code_ == c; }
  const std::string& tag() const { return tag_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string tag_;
};

inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace dtr
