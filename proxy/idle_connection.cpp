#include "proxy/idle_connection.hpp"

#include "proxy/worker.hpp"

namespace vane::proxy {

void IdleConnection::wait(Worker& worker, ClientSocket client, Clock::duration timeout) {
  auto idle = std::make_unique<IdleConnection>(worker, std::move(client));
  idle->deadline_.arm(timeout);
  idle->deadline_.set_idle(true);
  worker.deadlines().add(idle->deadline_);
  Socket& socket = idle->client_.socket;
  readiness::wake_when_readable(socket, std::move(idle));
}

IdleConnection::IdleConnection(Worker& worker, ClientSocket client)
    : worker_(worker), client_(std::move(client)), deadline_(&IdleConnection::expire, this) {}

IdleConnection::~IdleConnection() {
  if (!client_.socket.is_open()) return;  // moved into a Session
  boost::system::error_code ignored;
  client_.socket.close(ignored);
  worker_.session_closed(client_.listener);
}

void IdleConnection::woken(std::unique_ptr<readiness::Waiter> /*self: this, freed on return*/,
                           boost::system::error_code ec) {
  // A wait that ended on the deadline, or woke after it or a drain, closes the connection.
  if (ec || deadline_.fired() || worker_.draining()) return;
  worker_.serve(std::move(client_));
}

void IdleConnection::expire(void* self) {
  boost::system::error_code ignored;
  static_cast<IdleConnection*>(self)->client_.socket.cancel(ignored);
}

}  // namespace vane::proxy
