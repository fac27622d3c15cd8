#include "proxy/http/h2_options.hpp"

namespace vane::proxy::http {

H2Options h2_server_options() {
  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  // A stream's window opens as its exchange reads the body, not as frames arrive: a slow
  // upstream holds back its client, not vane's memory.
  nghttp2_option_set_no_auto_window_update(options, 1);
  nghttp2_option_set_max_continuations(options, 8);  // CONTINUATION floods: GOAWAY
  nghttp2_option_set_max_outbound_ack(options, 1000);  // SETTINGS and PING floods: GOAWAY
  nghttp2_option_set_stream_reset_rate_limit(options, 1000, 33);  // rapid reset: GOAWAY
  // Response fields are sent without HPACK's dynamic table, as HAProxy does: every answer's
  // X-Request-Id is new, and looking each one up in the table took a tenth of vane's CPU.
  nghttp2_option_set_max_deflate_dynamic_table_size(options, 0);
  // A closed stream is forgotten at once, not kept for RFC 7540's priority tree (which RFC 9113
  // deprecates): an idle connection's stream table is empty again, and trim() gives it back.
  nghttp2_option_set_no_closed_streams(options, 1);
  return H2Options(options);
}

H2Options h2_client_options() {
  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  // A stream's window opens as its relay reads the answer: a slow client holds back the
  // upstream, not vane's memory.
  nghttp2_option_set_no_auto_window_update(options, 1);
  nghttp2_option_set_max_outbound_ack(options, 1000);  // an upstream's PING or SETTINGS flood
  nghttp2_option_set_max_deflate_dynamic_table_size(options, 0);  // as to clients
  return H2Options(options);
}

}  // namespace vane::proxy::http
