// One webhook delivery: POST a JSON payload to an http or https endpoint. For https the
// endpoint's certificate must chain to the system CAs or to the subscription's own CA
// certificates (tlsCert, PEM), and match the endpoint's host, unless skipTLSVerification is
// set. Connecting, sending and reading are each bounded by the timeout. Redirects are not
// followed. The only user of the HTTP client library in the reference.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace dtr::jobs {

struct DeliveryTarget {
  std::string endpoint;
  std::string tls_cert;
  bool skip_tls_verification = false;
};

// An endpoint this module can deliver to: http:// or https://, a host, an optional port and
// path; the message says what is wrong otherwise.
Status ValidateEndpoint(const std::string& endpoint);

// PEM text holding at least one certificate, and nothing that is not one.
Status ValidateCertificatePem(const std::string& pem);

// Ok when the endpoint answered 2xx; kUnavailable otherwise, saying why (connection refused,
// TLS verification failed, timeout, or the status the endpoint answered). `http_status` gets
// the endpoint's status, 0 when there was no answer.
Status PostJson(const DeliveryTarget& target, const std::string& body, int64_t timeout_ms,
                int* http_status);

}  // namespace dtr::jobs
