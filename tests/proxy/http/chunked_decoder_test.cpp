// ChunkedDecoder: valid bodies in any split, framing errors, limits; chunk_size_line.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "proxy/http/chunked_decoder.hpp"

namespace vane::proxy::http {
namespace {

using Status = ChunkedDecoder::Status;

struct Decoded {
  Status end = Status::NeedMore;  ///< Done, Error, or NeedMore when the input ran out
  std::string data;
  size_t consumed = 0;            ///< of the whole wire, up to Done or Error
  size_t data_steps = 0;
};

// Feeds `wire` cut at `cuts` (increasing offsets), as a session would: each piece until the
// decoder asks for more, then the next piece. Stops at Done or Error.
Decoded decode(std::string_view wire, const std::vector<size_t>& cuts, ChunkedDecoder&& dec) {
  Decoded out;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : wire.size();
    std::string_view piece = wire.substr(begin, end - begin);
    for (;;) {
      const ChunkedDecoder::Step step = dec.next(piece);
      EXPECT_LE(step.consumed, piece.size());
      out.consumed += step.consumed;
      piece.remove_prefix(step.consumed);
      if (step.status == Status::Data) {
        EXPECT_FALSE(step.data.empty());
        out.data.append(step.data);
        ++out.data_steps;
        continue;
      }
      if (step.status != Status::NeedMore) {
        out.end = step.status;
        return out;
      }
      EXPECT_TRUE(piece.empty());
      break;
    }
    begin = end;
  }
  return out;
}

Decoded decode(std::string_view wire, size_t max_line = 4096, size_t max_trailer = 65536) {
  return decode(wire, {}, ChunkedDecoder(max_line, max_trailer));
}

const std::string kBody =
    "5\r\nhello\r\n"
    "000A;name=value ; flag;q=\"quoted \\\"str\\\\ing\"\r\n0123456789\r\n"
    "18\r\n, world! chunked \r\n body\r\n"
    "0;last\r\n"
    "X-Checksum: abc\r\nX-Empty:\r\n"
    "\r\n";
const std::string kBodyData = "hello0123456789, world! chunked \r\n body";

TEST(ChunkedDecoder, DecodesInOneGo) {
  const Decoded d = decode(kBody + "GET / HTTP/1.1");
  EXPECT_EQ(d.end, Status::Done);
  EXPECT_EQ(d.data, kBodyData);
  EXPECT_EQ(d.consumed, kBody.size());  // nothing after the trailer section is consumed
  EXPECT_EQ(d.data_steps, 3U);          // one view per chunk when all of it is there
}

TEST(ChunkedDecoder, ReportsProgress) {
  ChunkedDecoder dec;
  EXPECT_FALSE(dec.done());
  ChunkedDecoder::Step s = dec.next("5\r\nhel");
  EXPECT_EQ(s.status, Status::Data);
  EXPECT_EQ(s.data, "hel");
  EXPECT_EQ(s.consumed, 6U);
  EXPECT_EQ(dec.body_bytes(), 3U);
  s = dec.next("lo\r\n0\r\n");
  EXPECT_EQ(s.status, Status::Data);
  EXPECT_EQ(s.data, "lo");
  EXPECT_EQ(s.consumed, 2U);
  s = dec.next("\r\n0\r\n");
  EXPECT_EQ(s.status, Status::NeedMore);
  EXPECT_EQ(s.consumed, 5U);
  s = dec.next("\r\nrest");
  EXPECT_EQ(s.status, Status::Done);
  EXPECT_EQ(s.consumed, 2U);
  EXPECT_TRUE(dec.done());
  EXPECT_EQ(dec.body_bytes(), 5U);
  EXPECT_EQ(dec.next("rest").status, Status::Done);
  EXPECT_EQ(dec.next("rest").consumed, 0U);
}

TEST(ChunkedDecoder, EmptyBody) {
  const Decoded d = decode("0\r\n\r\n");
  EXPECT_EQ(d.end, Status::Done);
  EXPECT_EQ(d.data, "");
  EXPECT_EQ(d.consumed, 5U);
}

TEST(ChunkedDecoder, OneByteAtATime) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kBody.size(); ++i) cuts.push_back(i);
  const Decoded d = decode(kBody, cuts, ChunkedDecoder());
  EXPECT_EQ(d.end, Status::Done);
  EXPECT_EQ(d.data, kBodyData);
  EXPECT_EQ(d.consumed, kBody.size());
}

TEST(ChunkedDecoder, EverySingleSplitPoint) {
  for (size_t cut = 0; cut <= kBody.size(); ++cut) {
    const Decoded d = decode(kBody, {cut}, ChunkedDecoder());
    ASSERT_EQ(d.end, Status::Done) << "cut at " << cut;
    ASSERT_EQ(d.data, kBodyData) << "cut at " << cut;
  }
}

