// etcd's gateway JSON read and written (control/etcd_codec, control/etcd_watch_reader), and an
// EtcdClient facing a fake gateway on loopback: garbage JSON, bad base64, wrong types and error
// answers become error results naming the endpoint and the call, never a crash; a watch stream
// cut anywhere reads the same; a member that answers 503 is failed over. Every wait is bounded.
#include "control/etcd_codec.hpp"

#include <map>

#include "control/etcd_watch_reader.hpp"
#include "tests/control/etcd_test_fixture.hpp"
#include "tests/control/http_test_server.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using namespace etcd_codec;
using test::answer;
using test::Reply;
using test::Seen;
using test::TestServer;

TEST(EtcdCodecTest, Base64RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    EXPECT_EQ(base64_decode(base64_encode(bytes.substr(0, n))), bytes.substr(0, n)) << n;
  }
  EXPECT_EQ(base64_encode("/vane/x/state/shop"), "L3ZhbmUveC9zdGF0ZS9zaG9w");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(EtcdCodecTest, Base64RefusesWhatEtcdNeverWrites) {
  for (const char* bad : {"YQ", "YQ=", "Y===", "YQ=a", "Y Q=", "YQ==\n", " YQ==", "YQ-_", "#abc"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(EtcdCodecTest, MalformedAnswersAreErrors) {
  const std::vector<std::pair<std::string, std::string>> ranges = {
      {R"({"kvs": [)", "incomplete JSON"},
      {R"({"kvs": ]})", "syntax error"},
      {R"([1, 2])", "not a JSON object"},
      {R"({"kvs": {"key": "YQ=="}})", "\"kvs\" is not an array"},
      {R"({"kvs": [{"key": "%%%"}]})", "\"key\" is not base64"},
      {R"({"kvs": [{"key": 5}]})", "\"key\" is not base64"},
      {R"({"kvs": [7]})", "a kv is not an object"},
      {R"({"header": {"revision": {"n": 1}}})", "\"revision\" is not a 64-bit number"},
      {R"({"header": {"revision": "12x"}})", "\"revision\" is not a 64-bit number"},
      {R"({"header": {"revision": "99999999999999999999"}})",  // past int64
       "\"revision\" is not a 64-bit number"},
      {R"({"header": "x"})", "\"header\" is not an object"}};
  for (const auto& [body, problem] : ranges) {
    EtcdRange range;
    EXPECT_EQ(read_range(body, range), "malformed answer: " + problem) << body;
  }
  EtcdTxn txn;
  EXPECT_EQ(read_txn(R"({"succeeded": "yes"})", txn),
            "malformed answer: \"succeeded\" is not a boolean");
  EtcdLease lease;
  EXPECT_EQ(read_grant(R"({"TTL": "5"})", lease), "malformed answer: no lease ID");
  EXPECT_EQ(read_keepalive(R"({"ID": "5"})", lease), "malformed answer: no \"result\"");
  EXPECT_EQ(read_keepalive(R"({"result": [1]})", lease),
            "malformed answer: \"result\" is not an object");
}

TEST(EtcdCodecTest, AnswersAreReadWithTheirOmittedFields) {
  EtcdRange range;
  EXPECT_EQ(read_range(R"({"header": {"revision": "7"}, "kvs": [{"key": "YQ==",
      "create_revision": "3", "mod_revision": 6, "version": "2", "lease": "42"}], "count": "1"})",
                       range),
            "");
  EXPECT_EQ(range.revision, 7);
  ASSERT_EQ(range.kvs.size(), 1u);
  EXPECT_EQ(range.kvs[0].key, "a");
  EXPECT_EQ(range.kvs[0].value, "");  // omitted: empty
  EXPECT_EQ(range.kvs[0].create_revision, 3);
  EXPECT_EQ(range.kvs[0].mod_revision, 6);  // a plain number is read too
  EXPECT_EQ(range.kvs[0].lease, 42);
  EtcdTxn txn;
  EXPECT_EQ(read_txn(R"({"header": {"revision": "9"}})", txn), "");
  EXPECT_FALSE(txn.succeeded);  // omitted: false
  EXPECT_EQ(txn.revision, 9);
  EtcdLease lease;
  EXPECT_EQ(read_keepalive(R"({"result": {"ID": "123"}})", lease), "");
  EXPECT_EQ(lease.id, 123);
  EXPECT_EQ(lease.ttl, 0);  // omitted: the lease is gone
  EXPECT_EQ(read_revoke(R"({"error": "etcdserver: requested lease not found", "code": 5})"),
            "etcdserver: requested lease not found (code 5)");
  EXPECT_EQ(read_keepalive(R"({"error": {"grpc_code": 14, "message": "no leader"}})", lease),
            "no leader (code 14)");
}

