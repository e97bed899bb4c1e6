// Repository names and tags, with the grammar of the OCI distribution spec:
//   name      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//   tag       [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
// Names are at most 255 characters in all, as CNCF distribution enforces.
#pragma once

#include <string_view>

#include "core/status.h"

namespace dtr {

inline constexpr size_t kMaxRepositoryNameLength = 255;

// Ok, or kInvalidArgument with a message naming the offending component.
Status ValidateRepositoryName(std::string_view name);
Status ValidateTag(std::string_view tag);

// A manifest reference is a tag or a digest; digests contain ':'.
inline bool LooksLikeDigest(std::string_view reference) {
  return reference.find(':') != std::string_view::npos;
}

}  // namespace dtr
