// The XML that Azure Blob Storage (and Azurite) answers with, parsed into plain structs:
// blob listings, block lists and errors; and the Put Block List body we send. Built on the
// bounded XML reader of s3_xml.h, so the fuzzer can feed it anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::storage::azurexml {

struct BlobEntry {
  std::string name;
  uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
};

// List Blobs (EnumerationResults).
struct BlobList {
  std::vector<BlobEntry> blobs;
  std::vector<std::string> prefixes;  // BlobPrefix names, with their trailing delimiter
  std::string next_marker;            // "" on the last page
};
Result<BlobList> ParseBlobList(std::string_view doc);

struct Block {
  std::string id;  // base64, as sent in Put Block
  uint64_t size = 0;
};
// Get Block List (BlockList): the committed blocks in order, and the uncommitted ones.
struct BlockList {
  std::vector<Block> committed;
  std::vector<Block> uncommitted;
};
Result<BlockList> ParseBlockList(std::string_view doc);

// The body of Put Block List: every id as <Latest> (committed or just staged), in order.
std::string BlockListBody(const std::vector<std::string>& ids);

struct Error {
  std::string code;  // "BlobNotFound", "AuthenticationFailed"...
  std::string message;
};
// The <Error> document of a failed request, if `doc` is one.
std::optional<Error> ParseError(std::string_view doc);

}  // namespace dtr::storage::azurexml
