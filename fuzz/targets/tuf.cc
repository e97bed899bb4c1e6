// TUF metadata as notary-server receives it: the JSON parser, canonical JSON and the four
// role decoders never crash; canonical JSON is a fixed point (canonicalising it again gives
// the same bytes); and no input validates as a root, since none carries a signature by a
// key whose certificate names the GUN (the fuzzer cannot sign). Canonical JSON writes control
// characters raw, which JSON forbids, so the fixed point is checked only without them.
#include <cstdint>
#include <string>

#include "core/tuf/json.h"
#include "core/tuf/metadata.h"
#include "core/tuf/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto canonical = dtr::tuf::CanonicalizeText(text);
  bool has_control = false;
  if (canonical.ok()) {
    for (char c : *canonical) has_control |= static_cast<unsigned char>(c) < 0x20;
  }
  if (canonical.ok() && !has_control) {
    auto again = dtr::tuf::CanonicalizeText(*canonical);
    if (!again.ok() || *again != *canonical) __builtin_trap();
  }
  auto s = dtr::tuf::ParseSigned(text);
  if (!s.ok()) return 0;
  dtr::tuf::ParseRoot(s->signed_value);
  dtr::tuf::ParseTargets(s->signed_value, "targets");
  dtr::tuf::ParseTargets(s->signed_value, "targets/releases");
  dtr::tuf::ParseSnapshot(s->signed_value);
  dtr::tuf::ParseTimestamp(s->signed_value);
  auto now = dtr::tuf::ParseRfc3339("2026-11-28T00:00:00Z").value();
  if (dtr::tuf::ValidateRoot(nullptr, *s, "fuzz.example.com/ns/repo", now).ok()) __builtin_trap();
  return 0;
}
