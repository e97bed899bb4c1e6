// libFuzzer target: the Azure Blob response parsers (azure_xml.h) on arbitrary bytes. Every
// entry point must return a value or an error, never crash, hang or read out of bounds.
// Seeds: fixtures/corpus/azure_xml/ (answers shaped like Azurite's).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/azure_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  using namespace dtr::storage::azurexml;
  (void)ParseBlobList(doc);
  (void)ParseBlockList(doc);
  (void)ParseError(doc);
  return 0;
}
