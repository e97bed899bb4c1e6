// The XML that S3 (and Swift's s3api, IBM COS, s3rver) answers with, parsed into plain
// structs: object listings, multipart upload ids, copy results, multi-delete results and
// errors. A small, bounded, non-validating XML reader (elements, text, entities, CDATA; no
// DTDs) that the fuzzer can feed anything to.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::storage::s3xml {

struct Node {
  std::string name;  // local name, without any namespace prefix
  std::string text;  // the concatenated character data directly inside
  std::vector<Node> children;

  const Node* Child(std::string_view n) const;
  std::vector<const Node*> Children(std::string_view n) const;
  // Text of the first child named n, "" if none.
  std::string ChildText(std::string_view n) const;
};

// Parses a document into its root element. Refuses DTDs, deep nesting and oversized input.
Result<Node> Parse(std::string_view doc);

struct ObjectEntry {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  std::chrono::system_clock::time_point last_modified;
};

struct Listing {
  std::vector<ObjectEntry> objects;
  std::vector<std::string> prefixes;  // CommonPrefixes, with their trailing delimiter
  bool truncated = false;
  std::string next_token;   // ListObjectsV2: NextContinuationToken
  std::string next_marker;  // ListObjects (v1): NextMarker, or the last key
};
Result<Listing> ParseListing(std::string_view doc);

// InitiateMultipartUploadResult → UploadId.
Result<std::string> ParseUploadId(std::string_view doc);

// CopyObjectResult / CopyPartResult → ETag (quotes kept as sent).
Result<std::string> ParseCopyETag(std::string_view doc);

// CompleteMultipartUploadResult: S3 may answer 200 with an <Error> body; that is an error.
Status ParseCompleteResult(std::string_view doc);

struct DeleteResult {
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, std::string>> errors;  // key, code: message
};
Result<DeleteResult> ParseDeleteResult(std::string_view doc);

struct Error {
  std::string code;
  std::string message;
};
// The <Error> document of a failed request, if `doc` is one.
std::optional<Error> ParseError(std::string_view doc);

// ISO 8601 as S3 writes it: "2009-10-12T17:50:30.000Z" (fraction optional).
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s);

// Escapes text for an XML body we send (keys in a multi-delete request).
std::string Escape(std::string_view s);

}  // namespace dtr::storage::s3xml
