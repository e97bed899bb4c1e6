// The JSON gateway's wire format, on answers captured from etcd 3.4.23.
#include "config/etcd_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dtr::config::etcd {
namespace {

using nlohmann::json;

TEST(EtcdJson, Requests) {
  EXPECT_EQ(json::parse(RangeRequest("a/b", "")), json({{"key", "YS9i"}}));
  EXPECT_EQ(json::parse(RangeRequest("a/", "a0")), json({{"key", "YS8="}, {"range_end", "YTA="}}));
  EXPECT_EQ(json::parse(PutRequest("a/b", "")), json({{"key", "YS9i"}, {"value", ""}}));
  EXPECT_EQ(json::parse(DeleteRangeRequest(std::string(1, '\0'))), json({{"key", "AA=="}}));
  json cas = json::parse(CompareAndSwapRequest("k", 7, "v"));
  EXPECT_EQ(cas["compare"][0]["mod_revision"], "7");
  EXPECT_EQ(cas["compare"][0]["target"], "MOD");
  EXPECT_EQ(cas["success"][0]["request_put"]["value"], "dg==");
  EXPECT_EQ(cas["failure"][0]["request_range"]["key"], "aw==");
  json del = json::parse(CompareAndSwapRequest("k", 7, std::nullopt));
  EXPECT_EQ(del["success"][0]["request_delete_range"]["key"], "aw==");
  json w = json::parse(WatchCreateRequest("a/", "a0", 12));
  EXPECT_EQ(w["create_request"]["start_revision"], "12");
  EXPECT_FALSE(
      json::parse(WatchCreateRequest("a/", "a0", 0))["create_request"].contains("start_revision"));
}

TEST(EtcdJson, ParsesRange) {
  auto r = ParseRange(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},"kvs":[{"key":"YS9i","create_revision":"2","mod_revision":"2","version":"1","value":"aGVsbG8="}],"count":"1"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->revision, 2);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "a/b");
  EXPECT_EQ(r->kvs[0].value, "hello");
  EXPECT_EQ(r->kvs[0].mod_revision, 2);
  // Empty: the fields are left out.
  auto empty = ParseRange(R"({"header":{"revision":"9"}})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->kvs.empty());
  // An empty value is left out too.
  auto nv = ParseRange(R"({"header":{"revision":"9"},"kvs":[{"key":"YQ==","mod_revision":"8"}]})");
  ASSERT_TRUE(nv.ok());
  EXPECT_EQ(nv->kvs[0].value, "");
}

TEST(EtcdJson, ParsesWritesAndTransactions) {
  auto put = ParseWrite(R"({"header":{"revision":"3","raft_term":"2"}})");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->revision, 3);
  auto del = ParseWrite(R"({"header":{"revision":"4"},"deleted":"1"})");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted, 1);
  auto ok = ParseTxn(
      R"({"header":{"revision":"3"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->succeeded);
  EXPECT_EQ(ok->revision, 3);
  auto lost = ParseTxn(
      R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"YS9i","create_revision":"2","mod_revision":"2","version":"1","value":"aGVsbG8="}],"count":"1"}}]})");
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->succeeded);
  ASSERT_EQ(lost->ranges.size(), 1u);
  EXPECT_EQ(lost->ranges[0].kvs[0].mod_revision, 2);
  EXPECT_FALSE(ParseWrite(R"({"header":{}})").ok()) << "a write always has a revision";
}

TEST(EtcdJson, ParsesWatchMessages) {
  auto created = ParseWatchMessage(R"({"result":{"header":{"revision":"6"},"created":true}})");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  auto events = ParseWatchMessage(
      R"({"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"Yi94","create_revision":"7","mod_revision":"8","version":"2"}},{"type":"DELETE","kv":{"key":"Yi94","mod_revision":"9"}}]}})");
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_FALSE(events->events[0].deleted);
  EXPECT_EQ(events->events[0].kv.key, "b/x");
  EXPECT_EQ(events->events[0].kv.value, "");
  EXPECT_TRUE(events->events[1].deleted);
  EXPECT_EQ(events->events[1].kv.mod_revision, 9);
  auto compacted = ParseWatchMessage(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"3"}})");
  ASSERT_TRUE(compacted.ok());
  EXPECT_TRUE(compacted->canceled);
  EXPECT_EQ(compacted->compact_revision, 3);
  auto err = ParseWatchMessage(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_FALSE(err.ok());
  EXPECT_TRUE(err.status().is(Code::kUnavailable));
  EXPECT_TRUE(RejectedBeforeProposal(err.status()));
}