TEST(EtcdCodecTest, RequestsCarryBase64AndNumbersAsStrings) {
  EXPECT_EQ(range_request("/a/", "/a0"), R"({"key":"L2Ev","range_end":"L2Ew"})");
  EXPECT_EQ(put_request("a", "", 7), R"({"key":"YQ==","value":"","lease":"7"})");
  EXPECT_EQ(lease_request(4111120458838221064), R"({"ID":"4111120458838221064"})");
  EXPECT_EQ(txn_request({{"a", EtcdCompare::Target::Create, 3, ""}},
                        {{EtcdOp::Kind::DeletePrefix, "a", "", 0}}, {}),
            R"({"compare":[{"key":"YQ==","target":"CREATE","result":"EQUAL",)"
            R"("create_revision":"3"}],"success":[{"request_delete_range":{"key":"YQ==",)"
            R"("range_end":"Yg=="}}],"failure":[]})");
  EXPECT_EQ(watch_request("a", "b", 0), R"({"create_request":{"key":"YQ==","range_end":"Yg=="}})");
}

/// A watch stream as etcd writes it: created, two batches (one a delete), then a put.
const std::string kStream =
    R"({"result":{"header":{"revision":"3"},"created":true}})" "\n"
    R"({"result":{"header":{"revision":"4"},"events":[{"kv":{"key":"YQ==","value":"MQ==",)"
    R"("create_revision":"4","mod_revision":"4","version":"1"}}]}})" "\n"
    R"({"result":{"header":{"revision":"5"},"events":[{"type":"DELETE","kv":{"key":"YQ==",)"
    R"("mod_revision":"5"}}]}})" "\n";

TEST(EtcdWatchReaderTest, AStreamCutAnywhereReadsTheSame) {
  for (size_t cut = 1; cut <= kStream.size(); cut += 5) {
    std::vector<EtcdWatchBatch> batches;
    EtcdWatchReader reader([&](EtcdWatchBatch&& b) { batches.push_back(std::move(b)); });
    for (size_t at = 0; at < kStream.size(); at += cut) {
      EXPECT_TRUE(reader.feed(std::string_view(kStream).substr(at, cut)));
    }
    EXPECT_TRUE(reader.created());
    ASSERT_EQ(batches.size(), 2u) << cut;
    EXPECT_EQ(batches[0].revision, 4);
    EXPECT_EQ(batches[0].events.at(0).kv.value, "1");
    EXPECT_EQ(batches[1].events.at(0).type, EtcdEvent::Type::Delete);
    EXPECT_EQ(batches[1].events.at(0).kv.mod_revision, 5);
  }
}

TEST(EtcdWatchReaderTest, WhatEndsAWatch) {
  const std::map<std::string, std::string> ends = {
      {R"({"result":{"canceled":true,"compact_revision":"3"}})", "compacted: 3"},
      {R"({"result":{"canceled":true,"cancel_reason":"bye"}})", "cancelled by etcd: bye"},
      {R"({"error":{"grpc_code":14,"message":"no leader"}})", "no leader (code 14)"},
      {R"(not json)", "malformed answer: syntax error"},
      {R"({"result":{"events":[{"type":"MOVE","kv":{}}]}})",
       "malformed answer: an event's \"type\" is neither PUT nor DELETE"},
      {R"({"result":{"events":[{"kv":{"key":"!"}}]}})", "malformed answer: \"key\" is not base64"},
      {R"({"result":{"events":[{"type":"PUT"}]}})", "malformed answer: an event has no \"kv\""},
      {R"({"result":7})", "malformed answer: no \"result\" object"}};
  for (const auto& [line, end] : ends) {
    int batches = 0;
    EtcdWatchReader reader([&](EtcdWatchBatch&&) { ++batches; });
    EXPECT_FALSE(reader.feed(line + "\n" + kStream)) << line;
    EXPECT_EQ(reader.end().rfind(end, 0), 0u) << reader.end();
    EXPECT_EQ(batches, 0);
  }
}

class EtcdFakeGatewayTest : public test::EtcdClientFixture {
 protected:
  static std::string base(const TestServer& server) {
    return "http://127.0.0.1:" + std::to_string(server.port());
  }
};

TEST_F(EtcdFakeGatewayTest, AMalformedAnswerIsAnErrorNamingTheEndpointAndTheCall) {
  std::map<std::string, Reply> answers = {
      {"/v3/kv/range", answer(200, "<html>")},
      {"/v3/kv/put", answer(200, R"({"header": {"revision": [1]}})")},
      {"/v3/kv/txn", answer(400, R"({"error": "etcdserver: too many operations", "code": 3})")},
      {"/v3/lease/grant", answer(500, "Internal Server Error")},
      {"/v3/lease/keepalive", answer(200, R"({"result": {"ID": "1", "TTL": true}})")},
      {"/v3/lease/revoke", answer(200, "{")}};
  TestServer server(io, [&](const Seen& seen) { return answers.at(seen.target); });
  EtcdClient client(http, test::etcd_settings({base(server) + "/"}));  // the '/' is dropped
  const std::string etcd = "etcd " + base(server) + " ";
  EXPECT_EQ(run(client.get("a")).error, etcd + "kv/range: malformed answer: syntax error");
  EXPECT_EQ(run(client.put("a", "b")).error,
            etcd + "kv/put: malformed answer: \"revision\" is not a 64-bit number");
  EXPECT_EQ(run(client.txn({}, {})).error,
            etcd + "kv/txn: etcdserver: too many operations (code 3)");
  EXPECT_EQ(run(client.grant(5s)).error, etcd + "lease/grant: HTTP 500");
  EXPECT_EQ(run(client.keepalive(1)).error,
            etcd + "lease/keepalive: malformed answer: \"TTL\" is not a 64-bit number");
  EXPECT_EQ(run(client.revoke(1)).rfind(etcd + "lease/revoke: malformed answer: ", 0), 0u);
}

