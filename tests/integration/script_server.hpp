// A peer server written in Python (Debian's python3 packages) for the protocol tests: started on
// 127.0.0.1:0, its port read from the "port N" line it prints once listening.
#pragma once

#include <charconv>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace vane::it {

class ScriptServer {
 public:
  /// `/usr/bin/python3 SCRIPT ARGS...` (the python3 of PATH may lack Debian's modules).
  ScriptServer(const std::string& script, std::vector<std::string> args)
      : process_(command(script, std::move(args)), dir_.path(), dir_.path() / "out", dir_.path() / "err") {
    wait_until([&] { return read_port(); }, 15s);
  }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string err() const { return read_file(dir_.path() / "err"); }
  Process& process() { return process_; }

 private:
  static std::vector<std::string> command(const std::string& script, std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/python3", script});
    return args;
  }
  bool read_port() {
    const std::string out = read_file(dir_.path() / "out");
    const size_t at = out.find("port ");
    if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
    const char* digits = out.data() + at + 5;
    std::from_chars(digits, out.data() + out.size(), port_);
    return port_ != 0;
  }

  TempDir dir_;
  Process process_;
  uint16_t port_ = 0;
};

}  // namespace vane::it
