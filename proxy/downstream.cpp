#include "proxy/downstream.hpp"

namespace vane::proxy {

Downstream::Downstream(Worker& worker_ref, Stream stream_in, BufferPool& pool, std::string address_in,
                       uint16_t port_in)
    : worker(worker_ref),
      stream(std::move(stream_in)),
      in(pool),
      deadline(&Downstream::expire, this),
      address(std::move(address_in)),
      port(port_in) {}

void Downstream::expire(void* self) {
  auto* client = static_cast<Downstream*>(self);
  client->stream.cancel();
  if (client->upstream) client->upstream->cancel();
}

}  // namespace vane::proxy