TEST(EtcdJson, Errors) {
  Status s = ErrorFromResponse(
      400,
      R"({"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11})");
  EXPECT_TRUE(s.is(Code::kOutOfRange)) << s.message();
  EXPECT_NE(s.message().find("compacted"), std::string::npos);
  Status leader = ErrorFromResponse(
      503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})");
  EXPECT_TRUE(leader.is(Code::kUnavailable));
  EXPECT_TRUE(RejectedBeforeProposal(leader));
  Status timeout = ErrorFromResponse(
      503,
      R"({"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14})");
  EXPECT_TRUE(timeout.is(Code::kUnavailable));
  EXPECT_FALSE(RejectedBeforeProposal(timeout));
  // The gateway lost its connection to the member: another member may answer, but a
  // write may have been applied.
  Status eof =
      ErrorFromResponse(500, R"({"error":"unexpected EOF","message":"unexpected EOF","code":2})");
  EXPECT_TRUE(eof.is(Code::kUnavailable)) << eof.message();
  EXPECT_FALSE(RejectedBeforeProposal(eof));
  EXPECT_TRUE(
      ErrorFromResponse(
          503, R"({"error":"rpc error: code = Unavailable desc = transport is closing","code":14})")
          .is(Code::kUnavailable));
  EXPECT_TRUE(
      ErrorFromResponse(500, R"({"error":"mvcc: something else","code":2})").is(Code::kIOError));
  EXPECT_TRUE(ErrorFromResponse(404, "Not Found").is(Code::kUnsupported));
  EXPECT_TRUE(ErrorFromResponse(502, "<html>").is(Code::kUnavailable));
}

TEST(EtcdJson, RejectsMalformedAnswers) {
  for (const char* bad : {"", "[]", "{", "null", R"({"kvs":{}})", R"({"kvs":[{"key":"!!"}]})",
                          R"({"header":{"revision":"x"}})", R"({"header":{"revision":"1x"}})",
                          R"({"header":[]})", R"({"kvs":[1]})", R"({"header":{"revision":""}})"}) {
    EXPECT_FALSE(ParseRange(bad).ok()) << bad;
  }
  for (const char* bad :
       {"{}", R"({"result":{"events":[{"type":"BOGUS","kv":{"key":"YQ==","mod_revision":"1"}}]}})",
        R"({"result":{"events":[{"kv":{"key":"YQ=="}}]}})", R"({"result":{"events":[{}]}})",
        R"({"result":{"created":"yes"}})"}) {
    EXPECT_FALSE(ParseWatchMessage(bad).ok()) << bad;
  }
}

TEST(JsonStreamSplitter, SplitsWhateverTheChunking) {
  const std::string stream =
      R"({"result":{"created":true}})"
      "\n"
      R"({"result":{"events":[{"kv":{"key":"e30=","value":"In0i"}}],"s":"}{\"\\"}})"
      "\n  "
      R"({"a":[1,{"b":"]"}]})";
  const std::vector<std::string> want = {
      R"({"result":{"created":true}})",
      R"({"result":{"events":[{"kv":{"key":"e30=","value":"In0i"}}],"s":"}{\"\\"}})",
      R"({"a":[1,{"b":"]"}]})"};
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    JsonStreamSplitter s;
    std::vector<std::string> got;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      s.Feed(std::string_view(stream).substr(i, chunk));
      while (auto m = s.Next()) got.push_back(*m);
    }
    EXPECT_EQ(got, want) << "chunk " << chunk;
    EXPECT_EQ(s.buffered(), 0u);
  }
}

TEST(JsonStreamSplitter, SurfacesGarbageAsAValue) {
  JsonStreamSplitter s;
  s.Feed("garbage {\"a\":1}");
  auto first = s.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, "garbage");
  auto second = s.Next();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, "{\"a\":1}");
}

}  // namespace
}  // namespace dtr::config::etcd
