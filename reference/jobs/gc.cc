#include "jobs/gc.h"

#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/manifest.h"
#include "storage/layout.h"

namespace dtr::jobs {

namespace layout = storage::layout;

namespace {

struct Node {
  std::vector<Digest> blobs;     // config and layers
  std::vector<Digest> children;  // index entries
  std::string subject;           // digest, empty when none
  std::chrono::system_clock::time_point written;
};

}  // namespace

Result<GcReport> RunGarbageCollection(registry::Registry& reg, const GcOptions& opt) {
  GcReport report;
  auto log = [&](const std::string& m) {
    if (opt.log) opt.log(m);
  };
  auto stop = [&] { return opt.cancelled && opt.cancelled(); };
  auto cutoff = std::chrono::system_clock::now() - opt.grace;
  storage::BlobDriver* driver = reg.driver();
  registry::GcGuard& guard = reg.gc_guard();
  guard.BeginMark();
  struct EndMark {
    registry::GcGuard& g;
    ~EndMark() { g.End(); }
  } end_mark{guard};

  std::unordered_set<std::string> marked;  // every digest (blob or manifest) still needed
  for (const std::string& repo : reg.StorageRepositories()) {
    if (stop()) return Status(Code::kFailedPrecondition, "canceled");
    ++report.repositories;
    std::unordered_map<std::string, Node> nodes;
    for (const auto& [digest, written] : reg.StorageManifests(repo)) {
      Node n;
      n.written = written;
      auto loaded = reg.LoadManifestByDigest(digest);
      if (loaded.ok()) {
        auto m = ParseManifest(loaded->media_type, *loaded->content);
        if (m.ok()) {
          n.blobs = m->RequiredBlobs();
          for (const auto& c : m->manifests) n.children.push_back(c.digest);
          if (m->subject) n.subject = m->subject->digest.str();
        } else {
          // Content we cannot parse (schema 1): keep it and everything it might name.
          n.written = std::chrono::system_clock::time_point::max();
        }
      }
      nodes.emplace(digest.str(), std::move(n));
    }
    // Roots: tagged manifests, and anything too young to judge.
    std::vector<std::string> work;
    for (const auto& [tag, digest] : reg.StorageTags(repo)) work.push_back(digest.str());
    for (const auto& [d, n] : nodes) {
      if (!opt.delete_untagged || n.written > cutoff) work.push_back(d);
    }
    std::unordered_set<std::string> reachable;
    auto visit_all = [&] {
      while (!work.empty()) {
        std::string d = work.back();
        work.pop_back();
        if (!reachable.insert(d).second) continue;
        auto it = nodes.find(d);
        if (it == nodes.end()) continue;
        for (const auto& c : it->second.children) work.push_back(c.str());
      }
    };
    visit_all();
    // Referrers of reachable manifests are reachable too (to a fixpoint).
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [d, n] : nodes) {
        if (!n.subject.empty() && reachable.count(n.subject) && !reachable.count(d)) {
          work.push_back(d);
          grew = true;
        }
      }
      visit_all();
    }
    std::unordered_set<std::string> repo_blobs;
    for (const auto& d : reachable) {
      auto it = nodes.find(d);
      if (it == nodes.end()) continue;
      marked.insert(d);
      ++report.manifests_marked;
      for (const auto& b : it->second.blobs) {
        marked.insert(b.str());
        repo_blobs.insert(b.str());
      }
    }
    // Untagged, unreachable manifests go (their revision link; the bytes are swept below).
    for (const auto& [d, n] : nodes) {
      if (reachable.count(d) || stop()) continue;
      // A concurrent push of this manifest (by digest or tag) wins: it is used, not doomed.
      if (!guard.Doom(d)) continue;
      log("delete manifest " + repo + "@" + d);
      if (!opt.dry_run && reg.DeleteManifest(repo, d).ok()) ++report.manifests_deleted;
      guard.Done(d);
    }
    // Layer links that no reachable manifest of this repository names.
    for (const char* alg : {"sha256", "sha512"}) {
      auto links = driver->List(layout::Repo(repo) + "/_layers/" + alg);
      if (!links.ok()) continue;
      for (const auto& dir : *links) {
        auto d = Digest::Parse(std::string(alg) + ":" + dir.substr(dir.rfind('/') + 1));
        if (!d.ok() || repo_blobs.count(d->str())) continue;
        auto st = driver->Stat(dir + "/link");
        if (!st.ok() || st->mod_time > cutoff) continue;
        if (!guard.Doom(d->str())) continue;  // in use by a push right now
        log("unlink " + repo + " " + d->str());
        if (!opt.dry_run && driver->Delete(dir).ok()) ++report.links_deleted;
        guard.Done(d->str());
      }
    }
  }
  report.blobs_marked = marked.size();

  // Sweep blobs nobody names.
  for (const char* alg : {"sha256", "sha512"}) {
    auto prefixes = driver->List(layout::kBlobs + "/" + alg);
    if (!prefixes.ok()) continue;
    for (const auto& prefix : *prefixes) {
      auto blobs = driver->List(prefix);
      if (!blobs.ok()) continue;
      for (const auto& dir : *blobs) {
        if (stop()) return Status(Code::kFailedPrecondition, "canceled");
        auto d = Digest::Parse(std::string(alg) + ":" + dir.substr(dir.rfind('/') + 1));
        if (!d.ok() || marked.count(d->str())) continue;
        auto st = driver->Stat(dir + "/data");
        if (!st.ok() || st->mod_time > cutoff) continue;
        if (!guard.Doom(d->str())) continue;
        log("delete blob " + d->str() + " (" + std::to_string(st->size) + " bytes)");
        if (!opt.dry_run && driver->Delete(dir).ok()) {
          ++report.blobs_deleted;
          report.bytes_freed += st->size;
        }
        guard.Done(d->str());
      }
    }
  }
  log("gc: " + std::to_string(report.repositories) + " repositories, " +
      std::to_string(report.manifests_marked) + " manifests kept, " +
      std::to_string(report.manifests_deleted) + " manifests deleted, " +
      std::to_string(report.blobs_deleted) + " blobs deleted (" +
      std::to_string(report.bytes_freed) + " bytes), " + std::to_string(report.links_deleted) +
      " layer links removed");
  return report;
}

}  // namespace dtr::jobs
