// The etcd JSON-gateway parsers (config/etcd_json.h): every answer parser and the watch-stream
// splitter, fed arbitrary bytes.
#include <cstdint>
#include <string_view>

#include "config/etcd_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace dtr::config::etcd;
  ParseRange(in);
  ParseWrite(in);
  ParseTxn(in);
  ParseWatchMessage(in);
  ErrorFromResponse(503, in);
  // The splitter in uneven chunks; each value it yields goes to the watch parser.
  JsonStreamSplitter splitter;
  size_t step = size % 7 + 1;
  for (size_t i = 0; i < size; i += step) {
    splitter.Feed(in.substr(i, step));
    while (auto msg = splitter.Next()) ParseWatchMessage(*msg);
  }
  return 0;
}
