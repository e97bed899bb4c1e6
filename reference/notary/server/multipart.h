// multipart/form-data bodies (RFC 7578) as the notary client sends a publish: one part per
// role, each with Content-Disposition: form-data; name="files"; filename="<role>". Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dtr::notary {

struct FormPart {
  std::string name;
  std::string filename;  // "" when absent
  std::string body;
};

// The boundary parameter of a multipart/form-data Content-Type.
Result<std::string> MultipartBoundary(std::string_view content_type);
// The parts of `body`; kInvalidArgument when it is not a complete multipart body.
Result<std::vector<FormPart>> ParseMultipart(std::string_view body, std::string_view boundary);

}  // namespace dtr::notary
