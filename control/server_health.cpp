// Server: active health checks and passive ejection (SPEC §3 "Health"). The HealthMonitor runs on
// the control thread; each snapshot it makes is posted to every worker (as routing tables are),
// and the workers' outcome batches are posted back to it, one post per worker and tick.
#include <boost/asio/post.hpp>

#include "control/server.hpp"

namespace vane::control {

void Server::make_health_monitor() {
  auto publish = [this](std::shared_ptr<const proxy::HealthSnapshot> snapshot) {
    publish_health(std::move(snapshot));
  };
  health_ = std::make_unique<HealthMonitor>(control_, http_, snapshot_, std::move(publish),
                                           steady_clock_);
}

void Server::start_health_monitor() {
  for (auto& worker : workers_) {
    // Runs on the worker's thread; the batch is applied on the control thread.
    worker->set_health_reports([this](std::vector<proxy::PassiveOutcome> batch) {
      net::post(control_, [this, batch = std::move(batch)] {
        if (health_) health_->report(batch);
      });
    });
  }
  health_->start();
}

void Server::publish_health(std::shared_ptr<const proxy::HealthSnapshot> snapshot) {
  for (auto& worker : workers_) worker->set_health(snapshot);
  // Readiness may have changed: the controller re-reads it through its `healthy` hook now rather
  // than at its next tick. Posted, because a reload reconfigures the monitor before the
  // controller, whose upstream indices must match the monitor's when it asks.
  net::post(control_, [this] {
    if (controller_ && !draining_) controller_->tick(rollout::WallClock::now());
  });
}

}  // namespace vane::control
