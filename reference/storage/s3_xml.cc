#include "storage/s3_xml.h"

#include <cstring>
#include <ctime>

namespace dtr::storage::s3xml {

namespace {

constexpr size_t kMaxDocument = 64u << 20;
constexpr int kMaxDepth = 32;
constexpr size_t kMaxNodes = 1u << 20;

Status Malformed(const std::string& why) {
  return Status(Code::kCorruption, "malformed XML from the object store: " + why);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view d) : d_(d) {}

  Result<Node> Document() {
    if (d_.size() > kMaxDocument) return Malformed("document too large");
    if (d_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (Status s = SkipMisc(); !s.ok()) return s;
    if (pos_ >= d_.size() || d_[pos_] != '<') return Malformed("no root element");
    Node root;
    if (Status s = Element(&root, 0); !s.ok()) return s;
    if (Status s = SkipMisc(); !s.ok()) return s;
    if (pos_ != d_.size()) return Malformed("content after the root element");
    return root;
  }

 private:
  bool StartsWith(std::string_view p) const { return d_.substr(pos_, p.size()) == p; }

  void SkipSpace() {
    while (pos_ < d_.size() &&
           (d_[pos_] == ' ' || d_[pos_] == '\t' || d_[pos_] == '\r' || d_[pos_] == '\n')) {
      ++pos_;
    }
  }

  Status SkipUntil(std::string_view end) {
    size_t e = d_.find(end, pos_);
    if (e == std::string_view::npos) return Malformed("unterminated construct");
    pos_ = e + end.size();
    return Status::Ok();
  }

  // Whitespace, processing instructions and comments around the root.
  Status SkipMisc() {
    while (true) {
      SkipSpace();
      if (StartsWith("<?")) {
        if (Status s = SkipUntil("?>"); !s.ok()) return s;
      } else if (StartsWith("<!--")) {
        if (Status s = SkipUntil("-->"); !s.ok()) return s;
      } else if (StartsWith("<!")) {
        return Malformed("DTDs are not accepted");
      } else {
        return Status::Ok();
      }
    }
  }

  static bool NameChar(char c) {
    return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' || c == '=' ||
             c == '<' || c == '"' || c == '\'');
  }

  Result<std::string> Name() {
    size_t start = pos_;
    while (pos_ < d_.size() && NameChar(d_[pos_])) ++pos_;
    if (pos_ == start) return Malformed("expected a name at byte " + std::to_string(start));
    return std::string(d_.substr(start, pos_ - start));
  }

  static std::string Local(const std::string& qname) {
    auto colon = qname.find(':');
    return colon == std::string::npos ? qname : qname.substr(colon + 1);
  }

  Status Entity(std::string* out) {
    size_t semi = d_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Malformed("bad entity");
    std::string_view e = d_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (e == "lt") {
      out->push_back('<');
    } else if (e == "gt") {
      out->push_back('>');
    } else if (e == "amp") {
      out->push_back('&');
    } else if (e == "quot") {
      out->push_back('"');
    } else if (e == "apos") {
      out->push_back('\'');
    } else if (e.size() >= 2 && e[0] == '#') {
      bool hex = e[1] == 'x' || e[1] == 'X';
      std::string_view digits = e.substr(hex ? 2 : 1);
      if (digits.empty()) return Malformed("bad character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        uint32_t v;
        if (c >= '0' && c <= '9') {
          v = static_cast<uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          v = static_cast<uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          v = static_cast<uint32_t>(c - 'A' + 10);
        } else {
          return Malformed("bad character reference");
        }
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF) return Malformed("character reference out of range");
      }
      AppendUtf8(cp, out);
    } else {
      return Malformed("unknown entity &" + std::string(e) + ";");
    }
    return Status::Ok();
  }

