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

struct AzureCall {
  AzureCall(std::string op_, std::string method_, std::string blob_,
            std::vector<std::pair<std::string, std::string>> query_ = {})
      : op(std::move(op_)),
        method(std::move(method_)),
        blob(std::move(blob_)),
        query(std::move(query_)) {}

  std::string op;      // the REST operation, for messages: "Put Block", "List Blobs"
  std::string method;  // GET, HEAD, PUT, DELETE
  std::string blob;    // unencoded blob name; "" addresses the container
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  HttpHeaders headers;
  std::string_view body;    // not owned
  std::vector<int> accept;  // statuses that are answers, not failures (e.g. 404)
  size_t max_body = 16u << 20;
  bool idempotent = true;
};

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
