// The nghttp2 options of vane's two HTTP/2 session kinds (SPEC §10): one place, so that the data
// plane (H2Connection, H2Upstream) and the fuzz targets (tests/fuzz/h2_*_fuzz.cpp) receive bytes
// alike. Pure: nghttp2 is a C library with no I/O of its own.
#pragma once

#include <nghttp2/nghttp2.h>

#include <memory>

namespace vane::proxy::http {

struct H2OptionDelete {
  void operator()(nghttp2_option* options) const { nghttp2_option_del(options); }
};
using H2Options = std::unique_ptr<nghttp2_option, H2OptionDelete>;

/// A client connection's session (H2Connection): flow control by the reader, the flood
/// defences, no HPACK dynamic table for responses, closed streams forgotten.
H2Options h2_server_options();
/// An upstream connection's session (H2Upstream).
H2Options h2_client_options();

}  // namespace vane::proxy::http
