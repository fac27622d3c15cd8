#include "proxy/downstream.hpp"

namespace vane::proxy {

Downstream::Downstream(Worker& worker_ref, Socket socket_in, BufferPool& pool)
    : worker(worker_ref), stream(std::move(socket_in)), in(pool), deadline(&Downstream::expire, this) {
  boost::system::error_code ec;
  auto peer = stream.socket().remote_endpoint(ec);
  if (!ec) address = peer.address().to_string();
}

void Downstream::expire(void* self) {
  auto* client = static_cast<Downstream*>(self);
  boost::system::error_code ignored;
  client->stream.socket().cancel(ignored);
  if (client->upstream) client->upstream->socket().cancel(ignored);
}

}  // namespace vane::proxy
