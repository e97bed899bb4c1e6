#include "storage/azure_xml.h"

#include "storage/object_http.h"
#include "storage/s3_xml.h"

namespace dtr::storage::azurexml {

namespace {

Status Malformed(const std::string& what, const std::string& why) {
  return Status(Code::kCorruption, "malformed " + what + " from Azure: " + why);
}

bool Number(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

Result<s3xml::Node> Root(std::string_view doc, std::string_view name, const std::string& what) {
  auto root = s3xml::Parse(doc);
  if (!root.ok()) return Malformed(what, root.status().message());
  if (root->name != name) return Malformed(what, "the root element is <" + root->name + ">");
  return root;
}

Result<std::vector<Block>> Blocks(const s3xml::Node* list, const std::string& what) {
  std::vector<Block> out;
  if (list == nullptr) return out;
  for (const s3xml::Node* b : list->Children("Block")) {
    Block block;
    block.id = b->ChildText("Name");
    if (block.id.empty()) return Malformed(what, "a block has no name");
    if (!Number(b->ChildText("Size"), &block.size)) {
      return Malformed(what, "block " + block.id + " has no size");
    }
    out.push_back(std::move(block));
  }
  return out;
}

}  // namespace

Result<BlobList> ParseBlobList(std::string_view doc) {
  const std::string what = "blob listing";
  auto root = Root(doc, "EnumerationResults", what);
  if (!root.ok()) return root.status();
  BlobList out;
  out.next_marker = root->ChildText("NextMarker");
  const s3xml::Node* blobs = root->Child("Blobs");
  if (blobs == nullptr) return out;
  for (const auto& child : blobs->children) {
    if (child.name == "BlobPrefix") {
      std::string name = child.ChildText("Name");
      if (name.empty()) return Malformed(what, "a prefix has no name");
      out.prefixes.push_back(std::move(name));
    } else if (child.name == "Blob") {
      BlobEntry e;
      e.name = child.ChildText("Name");
      if (e.name.empty()) return Malformed(what, "a blob has no name");
      const s3xml::Node* props = child.Child("Properties");
      if (props == nullptr || !Number(props->ChildText("Content-Length"), &e.size)) {
        return Malformed(what, "blob " + e.name + " has no Content-Length");
      }
      ParseHttpDate(props->ChildText("Last-Modified"), &e.last_modified);
      out.blobs.push_back(std::move(e));
    }
  }
  return out;
}

Result<BlockList> ParseBlockList(std::string_view doc) {
  const std::string what = "block list";
  auto root = Root(doc, "BlockList", what);
  if (!root.ok()) return root.status();
  BlockList out;
  auto committed = Blocks(root->Child("CommittedBlocks"), what);
  if (!committed.ok()) return committed.status();
  auto uncommitted = Blocks(root->Child("UncommittedBlocks"), what);
  if (!uncommitted.ok()) return uncommitted.status();
  out.committed = std::move(*committed);
  out.uncommitted = std::move(*uncommitted);
  return out;
}

std::string BlockListBody(const std::vector<std::string>& ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const auto& id : ids) out += "<Latest>" + s3xml::Escape(id) + "</Latest>";
  out += "</BlockList>";
  return out;
}

std::optional<Error> ParseError(std::string_view doc) {
  auto root = s3xml::Parse(doc);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  return Error{root->ChildText("Code"), root->ChildText("Message")};
}

}  // namespace dtr::storage::azurexml
