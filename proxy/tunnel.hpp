// An upgraded connection (WebSocket, SPEC §10): once the upstream answered 101, bytes go both
// ways as they come until either side closes, neither sends for upgradedIdleTimeout, or the
// worker cuts it because the canary it reaches no longer takes traffic. Registered with its
// worker for that; runs inside the Session's coroutine on the worker thread.
#pragma once

#include <string_view>

#include <boost/intrusive/list_hook.hpp>

#include "proxy/downstream.hpp"
#include "proxy/net/buffer.hpp"
#include "proxy/net/stream.hpp"

namespace vane::proxy {

class Tunnel : public boost::intrusive::list_base_hook<
                   boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  /// Where the tunnel leads: names from the config the request ran on (the caller keeps that
  /// generation pinned for the tunnel's life).
  struct Target {
    std::string_view route;
    std::string_view rollout;   ///< "" without a rollout
    std::string_view upstream;
    bool canary = false;
  };

  /// `client.response_head` holds the 101 for the client; `from_upstream` what the upstream
  /// sent after it, `client.in` what the client sent after its handshake.
  Tunnel(Downstream& client, Stream& upstream, Buffer& from_upstream, Target target,
         Clock::duration idle);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  /// Relays until both directions ended.
  Task<void> run();
  /// Ends it now: both connections close (a client reconnects, to where traffic goes now).
  void cut();
  const Target& target() const { return target_; }

 private:
  /// One direction: `pending` first, then what `from` sends, to `to`. An end of stream is passed
  /// on (a TCP half-close); any other end stops both directions.
  Task<void> pump(Stream& from, Buffer& pending, Stream& to, std::string_view head);
  void touch();

  Downstream& client_;
  Stream& upstream_;
  Buffer& from_upstream_;
  Target target_;
  Clock::duration idle_;
  bool stopped_ = false;
};

}  // namespace vane::proxy
