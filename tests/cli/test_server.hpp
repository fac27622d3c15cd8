// A tiny Beast HTTP server on 127.0.0.1:0 for the CLI's unit tests: answers each request with a
// handler's answer on its own thread, one connection at a time, and records what it saw.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace vane::cli {

struct Seen {
  std::string method;
  std::string target;
  std::string authorization;
};

struct Answer {
  int status = 200;  ///< 0: keep the connection open and never answer
  std::string body;
};

/// Answers each request with `handler(request)` on its own thread, one connection at a time.
class TestServer {
 public:
  using tcp = boost::asio::ip::tcp;
  using Handler = std::function<Answer(const Seen&)>;

  explicit TestServer(Handler handler)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), handler_(std::move(handler)) {
    thread_ = std::thread([this] { serve(); });
  }

  ~TestServer() {
    stop_ = true;
    boost::system::error_code ignored;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ignored);  // unblocks accept()
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stop_ || ec) return;
      boost::beast::flat_buffer buffer;
      boost::beast::http::request<boost::beast::http::string_body> request;
      boost::beast::http::read(socket, buffer, request, ec);
      if (ec) continue;
      Seen seen{std::string(request.method_string()), std::string(request.target()),
                std::string(request[boost::beast::http::field::authorization])};
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(seen);
      }
      const Answer answer = handler_(seen);
      if (answer.status == 0) {
        held_.push_back(std::move(socket));
        continue;
      }
      boost::beast::http::response<boost::beast::http::string_body> response{static_cast<boost::beast::http::status>(answer.status), 11};
      response.set(boost::beast::http::field::content_type, "application/json");
      response.body() = answer.body;
      response.prepare_payload();
      boost::beast::http::write(socket, response, ec);
    }
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  Handler handler_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::vector<tcp::socket> held_;
};

}  // namespace vane::cli
