// The readiness functions on Asio's epoll reactor, reaching into its private state: built only
// with VANE_ASIO_READINESS=ON (the default). With OFF, readiness_plain.cpp is built instead: the
// same functions on plain Asio calls, and nothing here. Quarantined so that a Boost whose reactor
// differs fails to build, instead of leaving connections waiting for an event that never comes.
#include "proxy/net/readiness.hpp"

#include <sys/epoll.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactive_wait_op.hpp>
#include <boost/version.hpp>

// The members below exist in other Boost versions too, so compiling proves little: what was
// checked, by reading Asio's source, is that 1.81 keeps and uses them as this file assumes.
static_assert(BOOST_VERSION == 108100,
              "proxy/net/readiness.cpp reaches into Asio's private epoll reactor state, checked "
              "against Boost 1.81 (108100) only. On another Boost, re-check the layout and use of "
              "epoll_reactor::descriptor_state (try_speculative_, registered_events_, reactor_; "
              "task_result_ holding the events last reported; how start_op and perform_io use "
              "them), epoll_reactor::epoll_fd_ and the socket's per-descriptor data "
              "(reactor_data_), then add the version here; or build with "
              "-DVANE_ASIO_READINESS=OFF (plain Asio calls).");

#if !defined(BOOST_ASIO_HAS_EPOLL) || defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#error "proxy/net/readiness.cpp needs Asio's epoll reactor: build with -DVANE_ASIO_READINESS=OFF"
#endif

namespace vane::proxy::readiness {

using boost::system::error_code;

namespace {

// The reactor's per-descriptor state is private to Asio. Pointers to its members are taken in
// explicit instantiations, where access is not checked ([temp.spec.general]); the socket's
// implementation through a class derived from the socket. Nothing here locks: the workers'
// io_contexts run with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO, so the reactor does not either.
using Reactor = net::detail::epoll_reactor;
using State = Reactor::descriptor_state;
using Operation = net::detail::scheduler_operation;

// Each tag names one private member; access(Tag) returns a pointer to it.
struct Speculative { using type = bool (State::*)[Reactor::max_ops]; };
struct Registered { using type = uint32_t State::*; };
struct OwnReactor { using type = Reactor* State::*; };
struct EpollFd { using type = int Reactor::*; };
struct LastEvents { using type = unsigned int Operation::*; };
Speculative::type access(Speculative);
Registered::type access(Registered);
OwnReactor::type access(OwnReactor);
EpollFd::type access(EpollFd);
LastEvents::type access(LastEvents);

template <class Tag, typename Tag::type Pointer>
struct Expose {
  friend typename Tag::type access(Tag) { return Pointer; }
};
template struct Expose<Speculative, &State::try_speculative_>;
template struct Expose<Registered, &State::registered_events_>;
template struct Expose<OwnReactor, &State::reactor_>;
template struct Expose<EpollFd, &Reactor::epoll_fd_>;
template struct Expose<LastEvents, &Operation::task_result_>;

template <class Tag>
typename Tag::type member() {
  return access(Tag{});
}

struct SocketAccess : Socket {
  static auto implementation() { return &SocketAccess::impl_; }
};

auto& implementation(Socket& socket) {
  return (socket.*SocketAccess::implementation()).get_implementation();
}

State* state_of(Socket& socket) { return implementation(socket).reactor_data_; }

bool& read_flag(State* state) { return (state->*member<Speculative>())[Reactor::read_op]; }

/// The events of the reactor's last report on the descriptor (it keeps them in the state, an
/// operation privately derived from scheduler_operation: a C-style cast may name that base).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
unsigned last_events(State* state) { return ((Operation*)state)->*member<LastEvents>(); }
#pragma GCC diagnostic pop

/// Queues a wait on the read side the way Asio queues a read: without re-arming epoll.
struct StartWait {
  template <class Handler>
  void operator()(Handler&& handler, Socket* socket) const {
    using Op = net::detail::reactive_wait_op<std::decay_t<Handler>, Executor>;
    auto& impl = implementation(*socket);
    const bool continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(error_code{}, handler, socket->get_executor());
    Reactor* reactor = impl.reactor_data_->*member<OwnReactor>();
    reactor->start_op(Reactor::read_op, impl.socket_, impl.reactor_data_, p.p, continuation, true);
    p.v = p.p = nullptr;
  }
};

/// The handler of wake_when_readable(): owns the waiter while the wait is pending.
struct Wake {
  std::unique_ptr<Waiter> waiter;
  void operator()(error_code ec) {
    Waiter* target = waiter.get();
    target->woken(std::move(waiter), ec);
  }
};

}  // namespace

bool enabled() { return true; }

void watch_peer_close(Socket& socket) {
  State* state = state_of(socket);
  if (!state) return;
  uint32_t& registered = state->*member<Registered>();
  if (registered == 0 || (registered & EPOLLRDHUP)) return;
  epoll_event event{};
  event.events = registered | EPOLLRDHUP;
  event.data.ptr = state;
  Reactor* reactor = state->*member<OwnReactor>();
  const int epoll = reactor->*member<EpollFd>();
  if (::epoll_ctl(epoll, EPOLL_CTL_MOD, socket.native_handle(), &event) != 0) return;
  registered = event.events;
  // The modification re-polls the socket: whatever it holds now is reported by an event to come.
  read_flag(state) = false;
}

bool maybe_readable(Socket& socket) {
  State* state = state_of(socket);
  return !state || read_flag(state);
}

void found_empty(Socket& socket) {
  if (State* state = state_of(socket)) read_flag(state) = false;
}

void read_done(Socket& socket, size_t n, size_t room) {
  State* state = state_of(socket);
  if (!state || n == 0 || n >= room) return;
  if (!(state->*member<Registered>() & EPOLLRDHUP)) return;  // a FIN would go unreported
  if (last_events(state) & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) return;
  read_flag(state) = false;
}

Task<std::tuple<error_code>> wait_readable(Socket& socket) {
  if (maybe_readable(socket) || !socket.non_blocking()) {
    return socket.async_wait(Socket::wait_read, use_tuple);  // re-arms: epoll_ctl
  }
  return net::async_initiate<decltype(use_tuple), void(error_code)>(StartWait{}, use_tuple, &socket);
}

void wake_when_readable(Socket& socket, std::unique_ptr<Waiter> waiter) {
  Wake wake{std::move(waiter)};
  if (maybe_readable(socket) || !socket.non_blocking()) {
    socket.async_wait(Socket::wait_read, std::move(wake));  // re-arms: epoll_ctl
    return;
  }
  StartWait{}(std::move(wake), &socket);
}

}  // namespace vane::proxy::readiness