TEST(ChunkedDecoder, RandomSplits) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 500; ++round) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < kBody.size(); ++i) {
      if (rng() % 4 == 0) cuts.push_back(i);
    }
    const Decoded d = decode(kBody, cuts, ChunkedDecoder());
    ASSERT_EQ(d.end, Status::Done) << "round " << round;
    ASSERT_EQ(d.data, kBodyData) << "round " << round;
    ASSERT_EQ(d.consumed, kBody.size());
  }
}

// Encodes random data with chunk_size_line/kLastChunk and decodes it in random pieces.
TEST(ChunkedDecoder, RoundTripWithTheEncoder) {
  std::mt19937 rng(99);
  for (int round = 0; round < 100; ++round) {
    std::string data;
    std::string wire;
    const int chunks = static_cast<int>(rng() % 6);
    for (int c = 0; c < chunks; ++c) {
      std::string chunk(1 + rng() % 300, '\0');
      for (char& ch : chunk) ch = static_cast<char>(rng() & 0xff);
      char buf[24];
      wire += chunk_size_line(chunk.size(), buf);
      wire += chunk + "\r\n";
      data += chunk;
    }
    wire += kLastChunk;
    std::vector<size_t> cuts;
    for (size_t i = 1; i < wire.size(); i += 1 + rng() % 17) cuts.push_back(i);
    ChunkedDecoder dec;
    const Decoded d = decode(wire, cuts, std::move(dec));
    ASSERT_EQ(d.end, Status::Done);
    ASSERT_EQ(d.data, data);
  }
}

TEST(ChunkedDecoder, SizeForms) {
  EXPECT_EQ(decode("A\r\n0123456789\r\n0\r\n\r\n").data, "0123456789");
  EXPECT_EQ(decode("0000000000000000001\r\nx\r\n0\r\n\r\n").data, "x");
  EXPECT_EQ(decode("00\r\n\r\n").end, Status::Done);
  // The largest size is accepted (the data would follow).
  EXPECT_EQ(decode("7fffffffffffffff\r\nabc").end, Status::NeedMore);
  EXPECT_EQ(decode("7FFFFFFFFFFFFFFF\r\n").end, Status::NeedMore);
}

struct BadBody {
  std::string name;
  std::string wire;
};

std::ostream& operator<<(std::ostream& os, const BadBody& b) { return os << b.name; }

class ChunkedRejection : public ::testing::TestWithParam<BadBody> {};

TEST_P(ChunkedRejection, IsAnError) {
  const BadBody& b = GetParam();
  EXPECT_EQ(decode(b.wire).end, Status::Error);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < b.wire.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(decode(b.wire, cuts, ChunkedDecoder()).end, Status::Error) << "byte by byte";
}

