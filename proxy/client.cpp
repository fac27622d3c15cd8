#include "proxy/client.hpp"

namespace vane::proxy {

Client::Client(Worker& worker_ref, Socket socket_in, BufferPool& pool)
    : worker(worker_ref), socket(std::move(socket_in)), in(pool), deadline(&Client::expire, this) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (!ec) address = peer.address().to_string();
}

void Client::expire(void* self) {
  auto* client = static_cast<Client*>(self);
  boost::system::error_code ignored;
  client->socket.cancel(ignored);
  if (client->upstream) client->upstream->cancel(ignored);
}

}  // namespace vane::proxy
