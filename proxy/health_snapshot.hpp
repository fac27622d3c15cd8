// The data plane's view of endpoint health: an immutable HealthSnapshot of which endpoints may
// take traffic, published by the control plane's HealthMonitor, and the passive outcomes workers
// batch back to it. Read on worker threads; built and consumed on the control thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vane::proxy {

struct ConfigSnapshot;

/// What the workers read: an immutable picture of every upstream's endpoints, indexed like
/// ConfigSnapshot::endpoints (upstream, then resolved address). Shared as shared_ptr<const HealthSnapshot>.
struct HealthSnapshot {
  /// The ConfigSnapshot these indices refer to: identity only, never dereferenced. A worker applies a
  /// snapshot only to the generation running that ConfigSnapshot.
  const ConfigSnapshot* config_snapshot = nullptr;
  std::vector<std::vector<bool>> usable;  ///< [upstream][endpoint]: may take traffic now
  std::vector<bool> passed_probe;         ///< [upstream]: some endpoint has ever passed a probe
  std::vector<bool> ready;                ///< [upstream]: fit to be a canary (see canary_ready)

  /// Out of range (a snapshot older than the caller's config) counts as usable.
  bool usable_endpoint(size_t upstream, size_t endpoint) const {
    return upstream >= usable.size() || endpoint >= usable[upstream].size() ||
           usable[upstream][endpoint];
  }
  bool upstream_ready(size_t upstream) const { return upstream < ready.size() && ready[upstream]; }
  /// Some endpoint may take traffic (not yet probed counts), whether or not one passed a probe.
  bool any_usable(size_t upstream) const {
    if (upstream >= usable.size()) return true;
    for (bool u : usable[upstream]) {
      if (u) return true;
    }
    return false;
  }
  bool operator==(const HealthSnapshot&) const = default;
};

/// One request's outcome on one endpoint, as a worker batches them for the control thread.
struct PassiveOutcome {
  const ConfigSnapshot* config_snapshot;  ///< identity: outcomes of another ConfigSnapshot than the monitor's are dropped
  uint32_t upstream;
  uint32_t endpoint;       ///< index into ConfigSnapshot::endpoints[upstream]
  bool failure;            ///< 5xx answer, connect failure, reset or timeout
};

}  // namespace vane::proxy
