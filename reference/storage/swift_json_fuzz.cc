// libFuzzer target: the Swift and Keystone JSON parsers (swift_json.h) on arbitrary bytes.
// Every entry point must return a value or an error, never crash, hang or read out of
// bounds. Seeds: fixtures/corpus/swift_json/ (answers shaped like Swift 2.30's).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/swift_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  using namespace dtr::storage::swiftjson;
  (void)ParseListing(doc);
  (void)ParseKeystoneV3(doc, "", "public");
  (void)ParseKeystoneV3(doc, "RegionOne", "internal");
  (void)ParseBulkDelete(doc);
  (void)ParseSloManifest(doc);
  return 0;
}
