#include "proxy/downstream.hpp"

#include "proxy/worker.hpp"

namespace vane::proxy {

Downstream::Downstream(Worker& worker_ref, Stream stream_in, BufferPool& pool, std::string address_in,
                       uint16_t port_in)
    : worker(worker_ref),
      stream(std::move(stream_in)),
      in(pool),
      deadline(&Downstream::expire, this),
      address(std::move(address_in)),
      port(port_in),
      request_head(worker.take_string()),
      response_head(worker.take_string()) {}

Downstream::~Downstream() {
  worker.give_back(std::move(request_head));
  worker.give_back(std::move(response_head));
}

void Downstream::expire(void* self) {
  auto* client = static_cast<Downstream*>(self);
  client->stream.cancel();
  if (client->upstream) client->upstream->cancel();
}

}  // namespace vane::proxy