  Status Attributes(bool* self_closing) {
    while (true) {
      SkipSpace();
      if (pos_ >= d_.size()) return Malformed("unterminated start tag");
      if (d_[pos_] == '>') {
        ++pos_;
        *self_closing = false;
        return Status::Ok();
      }
      if (StartsWith("/>")) {
        pos_ += 2;
        *self_closing = true;
        return Status::Ok();
      }
      auto n = Name();
      if (!n.ok()) return n.status();
      SkipSpace();
      if (pos_ >= d_.size() || d_[pos_] != '=') return Malformed("attribute without a value");
      ++pos_;
      SkipSpace();
      if (pos_ >= d_.size() || (d_[pos_] != '"' && d_[pos_] != '\'')) {
        return Malformed("unquoted attribute value");
      }
      char q = d_[pos_++];
      size_t end = d_.find(q, pos_);
      if (end == std::string_view::npos) return Malformed("unterminated attribute value");
      pos_ = end + 1;
    }
  }

  Status Element(Node* node, int depth) {
    if (depth > kMaxDepth) return Malformed("nesting deeper than " + std::to_string(kMaxDepth));
    if (++nodes_ > kMaxNodes) return Malformed("too many elements");
    ++pos_;  // '<'
    auto qname = Name();
    if (!qname.ok()) return qname.status();
    node->name = Local(*qname);
    bool self_closing = false;
    if (Status s = Attributes(&self_closing); !s.ok()) return s;
    if (self_closing) return Status::Ok();
    while (true) {
      if (pos_ >= d_.size()) return Malformed("unterminated element <" + *qname + ">");
      char c = d_[pos_];
      if (c == '&') {
        if (Status s = Entity(&node->text); !s.ok()) return s;
      } else if (c != '<') {
        size_t next = d_.find_first_of("<&", pos_);
        if (next == std::string_view::npos) next = d_.size();
        node->text.append(d_.substr(pos_, next - pos_));
        pos_ = next;
      } else if (StartsWith("</")) {
        pos_ += 2;
        auto end = Name();
        if (!end.ok()) return end.status();
        if (*end != *qname) return Malformed("</" + *end + "> closes <" + *qname + ">");
        SkipSpace();
        if (pos_ >= d_.size() || d_[pos_] != '>') return Malformed("unterminated end tag");
        ++pos_;
        return Status::Ok();
      } else if (StartsWith("<![CDATA[")) {
        size_t e = d_.find("]]>", pos_ + 9);
        if (e == std::string_view::npos) return Malformed("unterminated CDATA");
        node->text.append(d_.substr(pos_ + 9, e - pos_ - 9));
        pos_ = e + 3;
      } else if (StartsWith("<!--")) {
        if (Status s = SkipUntil("-->"); !s.ok()) return s;
      } else if (StartsWith("<?")) {
        if (Status s = SkipUntil("?>"); !s.ok()) return s;
      } else if (StartsWith("<!")) {
        return Malformed("DTDs are not accepted");
      } else {
        node->children.emplace_back();
        if (Status s = Element(&node->children.back(), depth + 1); !s.ok()) return s;
      }
    }
  }

  std::string_view d_;
  size_t pos_ = 0;
  size_t nodes_ = 0;
};

Result<uint64_t> ParseSize(const std::string& s) {
  if (s.empty() || s.size() > 20) return Malformed("bad object size '" + s + "'");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Malformed("bad object size '" + s + "'");
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return Malformed("object size overflows");
    v = next;
  }
  return v;
}

Result<Node> Expect(std::string_view doc, std::string_view root) {
  auto n = Parse(doc);
  if (!n.ok()) return n.status();
  if (n->name == "Error") {
    return Status(Code::kIOError, "the object store answered " + n->ChildText("Code") + ": " +
                                      n->ChildText("Message"));
  }
  if (n->name != root) {
    return Malformed("expected <" + std::string(root) + ">, got <" + n->name + ">");
  }
  return n;
}

}  // namespace

const Node* Node::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::vector<const Node*> Node::Children(std::string_view n) const {
  std::vector<const Node*> out;
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
  }
  return out;
}

