// UpstreamPool::acquire: round-robin over the endpoints the health snapshot lets take traffic,
// NoEndpoint when it lets none, Full (wait) when the usable ones are busy, retries elsewhere.
#include "proxy/upstream_pool.hpp"

#include <gtest/gtest.h>

namespace vane::proxy {
namespace {

std::vector<ResolvedEndpoint> endpoints(std::initializer_list<bool> resolved) {
  std::vector<ResolvedEndpoint> out;
  uint16_t port = 9001;
  for (bool r : resolved) {
    ResolvedEndpoint endpoint;
    endpoint.name = endpoint.authority = "127.0.0.1:" + std::to_string(port);
    endpoint.address = tcp::endpoint(net::ip::make_address("127.0.0.1"), port++);
    endpoint.resolved = r;
    out.push_back(endpoint);
  }
  return out;
}

/// The ConfigSnapshot index of the endpoint granted (a fresh slot, given back at once); -1 for none.
int pick(UpstreamPool& pool, const std::vector<bool>* usable,
         const UpstreamPool::Endpoint* avoid = nullptr) {
  UpstreamPool::Endpoint* endpoint = nullptr;
  std::optional<Stream> socket;
  const auto grant = pool.acquire(endpoint, socket, avoid, usable);
  if (grant != UpstreamPool::Grant::Open) return -1;
  pool.closed(*endpoint);
  return static_cast<int>(endpoint->index);
}

TEST(UpstreamPool, RoundRobinWithoutSnapshot) {
  const auto list = endpoints({true, true});
  UpstreamPool pool(list, 4);
  EXPECT_EQ(pick(pool, nullptr), 0);
  EXPECT_EQ(pick(pool, nullptr), 1);
  EXPECT_EQ(pick(pool, nullptr), 0);
}

TEST(UpstreamPool, SkipsUnusableEndpoints) {
  const auto list = endpoints({true, true, true});
  UpstreamPool pool(list, 4);
  const std::vector<bool> usable{true, false, true};
  for (int i = 0; i < 6; ++i) EXPECT_NE(pick(pool, &usable), 1) << "request " << i;
}

TEST(UpstreamPool, IndicesCountUnresolvedEndpoints) {
  // The pool holds only resolved addresses; the snapshot is indexed like ConfigSnapshot::endpoints.
  const auto list = endpoints({false, true, true});
  UpstreamPool pool(list, 4);
  const std::vector<bool> usable{false, false, true};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pick(pool, &usable), 2);
}

TEST(UpstreamPool, NoUsableEndpointIsNoEndpoint) {
  const auto list = endpoints({true, true});
  UpstreamPool pool(list, 4);
  const std::vector<bool> none{false, false};
  UpstreamPool::Endpoint* endpoint = nullptr;
  std::optional<Stream> socket;
  EXPECT_EQ(pool.acquire(endpoint, socket, nullptr, &none), UpstreamPool::Grant::NoEndpoint);
}

TEST(UpstreamPool, BusyUsableEndpointIsFullNotNoEndpoint) {
  const auto list = endpoints({true, true});
  UpstreamPool pool(list, 1);
  const std::vector<bool> usable{true, false};
  UpstreamPool::Endpoint* held = nullptr;
  std::optional<Stream> socket;
  ASSERT_EQ(pool.acquire(held, socket, nullptr, &usable), UpstreamPool::Grant::Open);
  UpstreamPool::Endpoint* endpoint = nullptr;
  EXPECT_EQ(pool.acquire(endpoint, socket, nullptr, &usable), UpstreamPool::Grant::Full)
      << "the unusable endpoint must not serve because the usable one is busy";
  pool.closed(*held);
}

TEST(UpstreamPool, RetryAvoidsTheFailedEndpointAmongUsableOnes) {
  const auto list = endpoints({true, true, true});
  UpstreamPool pool(list, 4);
  UpstreamPool::Endpoint* first = nullptr;
  std::optional<Stream> socket;
  ASSERT_EQ(pool.acquire(first, socket), UpstreamPool::Grant::Open);
  pool.closed(*first);
  std::vector<bool> usable(3, true);
  usable[(first->index + 1) % 3] = false;
  for (int i = 0; i < 4; ++i) {
    const int again = pick(pool, &usable, first);
    EXPECT_EQ(again, static_cast<int>((first->index + 2) % 3)) << "request " << i;
  }
  // The avoided endpoint still serves when it is the only usable one.
  std::vector<bool> only(3, false);
  only[first->index] = true;
  EXPECT_EQ(pick(pool, &only, first), static_cast<int>(first->index));
}

}  // namespace
}  // namespace vane::proxy
