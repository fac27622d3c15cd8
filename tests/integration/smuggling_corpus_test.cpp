// The malformed-request corpus (tests/differential/corpus.txt: SPEC §3's bad-requests table plus
// published request-smuggling and conformance vectors, each citing its source) against the real
// vane binary: for every case, vane's answer, whether it closes the connection, and that the
// upstream sees exactly the requests the case allows -- never a hidden one. One vane process, every
// case on a fresh connection; a canary request follows most cases in the same write and must come
// back from the upstream as itself (a desync would answer it as something else).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/corpus_file.hpp"
#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

// Short timeouts so that the SPEC §3 timeout rows (client: stall) take a second, not ten.
constexpr std::string_view corpus_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
limits: {requestHeaderTimeout: 1s, requestBodyTimeout: 1s, idleTimeout: 2s}
upstreams:
  - {name: origin, endpoints: ["{{origin}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: origin}
)";

const std::string canary = "GET /canary HTTP/1.1\r\nHost: x.test\r\n\r\n";
const std::string canary_answer = "origin GET /canary\n";  // vane-test-upstream's body for it

struct Outcome {
  std::vector<int> statuses;  ///< final statuses in order (1xx left out)
  std::vector<std::string> bodies;
  bool closed = false;
  uint64_t forwarded = 0;  ///< requests the upstream read during the case
};

using Connection = CorpusAnswer::Connection;

bool expects_canary(const CorpusCase& c, const CorpusAnswer& a) {
  return c.canary && a.connection != Connection::Close;
}

/// The most answers any acceptable outcome has: reading stops there instead of at a timeout.
size_t most_answers(const CorpusCase& c) {
  size_t most = 0;
  for (const CorpusAnswer& a : c.answers)
    most = std::max(most, a.statuses.size() + (expects_canary(c, a) ? 1 : 0));
  return most;
}

bool statuses_match(const CorpusAnswer& a, const std::vector<int>& got) {
  if (got.size() != a.statuses.size()) return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!a.statuses[i].contains(got[i])) return false;
  return true;
}

/// Does `out` fit answer `a`? With keep the canary must have been answered by the upstream as
/// itself; with any it may have been.
bool fits(const CorpusCase& c, const CorpusAnswer& a, const Outcome& out) {
  std::vector<int> got = out.statuses;
  const bool canary_back = expects_canary(c, a) && !got.empty() && got.back() == 200 &&
                           out.bodies.back() == canary_answer && got.size() == a.statuses.size() + 1;
  if (a.connection == Connection::Keep && c.canary && !canary_back) return false;
  if (canary_back) got.pop_back();
  if (!statuses_match(a, got)) return false;
  if (a.connection == Connection::Close && !out.closed) return false;
  const uint64_t own = out.forwarded - (canary_back ? 1 : 0);
  return own >= c.forward_min && own <= c.forward_max;
}

bool may_close(const CorpusCase& c, const std::vector<int>& statuses) {
  return std::ranges::any_of(c.answers, [&](const CorpusAnswer& a) {
    return a.connection == Connection::Close && statuses_match(a, statuses);
  });
}

/// Sends the case (and the canary) on a fresh connection and reads what vane answers.
Outcome talk(const CorpusCase& c, uint16_t port) {
  Outcome out;
  RawClient client(port);
  client.send(c.bytes + (c.canary ? canary : ""), 15s);  // false when vane closed first (413)
  if (c.half_close) client.shutdown_send();
  const bool head = c.bytes.starts_with("HEAD ");
  const size_t want = most_answers(c);
  while (out.statuses.size() < want) {
    const Response r = client.read_response(c.stall ? 5s : 3s, head);
    if (r.status >= 100 && r.status < 200) continue;
    if (r.status == 0) {
      out.closed = r.peer_closed;
      return out;
    }
    out.statuses.push_back(r.status);
    out.bodies.push_back(r.body);
    if (r.peer_closed) {
      out.closed = true;
      return out;
    }
  }
  if (may_close(c, out.statuses)) out.closed = client.wait_closed(2s);
  return out;
}

std::string describe(const CorpusCase& c, const Outcome& out) {
  std::ostringstream s;
  s << c.id << ": got";
  for (int status : out.statuses) s << ' ' << status;
  if (out.statuses.empty()) s << " no answer";
  s << (out.closed ? ", closed" : ", open") << ", upstream saw " << out.forwarded
    << " request(s); corpus wants forward " << c.forward_min << ".." << c.forward_max
    << "\n  rfc: " << c.rfc;
  for (const std::string& source : c.sources) s << "\n  source: " << source;
  for (const std::string& body : out.bodies)
    if (body.find("smuggled") != std::string::npos) s << "\n  UPSTREAM ANSWERED A HIDDEN REQUEST: " << body;
  return s.str();
}

