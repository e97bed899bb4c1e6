// libFuzzer target: the S3 response parser (s3_xml.h) on arbitrary bytes. Every parser
// entry point must return a value or an error, never crash, hang or read out of bounds.
// Seeds: fixtures/corpus/s3_xml/ (answers captured from Swift's s3api and s3rver).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  using namespace dtr::storage::s3xml;
  (void)Parse(doc);
  (void)ParseListing(doc);
  (void)ParseUploadId(doc);
  (void)ParseCopyETag(doc);
  (void)ParseCompleteResult(doc);
  (void)ParseDeleteResult(doc);
  (void)ParseError(doc);
  (void)ParseIso8601(doc);
  return 0;
}
