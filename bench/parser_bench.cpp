// Microbenchmarks of the request-head parser: the per-request parsing cost on the hot path.
// Single-threaded; the RequestHead is reused across iterations as a session reuses its own.
#include <benchmark/benchmark.h>

#include <string_view>

#include "proxy/http/message.hpp"
#include "proxy/http/parser.hpp"

namespace {

using vane::proxy::http::Limits;
using vane::proxy::http::ParseError;
using vane::proxy::http::ParseStatus;
using vane::proxy::http::RequestHead;

constexpr std::string_view kMinimal = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

// What a browser sends for a page: 8 fields, 412 bytes.
constexpr std::string_view kBrowser =
    "GET /products/shoes?color=blue&size=42 HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=3f2a9c1e7b40d2; vane-bucket=4821\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "\r\n";

void parse_loop(benchmark::State& state, std::string_view request) {
  const Limits limits;
  RequestHead head;
  ParseError err;
  if (vane::proxy::http::parse_request(request, limits, head, err) != ParseStatus::Complete) {
    state.SkipWithError("the sample request does not parse as Complete");
    return;
  }
  for (auto _ : state) {
    std::string_view data = request;
    benchmark::DoNotOptimize(data);
    ParseStatus status = vane::proxy::http::parse_request(data, limits, head, err);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(head);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(request.size()));
  state.counters["head_bytes"] = static_cast<double>(request.size());
  state.counters["fields"] = static_cast<double>(head.fields.size());
}

void BM_parse_request_minimal(benchmark::State& state) { parse_loop(state, kMinimal); }
void BM_parse_request_browser(benchmark::State& state) { parse_loop(state, kBrowser); }

BENCHMARK(BM_parse_request_minimal);
BENCHMARK(BM_parse_request_browser);

}  // namespace

BENCHMARK_MAIN();
