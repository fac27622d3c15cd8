#include "proxy/client.hpp"

namespace vane::proxy {

Client::Client(Worker& worker_ref, Socket socket_in, BufferPool& pool)
    : worker(worker_ref), stream(std::move(socket_in)), in(pool), deadline(&Client::expire, this) {
  boost::system::error_code ec;
  auto peer = stream.socket().remote_endpoint(ec);
  if (!ec) address = peer.address().to_string();
}

void Client::expire(void* self) {
  auto* client = static_cast<Client*>(self);
  boost::system::error_code ignored;
  client->stream.socket().cancel(ignored);
  if (client->upstream) client->upstream->socket().cancel(ignored);
}

}  // namespace vane::proxy