/// Requests the upstream has read. With `settle`, once the count has not changed for 100 ms (a
/// head vane forwarded just before it found the body bad may still be on its way), at most 1 s.
uint64_t settled_requests(const TestUpstream& upstream, bool settle) {
  uint64_t now = upstream.stats().requests;
  int quiet_polls = 0;
  for (int i = 0; settle && quiet_polls < 5 && i < 50; ++i) {
    std::this_thread::sleep_for(20ms);
    const uint64_t again = upstream.stats().requests;
    quiet_polls = again == now ? quiet_polls + 1 : 0;
    now = again;
  }
  return now;
}

const std::vector<CorpusCase>& corpus() {
  static const std::vector<CorpusCase> cases = load_corpus(VANE_CORPUS_FILE);
  return cases;
}

TEST(SmugglingCorpus, VaneAnswersEveryCaseAsTheCorpusSays) {
  TestUpstream origin("origin");
  Vane vane(render(std::string(corpus_yaml), {{"origin", origin.address()}}));
  uint64_t seen = origin.stats().requests;
  size_t passed = 0;
  for (const CorpusCase& c : corpus()) {
    Outcome out = talk(c, vane.port());
    const uint64_t now = settled_requests(origin, c.forward_min != c.forward_max);
    out.forwarded = now - seen;
    seen = now;
    const bool ok = std::ranges::any_of(c.answers, [&](const CorpusAnswer& a) { return fits(c, a, out); });
    const bool hidden = std::ranges::any_of(out.bodies, [](const std::string& b) {
      return b.find("smuggled") != std::string::npos;
    });
    if (ok && !hidden) ++passed;
    else ADD_FAILURE() << describe(c, out);
    ASSERT_TRUE(vane.process().running()) << "vane died on case " << c.id;
  }
  // A request forwarded after its case was judged would show here.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(origin.stats().requests, seen) << "the upstream saw requests after their case ended";
  EXPECT_EQ(http_get(vane.port(), "/").status, 200) << "vane no longer serves after the corpus";
  std::cout << "[ corpus ] " << passed << " of " << corpus().size() << " cases as expected\n";
}

// Every row of SPEC §3's bad-requests table is in the corpus, and every case says where it comes
// from and which RFC section makes its answer right.
TEST(SmugglingCorpus, CoversTheSpecTableAndCitesEverySource) {
  const std::vector<std::string> spec_rows = {
      "Content-Length together with Transfer-Encoding", "chunked, gzip", "gzip, chunked",
      "xchunked", "Content-Length 5, 6", "several Content-Length", "non-digits", "overflow",
      "non-hex chunk size", "overflowing chunk size", "missing CRLF", "bare LF", "bad chunk-ext",
      "body shorter than declared", "obs-fold", "whitespace before ':'", "CR in a value",
      "LF in a value", "NUL in a value", "empty name", "HTTP/1.1 without Host", "several Host",
      "invalid Host", "absolute-form authority differs from Host", "malformed request line",
      "malformed method", "* without OPTIONS", "authority-form without CONNECT", "no leading /",
      "HTTP version other than 1.0/1.1", "request line over maxRequestLineBytes",
      "header section over maxRequestHeaderBytes", "more than maxRequestHeaders fields",
      "body over maxRequestBodyBytes (Content-Length)", "body over maxRequestBodyBytes (chunked)",
      "413 without 100 Continue", "Expect other than 100-continue",
      "headers not complete within requestHeaderTimeout", "body stalls past requestBodyTimeout",
      "no byte at all", "idle past idleTimeout", "Upgrade: websocket", "Upgrade: h2c"};
  const auto& cases = corpus();
  EXPECT_GE(cases.size(), 150U);
  for (const std::string& row : spec_rows) {
    const bool covered = std::ranges::any_of(cases, [&](const CorpusCase& c) {
      return std::ranges::any_of(c.sources, [&](const std::string& s) {
        return s.starts_with("SPEC §3") && s.find(row) != std::string::npos;
      });
    });
    EXPECT_TRUE(covered) << "no corpus case for SPEC §3 row: " << row;
  }
  std::set<std::string> ids;
  for (const CorpusCase& c : cases) {
    EXPECT_TRUE(ids.insert(c.id).second) << "duplicate case " << c.id;
    EXPECT_FALSE(c.sources.empty()) << c.id << " cites no source";
    EXPECT_FALSE(c.rfc.empty()) << c.id << " names no RFC section";
    EXPECT_FALSE(c.answers.empty()) << c.id << " expects nothing";
  }
}

}  // namespace
}  // namespace vane::it
