// Failure: the answer each failure gets when nothing was sent yet (SPEC §3 and the bad-request
// table), and which failures count against the endpoint for passive ejection.
#include "proxy/failure.hpp"

#include <gtest/gtest.h>

namespace vane::proxy {
namespace {

TEST(Failure, AnswerAndBlame) {
  struct Row {
    Failure failure;
    int status;
    bool blames_endpoint;
  };
  const Row rows[] = {
      {Failure::NoRoute, 404, false},       {Failure::TooLarge, 413, false},
      {Failure::BadBody, 400, false},       {Failure::ShortBody, 400, false},
      {Failure::ClientTimeout, 408, false}, {Failure::NoEndpoint, 503, false},
      {Failure::PoolFull, 503, false},      {Failure::Connect, 502, true},
      {Failure::Reset, 502, true},          {Failure::Protocol, 502, true},
      {Failure::Timeout, 504, true},        {Failure::Status5xx, 502, true},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(answer_status(row.failure), row.status) << int(row.failure);
    EXPECT_EQ(blames_endpoint(row.failure), row.blames_endpoint) << int(row.failure);
  }
  EXPECT_FALSE(blames_endpoint(Failure::ClientGone));
  EXPECT_FALSE(blames_endpoint(Failure::None));
}

// SPEC §3: a response cut short by its upstream counts as a 5xx whatever status was sent; a
// client that went away or stopped reading is never a failure of the upstream.
TEST(Failure, CutStatusSaysWhoseFaultItWas) {
  struct Row {
    Failure failure;
    int sent;
    int measured;
  };
  const Row rows[] = {
      {Failure::Reset, 200, 502},          {Failure::Protocol, 200, 502},
      {Failure::Timeout, 200, 504},        {Failure::Reset, 404, 502},
      {Failure::ClientTimeout, 200, 200},  {Failure::ClientGone, 200, 200},
      {Failure::ClientGone, 503, 503},     {Failure::ClientGone, 0, 499},
      {Failure::ClientTimeout, 0, 499},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(cut_status(row.failure, row.sent), row.measured)
        << int(row.failure) << " after " << row.sent;
  }
}

}  // namespace
}  // namespace vane::proxy
