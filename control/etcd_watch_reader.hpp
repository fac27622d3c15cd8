// Reads the body of an etcd gateway watch as it arrives: newline-separated JSON objects, split
// anywhere by the transport. Hands each batch of events on and says when the watch has ended
// (etcd cancelled it, compacted its start revision, sent an error or garbage). Pure, no I/O;
// used by EtcdClient::watch on the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "control/etcd_client.hpp"

namespace vane::control {

class EtcdWatchReader {
 public:
  /// A line longer than this (a batch of events beyond any etcd request size) ends the watch.
  static constexpr size_t kMaxLine = size_t{64} << 20;

  explicit EtcdWatchReader(std::function<void(EtcdWatchBatch&&)> on_batch);

  /// Takes the next piece of the body; false once the watch has ended (then see end()).
  bool feed(std::string_view piece);
  /// The body has ended: reads what is left of it (an error answer may lack its newline).
  void finish();

  /// Why the watch ended: "compacted: N", "cancelled by etcd: ...", the gateway's error or
  /// "malformed answer: ..."; empty while it runs.
  const std::string& end() const { return end_; }
  /// etcd confirmed the watch.
  bool created() const { return created_; }
  /// The watch ended with gRPC's UNAVAILABLE (code 14): the member lost its leader.
  bool unavailable() const { return unavailable_; }

 private:
  /// One JSON object of the stream; false when it ends the watch.
  bool read_line(std::string_view line);

  std::function<void(EtcdWatchBatch&&)> on_batch_;
  std::string partial_;  ///< the start of a line whose newline has not come yet
  std::string end_;
  bool created_ = false;
  bool unavailable_ = false;
};

}  // namespace vane::control
