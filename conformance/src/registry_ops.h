// Registry operations the `registry` cases are built from: requests that fail the case on
// a transport error, checks that fail it with the response as evidence, and setup steps
// (push a blob, an image, a manifest) that skip it as blocked when the registry refuses,
// each registering its own undo with the case.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "case_registry.h"
#include "oci_fixtures.h"

namespace dtrc {

class Oci {
 public:
  explicit Oci(CaseContext& ctx) : ctx_(ctx) {}
  CaseContext& ctx() { return ctx_; }

  // Any HTTP answer is returned; no answer at all fails the case, and a 401 the client
  // could not answer (no or refused credentials) stops the run.
  HttpResponse send(const HttpRequest& req);
  HttpResponse get(const std::string& target, Headers headers = {});
  HttpResponse head(const std::string& target, Headers headers = {});
  HttpResponse del(const std::string& target);
  HttpResponse post(const std::string& target, std::string body = "", Headers headers = {});
  HttpResponse put(const std::string& target, std::string body, Headers headers = {});
  HttpResponse patch(const std::string& target, std::string body, Headers headers = {});

  void expect_status(const HttpResponse& r, std::initializer_list<int> ok, const std::string& what);
  // The header's value; fails the case when it is absent.
  std::string expect_header(const HttpResponse& r, std::string_view name, const std::string& what);
  // The response's Location resolved to an absolute URL; fails the case when absent.
  std::string location(const HttpResponse& r, const std::string& what);

  // Setup steps: blocked() (SKIP) when the registry refuses them.
  std::string start_upload(const std::string& repo);  // absolute upload URL; cancelled at cleanup
  std::string push_blob(const std::string& repo, const std::string& bytes);  // -> digest
  void push_blob_as(const std::string& repo, const std::string& bytes, const std::string& digest);
  struct Pushed {
    std::string digest;
    std::string body;
    std::string media_type;
    HttpResponse response;
  };
  Pushed push_manifest(const std::string& repo, const std::string& reference,
                       const std::string& body, const std::string& media_type);
  struct Image {
    Descriptor config;
    Descriptor layer;
    std::string config_bytes;
    std::string layer_bytes;
    Pushed manifest;
    Descriptor descriptor() const;
  };
  // Config + one layer + a manifest of `media_type` (OCI or Docker), pushed at `reference`.
  Image push_image(const std::string& repo, const std::string& reference,
                   const std::string& media_type = kOciManifest);
  // Descriptors of blobs already pushed for an image, without pushing a manifest.
  Image push_image_blobs(const std::string& repo, const std::string& media_type = kOciManifest);

  // The statuses end-9/end-10 give a registry whose deletion is disabled: 400 or 405.
  static bool deletion_disabled_status(int status) { return status == 400 || status == 405; }

  static std::string blob_path(const std::string& repo, const std::string& digest);
  static std::string manifest_path(const std::string& repo, const std::string& reference);
  static std::string uploads_path(const std::string& repo);
  static std::string add_query(const std::string& url, const std::string& query);

  // The `code`s of a JSON error body ({"errors":[{"code"...}]}); empty when not one.
  static std::vector<std::string> error_codes(const HttpResponse& r);
  // Fails the case unless the body is a JSON error body carrying `code` (SHOULD cases).
  void expect_error_code(const HttpResponse& r, const std::string& code, const std::string& what);

 private:
  CaseContext& ctx_;
};

// Parses `Link: <url>; rel="next"`; "" when there is no next link.
std::string next_link(const std::string& link_header);
// Parses "bytes a-b/total" or "a-b" into (a, b); false when malformed.
bool parse_range(std::string_view value, long long& first, long long& last);

}  // namespace dtrc
