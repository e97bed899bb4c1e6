// The storage layout of CNCF distribution (registry/storage/paths.go), in one place, so a
// registry:2 or DTR storage can be served as it is and handed back:
//   /docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>/data
//   /docker/registry/v2/repositories/<name>/_layers/<alg>/<hex>/link
//   /docker/registry/v2/repositories/<name>/_manifests/revisions/<alg>/<hex>/link
//   /docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
//   /docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link
//   /docker/registry/v2/repositories/<name>/_uploads/<uuid>/{data,startedat}
#pragma once

#include <string>

#include "core/digest.h"

namespace dtr::storage::layout {

inline const std::string kRoot = "/docker/registry/v2";
inline const std::string kRepositories = kRoot + "/repositories";
inline const std::string kBlobs = kRoot + "/blobs";

inline std::string BlobDir(const Digest& d) {
  return kBlobs + "/" + std::string(d.algorithm_name()) + "/" + d.hex().substr(0, 2) + "/" +
         d.hex();
}
inline std::string BlobData(const Digest& d) { return BlobDir(d) + "/data"; }

inline std::string Repo(const std::string& name) { return kRepositories + "/" + name; }

inline std::string LayerLink(const std::string& repo, const Digest& d) {
  return Repo(repo) + "/_layers/" + std::string(d.algorithm_name()) + "/" + d.hex() + "/link";
}
inline std::string LayerDir(const std::string& repo, const Digest& d) {
  return Repo(repo) + "/_layers/" + std::string(d.algorithm_name()) + "/" + d.hex();
}
inline std::string ManifestsDir(const std::string& repo) { return Repo(repo) + "/_manifests"; }
inline std::string RevisionsDir(const std::string& repo) {
  return ManifestsDir(repo) + "/revisions";
}
inline std::string RevisionDir(const std::string& repo, const Digest& d) {
  return RevisionsDir(repo) + "/" + std::string(d.algorithm_name()) + "/" + d.hex();
}
inline std::string RevisionLink(const std::string& repo, const Digest& d) {
  return RevisionDir(repo, d) + "/link";
}
inline std::string TagsDir(const std::string& repo) { return ManifestsDir(repo) + "/tags"; }
inline std::string TagDir(const std::string& repo, const std::string& tag) {
  return TagsDir(repo) + "/" + tag;
}
inline std::string TagCurrentLink(const std::string& repo, const std::string& tag) {
  return TagDir(repo, tag) + "/current/link";
}
inline std::string TagIndexLink(const std::string& repo, const std::string& tag, const Digest& d) {
  return TagDir(repo, tag) + "/index/" + std::string(d.algorithm_name()) + "/" + d.hex() + "/link";
}
inline std::string UploadsDir(const std::string& repo) { return Repo(repo) + "/_uploads"; }
inline std::string UploadDir(const std::string& repo, const std::string& uuid) {
  return UploadsDir(repo) + "/" + uuid;
}
inline std::string UploadData(const std::string& repo, const std::string& uuid) {
  return UploadDir(repo, uuid) + "/data";
}
inline std::string UploadStartedAt(const std::string& repo, const std::string& uuid) {
  return UploadDir(repo, uuid) + "/startedat";
}

}  // namespace dtr::storage::layout
