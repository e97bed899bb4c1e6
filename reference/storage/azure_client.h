// The Azure Blob Storage REST API over HTTP(S) for one container: signs every attempt with
// Shared Key (a fresh x-ms-date, x-ms-version), creates the container on first use if it
// is missing, and turns failures into Status values whose messages name the backend, the
// operation, the blob and Azure's error code. No storage semantics here.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/azure_config.h"
#include "storage/object_http.h"

namespace dtr::storage {

using AzureCall = ObjectCall;

// The REST API version we speak (Put Blob up to 5000 MiB, Put Block up to 4000 MiB).
inline constexpr std::string_view kAzureApiVersion = "2021-08-06";

class AzureClient {
 public:
  explicit AzureClient(AzureConfig config);
  AzureClient(const AzureClient&) = delete;
  AzureClient& operator=(const AzureClient&) = delete;

  const AzureConfig& config() const { return config_; }

  // Sends the call (creating the container first, once). 2xx and accepted statuses come
  // back as a reply; others as a Status (see HttpFailure) tagged with Azure's error code.
  Result<HttpReply> Do(const AzureCall& call);

  // "azure (container "c" of account "a" at http://127.0.0.1:10000/devstoreaccount1)".
  std::string Describe() const;

  // The blob's full URL (for x-ms-copy-source).
  std::string BlobUrl(const std::string& blob) const;

 private:
  std::string PathFor(const std::string& blob) const;
  Result<HttpReply> Send(const AzureCall& call);
  Status EnsureContainer();
  static Status Failure(const std::string& what, const HttpReply& r);

  AzureConfig config_;
  ObjectHttp http_;
  std::mutex mu_;
  bool container_ready_ = false;
};

}  // namespace dtr::storage
