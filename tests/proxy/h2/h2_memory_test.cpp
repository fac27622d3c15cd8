// H2Memory with real nghttp2 sessions: a server session made with it serves requests from a client
// session in memory; trim() gives back the frame buffer's pages and the stream table's once no
// stream is left, and the session serves on after it as before.
#include "proxy/h2/h2_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace vane::proxy {
namespace {

/// A server session on H2Memory (closed streams not kept, as H2Connection makes it) answering
/// every request with 200 "ok", and a client session on plain malloc.
class Pair {
 public:
  Pair() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Pair::frame_recv);
    nghttp2_option* options = nullptr;
    nghttp2_option_new(&options);
    nghttp2_option_set_no_closed_streams(options, 1);
    nghttp2_session_server_new3(&server_, callbacks, this, options, memory_.get());
    nghttp2_session_client_new(&client_, callbacks, this);
    nghttp2_option_del(options);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(server_, NGHTTP2_FLAG_NONE, nullptr, 0);
    nghttp2_submit_settings(client_, NGHTTP2_FLAG_NONE, nullptr, 0);
    pump();
  }
  ~Pair() {
    nghttp2_session_del(client_);
    nghttp2_session_del(server_);
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  H2Memory& memory() { return memory_; }
  int answered() const { return answered_; }

  /// Opens a stream with a GET; `end`: with END_STREAM (then answered by pump()).
  int32_t request(bool end) {
    static const char* const kFields[][2] = {
        {":method", "GET"}, {":path", "/"}, {":scheme", "http"}, {":authority", "x"}};
    nghttp2_nv nv[4];
    for (size_t i = 0; i < 4; ++i) {
      nv[i] = {reinterpret_cast<uint8_t*>(const_cast<char*>(kFields[i][0])),
               reinterpret_cast<uint8_t*>(const_cast<char*>(kFields[i][1])), std::strlen(kFields[i][0]),
               std::strlen(kFields[i][1]), NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_priority_spec* no_priority = nullptr;
    if (end) return nghttp2_submit_request(client_, no_priority, nv, 4, nullptr, nullptr);
    nghttp2_data_provider body{};
    body.read_callback = [](nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*, nghttp2_data_source*,
                            void*) -> ssize_t { return NGHTTP2_ERR_DEFERRED; };
    return nghttp2_submit_request(client_, no_priority, nv, 4, &body, nullptr);
  }

  /// Moves frames both ways until neither side has more.
  void pump() {
    for (int round = 0; round < 16; ++round) {
      if (!move(client_, server_) && !move(server_, client_)) return;
    }
  }

 private:
  static bool move(nghttp2_session* from, nghttp2_session* to) {
    bool any = false;
    const uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(from, &data)) > 0; any = true) {
      EXPECT_EQ(nghttp2_session_mem_recv(to, data, static_cast<size_t>(n)), n);
    }
    return any;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Pair*>(user);
    // END_STREAM on a stream's frames only: on SETTINGS the same bit is ACK.
    const bool ended = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                       (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (session == self->client_) {
      if (ended) ++self->answered_;
      return 0;
    }
    if (!ended) return 0;
    static const char kStatus[] = ":status";
    static const char kOk[] = "200";
    nghttp2_nv nv{reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus)),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(kOk)), 7, 3, NGHTTP2_NV_FLAG_NONE};
    nghttp2_data_provider body{};
    body.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t, uint32_t* flags,
                            nghttp2_data_source*, void*) -> ssize_t {
      std::memcpy(buf, "ok\n", 3);
      *flags = NGHTTP2_DATA_FLAG_EOF;
      return 3;
    };
    nghttp2_submit_response(session, frame->hd.stream_id, &nv, 1, &body);
    return 0;
  }

  H2Memory memory_;
  nghttp2_session* server_ = nullptr;
  nghttp2_session* client_ = nullptr;
  int answered_ = 0;
};

TEST(H2Memory, AnIdleSessionGivesBackItsFrameBufferAndItsEmptyStreamTable) {
  Pair pair;
  pair.request(true);
  pair.pump();
  ASSERT_EQ(pair.answered(), 1);
  // 16 KiB and a frame header: 5 pages; the stream table: 256 buckets of 16 bytes, one page.
  EXPECT_EQ(pair.memory().trim(true), 6U);
  for (int i = 0; i < 3; ++i) pair.request(true);
  pair.pump();
  EXPECT_EQ(pair.answered(), 4) << "the session serves on after its pages were given back";
  EXPECT_EQ(pair.memory().trim(true), 6U);
}

TEST(H2Memory, AnOpenStreamKeepsTheTableAndABusyWriterTheFrameBuffer) {
  Pair pair;
  pair.request(false);  // its body never ends: the stream stays open
  pair.pump();
  EXPECT_EQ(pair.memory().trim(false), 0U) << "the table holds the stream; frames may be in use";
  EXPECT_EQ(pair.memory().trim(true), 5U) << "only the frame buffer";
}

TEST(H2Memory, GivenBackPagesAreNotResidentUntilTouched) {
  Pair pair;
  pair.request(true);
  pair.pump();
  EXPECT_GE(pair.memory().resident_pages(), 2U) << "the frame buffer's first page and the table";
  ASSERT_EQ(pair.memory().trim(true), 6U);
  EXPECT_EQ(pair.memory().resident_pages(), 0U);
  pair.request(true);
  pair.pump();
  EXPECT_EQ(pair.answered(), 2);
  EXPECT_GE(pair.memory().resident_pages(), 2U) << "touched again";
}

}  // namespace
}  // namespace vane::proxy