std::string Node::ChildText(std::string_view n) const {
  const Node* c = Child(n);
  return c == nullptr ? std::string() : c->text;
}

Result<Node> Parse(std::string_view doc) { return Parser(doc).Document(); }

Result<Listing> ParseListing(std::string_view doc) {
  auto root = Expect(doc, "ListBucketResult");
  if (!root.ok()) return root.status();
  Listing out;
  out.truncated = root->ChildText("IsTruncated") == "true";
  out.next_token = root->ChildText("NextContinuationToken");
  out.next_marker = root->ChildText("NextMarker");
  for (const Node* c : root->Children("Contents")) {
    ObjectEntry e;
    e.key = c->ChildText("Key");
    if (e.key.empty()) return Malformed("a listed object has no key");
    auto size = ParseSize(c->ChildText("Size"));
    if (!size.ok()) return size.status();
    e.size = *size;
    e.etag = c->ChildText("ETag");
    if (auto t = ParseIso8601(c->ChildText("LastModified"))) e.last_modified = *t;
    out.objects.push_back(std::move(e));
  }
  for (const Node* p : root->Children("CommonPrefixes")) {
    for (const Node* q : p->Children("Prefix")) out.prefixes.push_back(q->text);
  }
  if (out.truncated && out.next_marker.empty() && !out.objects.empty()) {
    out.next_marker = out.objects.back().key;
  }
  return out;
}

Result<std::string> ParseUploadId(std::string_view doc) {
  auto root = Expect(doc, "InitiateMultipartUploadResult");
  if (!root.ok()) return root.status();
  std::string id = root->ChildText("UploadId");
  if (id.empty()) return Malformed("InitiateMultipartUploadResult without an UploadId");
  return id;
}

Result<std::string> ParseCopyETag(std::string_view doc) {
  auto root = Parse(doc);
  if (!root.ok()) return root.status();
  if (root->name == "Error") {
    return Status(Code::kIOError, "the object store answered " + root->ChildText("Code") + ": " +
                                      root->ChildText("Message"));
  }
  if (root->name != "CopyObjectResult" && root->name != "CopyPartResult") {
    return Malformed("expected a copy result, got <" + root->name + ">");
  }
  std::string etag = root->ChildText("ETag");
  if (etag.empty()) return Malformed("copy result without an ETag");
  return etag;
}

Status ParseCompleteResult(std::string_view doc) {
  auto root = Expect(doc, "CompleteMultipartUploadResult");
  return root.ok() ? Status::Ok() : root.status();
}

Result<DeleteResult> ParseDeleteResult(std::string_view doc) {
  auto root = Expect(doc, "DeleteResult");
  if (!root.ok()) return root.status();
  DeleteResult out;
  for (const Node* d : root->Children("Deleted")) out.deleted.push_back(d->ChildText("Key"));
  for (const Node* e : root->Children("Error")) {
    out.errors.emplace_back(e->ChildText("Key"),
                            e->ChildText("Code") + ": " + e->ChildText("Message"));
  }
  return out;
}

std::optional<Error> ParseError(std::string_view doc) {
  auto root = Parse(doc);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  return Error{root->ChildText("Code"), root->ChildText("Message")};
}

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (s.size() < 20) return std::nullopt;
  auto num = [&](size_t at, size_t n, int* out) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (!num(0, 4, &y) || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' || !num(8, 2, &d) ||
      (s[10] != 'T' && s[10] != ' ') || !num(11, 2, &h) || s[13] != ':' || !num(14, 2, &mi) ||
      s[16] != ':' || !num(17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(t);
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    int64_t frac = 0;
    int digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (digits < 6) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
    }
    while (digits++ < 6) frac *= 10;
    tp += std::chrono::microseconds(frac);
  }
  return tp;
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "&#" + std::to_string(static_cast<int>(c)) + ";";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace dtr::storage::s3xml
