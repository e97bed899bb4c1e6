// Fixed keys for the auth tests, with values computed independently of this code.
#pragma once

namespace dtr::auth::testing {

// Made with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.
inline constexpr const char* kFixedPrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/k6PdP9lvnYuv/bX\n"
    "0ht1LGr8wlFxHg73HeegFde9RxKhRANCAASKDLXmR3C/xOcsxooGDeJNMcW5cPNf\n"
    "hrt82NxTfLio8KN3rtFL6LEyQrX+e0JDadhqbGuAZU1NRpKzCBimOLKb\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kFixedPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEigy15kdwv8TnLMaKBg3iTTHFuXDz\n"
    "X4a7fNjcU3y4qPCjd67RS+ixMkK1/ntCQ2nYamxrgGVNTUaSswgYpjiymw==\n"
    "-----END PUBLIC KEY-----\n";
// openssl pkey -in key.pem -pubout -outform DER | openssl dgst -sha256 -binary | head -c 30 |
//   base32 | tr -d '=\n' | sed 's/..../&:/g;s/:$//'
inline constexpr const char* kFixedKeyId =
    "VIXZ:X4MT:V2E5:ELNA:LHWF:6QPQ:H7TZ:QQIP:II6D:RHH5:4GBX:GMDY";
// The last 64 bytes of the DER public key, split and base64url-encoded.
inline constexpr const char* kFixedX = "igy15kdwv8TnLMaKBg3iTTHFuXDzX4a7fNjcU3y4qPA";
inline constexpr const char* kFixedY = "o3eu0UvosTJCtf57QkNp2Gpsa4BlTU1GkrMIGKY4sps";

}  // namespace dtr::auth::testing