TEST_F(EtcdFakeGatewayTest, AWatchReadsAStreamCutAnywhere) {
  Reply stream;
  for (size_t at = 0; at < kStream.size(); at += 7) stream.chunks.push_back(kStream.substr(at, 7));
  TestServer server(io, [&](const Seen&) { return stream; });
  EtcdClient client(http, test::etcd_settings({base(server)}));
  const auto watch = start_watch(client, "a", 0);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(*watch->end, "etcd " + base(server) + " watch: the stream ended");
  EXPECT_EQ(server.seen().at(0).target, "/v3/watch");
  EXPECT_EQ(server.seen().at(0).body, watch_request("a", "b", 0));
  ASSERT_EQ(watch->events.size(), 2u);
  EXPECT_EQ(watch->batch_revisions, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(watch->events[1].type, EtcdEvent::Type::Delete);
}

TEST_F(EtcdFakeGatewayTest, AWatchAnsweredWithGarbageOrAnErrorEndsWithIt) {
  std::vector<Reply> replies = {answer(200, R"({"result":{"created":true}})" "\ngarbage\n"),
                                answer(400, R"({"error":"etcdserver: bad","code":3})"),
                                answer(404, "Not Found")};
  TestServer server(io, [&](const Seen& seen) {
    return replies.at(static_cast<size_t>(seen.connection_id - 1));
  });
  EtcdClient client(http, test::etcd_settings({base(server)}));
  const std::string etcd = "etcd " + base(server) + " watch: ";
  for (const std::string& end : {etcd + "malformed answer: syntax error",
                                 etcd + "etcdserver: bad (code 3)", etcd + "HTTP 404"}) {
    const auto watch = start_watch(client, "a", 0);
    ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
    EXPECT_EQ(*watch->end, end);
    EXPECT_TRUE(watch->events.empty());
  }
}

TEST_F(EtcdFakeGatewayTest, AMemberThatCannotServeIsFailedOver) {
  TestServer sick(io, [](const Seen&) {
    return answer(503, R"({"error": "etcdserver: no leader", "code": 14})");
  });
  TestServer well(io, [](const Seen&) { return answer(200, R"({"header": {"revision": "2"}})"); });
  EtcdClient reader(http, test::etcd_settings({base(sick), base(well)}));
  const EtcdRange got = run(reader.get("a"));
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.revision, 2);
  EXPECT_EQ(reader.endpoint(), base(well));
  EXPECT_EQ(sick.seen().size(), 1u);
  EXPECT_EQ(well.seen().size(), 1u);
  EtcdClient writer(http, test::etcd_settings({base(sick), base(well)}));
  const EtcdTxn put = run(writer.put("a", "b"));
  EXPECT_EQ(put.error, "etcd " + base(sick) + " kv/put: etcdserver: no leader (code 14)");
  EXPECT_EQ(well.seen().size(), 1u);  // never sent twice
  EXPECT_EQ(writer.endpoint(), base(well));
  const EtcdTxn again = run(writer.put("a", "b"));
  EXPECT_TRUE(again.ok()) << again.error;
}

TEST_F(EtcdFakeGatewayTest, ACancelledWatchStaysWithItsEndpoint) {
  Reply endless;
  endless.chunks = {kStream};
  endless.endless = true;
  TestServer first(io, [&](const Seen&) { return endless; });
  TestServer second(io, [&](const Seen&) { return endless; });
  EtcdClient client(http, test::etcd_settings({base(first), base(second)}));
  const auto watch = start_watch(client, "a", 0);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() == 2; }));
  watch->cancel->cancel();
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(*watch->end, "cancelled");
  EXPECT_EQ(client.endpoint(), base(first));
  first.close_connections();  // a watch broken off moves on
  const auto again = start_watch(client, "a", 0);
  ASSERT_TRUE(test::run_until(io, [&] { return again->events.size() == 2; }));
  first.close_connections();
  ASSERT_TRUE(test::run_until(io, [&] { return again->end.has_value(); }));
  EXPECT_EQ(again->end->rfind("etcd " + base(first) + " watch: cannot read the answer: ", 0), 0u)
      << *again->end;
  EXPECT_EQ(client.endpoint(), base(second));
}

TEST_F(EtcdFakeGatewayTest, WithoutEndpointsEveryCallFails) {
  EtcdClient client(http, test::etcd_settings({}));
  EXPECT_EQ(run(client.get("a")).error, "etcd kv/range: no endpoints");
  EXPECT_EQ(run(client.revoke(1)), "etcd lease/revoke: no endpoints");
  const auto watch = start_watch(client, "a", 0);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(*watch->end, "etcd watch: no endpoints");
  EXPECT_EQ(client.endpoint(), "");
}

}  // namespace
}  // namespace vane::control