const std::vector<BadBody> kBadBodies = {
    {"no_digits", "\r\n0\r\n\r\n"},
    {"non_hex", "g\r\nx\r\n0\r\n\r\n"},
    {"hex_prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
    {"negative", "-5\r\nhello\r\n0\r\n\r\n"},
    {"leading_space", " 5\r\nhello\r\n0\r\n\r\n"},
    {"overflow_2pow63", "8000000000000000\r\n"},
    {"overflow_long", "10000000000000000\r\n"},
    {"bare_lf_size", "5\nhello\r\n0\r\n\r\n"},
    {"cr_without_lf_size", "5\rhello\r\n0\r\n\r\n"},
    {"missing_crlf_after_data", "5\r\nhelloX\r\n0\r\n\r\n"},
    {"bare_lf_after_data", "5\r\nhello\n0\r\n\r\n"},
    {"cr_only_after_data", "5\r\nhello\r0\r\n\r\n"},
    {"lf_only_after_data", "5\r\nhelloX\n0\r\n\r\n"},
    {"bare_lf_last", "0\n\r\n"},
    {"bare_lf_end", "0\r\n\n"},
    {"trailing_ws", "5 \r\nhello\r\n0\r\n\r\n"},
    {"ext_empty", "5;\r\nhello\r\n0\r\n\r\n"},
    {"ext_no_name", "5;=v\r\nhello\r\n0\r\n\r\n"},
    {"ext_no_value", "5;a=\r\nhello\r\n0\r\n\r\n"},
    {"ext_bad_name", "5;a@b\r\nhello\r\n0\r\n\r\n"},
    {"ext_space_in_value", "5;a=b c\r\nhello\r\n0\r\n\r\n"},
    {"ext_space_in_name", "5;a b\r\nhello\r\n0\r\n\r\n"},
    {"ext_two_names", "5;a b=c\r\nhello\r\n0\r\n\r\n"},
    {"ext_ws_before_crlf", "5;a=b \r\nhello\r\n0\r\n\r\n"},
    {"ext_unterminated_quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n"},
    {"ext_ctl_in_quote", "5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n"},
    {"ext_escaped_ctl", "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n"},
    {"ext_after_quote", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"},
    {"ext_bare_lf", "5;a\nhello\r\n0\r\n\r\n"},
    {"trailer_obs_fold", "0\r\nX: a\r\n b\r\n\r\n"},
    {"trailer_empty_name", "0\r\n: a\r\n\r\n"},
    {"trailer_space_before_colon", "0\r\nX : a\r\n\r\n"},
    {"trailer_no_colon", "0\r\nXa\r\n\r\n"},
    {"trailer_nul", std::string("0\r\nX: a\0b\r\n\r\n", 14)},
    {"trailer_bare_lf", "0\r\nX: a\n\r\n"},
    {"trailer_cr_without_lf", "0\r\nX: a\rb\r\n\r\n"},
    {"end_cr_without_lf", "0\r\n\rx"},
};

INSTANTIATE_TEST_SUITE_P(All, ChunkedRejection, ::testing::ValuesIn(kBadBodies),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ChunkedDecoder, KeepsTheTrailerSectionAcrossAnySplit) {
  for (size_t cut = 1; cut < kBody.size(); ++cut) {
    ChunkedDecoder dec;
    const Decoded d = decode(kBody, {cut}, std::move(dec));
    ASSERT_EQ(d.end, Status::Done) << cut;
  }
  ChunkedDecoder dec;
  std::string_view wire = kBody;
  for (;;) {
    const auto step = dec.next(wire);
    wire.remove_prefix(step.consumed);
    if (step.status == Status::Done) break;
    ASSERT_NE(step.status, Status::Error);
  }
  EXPECT_EQ(dec.trailers(), "X-Checksum: abc\r\nX-Empty:\r\n");
  ChunkedDecoder none;
  none.next("0\r\n\r\n");
  EXPECT_EQ(none.trailers(), "");
}

TEST(ChunkedDecoder, LastChunkPassesOnlyFieldsATrailerMayCarry) {
  EXPECT_EQ(last_chunk(""), "0\r\n\r\n");
  EXPECT_EQ(last_chunk("grpc-status: 0\r\nContent-Length: 5\r\nX-Sum:  7 \r\nTransfer-Encoding: x\r\n"
                       "host: h\r\nConnection: close\r\nTE: trailers\r\n"),
            "0\r\ngrpc-status: 0\r\nX-Sum: 7\r\n\r\n");
  EXPECT_TRUE(trailer_allowed("grpc-message"));
  EXPECT_FALSE(trailer_allowed(":status"));
  EXPECT_FALSE(trailer_allowed("Content-Type"));
}

TEST(ChunkedDecoder, ErrorIsSticky) {
  ChunkedDecoder dec;
  EXPECT_EQ(dec.next("zz").status, Status::Error);
  EXPECT_EQ(dec.next("5\r\nhello\r\n0\r\n\r\n").status, Status::Error);
  EXPECT_FALSE(dec.done());
}

TEST(ChunkedDecoder, SizeLineLimit) {
  // 16 bytes of line (CRLF excluded) are allowed, 17 are not, even split across calls.
  EXPECT_EQ(decode("5;" + std::string(14, 'a') + "\r\nhello\r\n0\r\n\r\n", 16).end, Status::Done);
  EXPECT_EQ(decode("5;" + std::string(15, 'a') + "\r\nhello\r\n0\r\n\r\n", 16).end, Status::Error);
  EXPECT_EQ(decode("0000000000000005\r\nhello\r\n0\r\n\r\n", 16).end, Status::Done);
  EXPECT_EQ(decode("00000000000000005\r\nhello\r\n0\r\n\r\n", 16).end, Status::Error);
  const std::string endless = "5;" + std::string(100, 'a');
  std::vector<size_t> cuts;
  for (size_t i = 1; i < endless.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(decode(endless, cuts, ChunkedDecoder(16, 1024)).end, Status::Error);
}

TEST(ChunkedDecoder, TrailerLimits) {
  // Each trailer line is bounded by max_line, the section (CRLFs included) by max_trailer.
  EXPECT_EQ(decode("0\r\nX: 123456789\r\n\r\n", 12).end, Status::Done);
  EXPECT_EQ(decode("0\r\nX: 1234567890\r\n\r\n", 12).end, Status::Error);
  EXPECT_EQ(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 64, 14).end, Status::Done);
  EXPECT_EQ(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 64, 13).end, Status::Error);
}

TEST(ChunkSizeLine, FormatsLowercaseHex) {
  char buf[24];
  EXPECT_EQ(chunk_size_line(0, buf), "0\r\n");
  EXPECT_EQ(chunk_size_line(9, buf), "9\r\n");
  EXPECT_EQ(chunk_size_line(26, buf), "1a\r\n");
  EXPECT_EQ(chunk_size_line(4096, buf), "1000\r\n");
  EXPECT_EQ(chunk_size_line(0xabcdef, buf), "abcdef\r\n");
  EXPECT_EQ(chunk_size_line(std::numeric_limits<uint64_t>::max(), buf), "ffffffffffffffff\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

}  // namespace
}  // namespace vane::proxy::http
