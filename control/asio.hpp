// The Asio vocabulary of the control plane: the control thread runs its own io_context with the
// data plane's concrete executor types (proxy/net/types.hpp), named here without the proxy:: prefix.
#pragma once

#include "proxy/net/types.hpp"

namespace vane::control {

namespace net = boost::asio;
using proxy::Acceptor;
using proxy::Executor;
using proxy::Socket;
using proxy::Task;
using proxy::tcp;
using proxy::Timer;
using proxy::use_tuple;

}  // namespace vane::control
