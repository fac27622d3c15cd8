// A real browser for the dashboard tests: headless Chromium driven through the DevTools protocol
// by tests/integration/browser.py, which this talks to over HTTP. Header-only. Test thread only.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/integration/rollout_support.hpp"
#include "tests/integration/script_server.hpp"

namespace vane::it {

/// Where screenshots go: kept in the build dir after the run, for people to look at.
inline std::filesystem::path artifact_dir() {
  const std::filesystem::path dir = VANE_ARTIFACT_DIR;
  std::filesystem::create_directories(dir);
  return dir;
}

class Browser {
 public:
  /// A browser window of `size` ("1280x1000"; under 700 px wide it is a phone) on about:blank.
  explicit Browser(std::string size = "1280x1000") : server_(VANE_BROWSER, {std::move(size)}) {
    if (server_.port() == 0) throw std::runtime_error("the browser did not start:\n" + server_.err());
  }

  /// One command of browser.py (its docstring lists them); its JSON answer.
  json::value command(std::string_view path, const json::object& args = {}, Millis timeout = 20s) {
    const std::string body = json::serialize(args);
    RawClient client(server_.port());
    const std::string head = std::string(path == "/log" ? "GET " : "POST ") +
                             std::string(path) + " HTTP/1.1\r\nHost: browser\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!client.send(head + body)) return nullptr;
    const json::value answer = parse_json(client.read_response(timeout).body);
    if (answer.is_object() && answer.get_object().contains("error"))
      ADD_FAILURE() << "browser " << path << " " << json::serialize(args) << ": " << json::serialize(answer);
    return answer;
  }

  /// The value of a JavaScript expression in the page (promises awaited); null when it threw.
  json::value eval(const std::string& expression) {
    const json::value answer = command("/eval", {{"expression", expression}});
    return field(answer, "value");
  }

  /// Waits until `expression` is true in the page; false after `timeout`.
  bool wait_for(const std::string& expression, Millis timeout = 5s) {
    return wait_until([&] { return eval(expression) == json::value(true); }, timeout);
  }

  /// Loads `url` and waits for the dashboard's first answer from the API.
  bool open(const std::string& url) {
    command("/cdp", {{"method", "Page.navigate"}, {"params", {{"url", url}}}});
    return wait_for("document.querySelector('#connection')?.className === 'live'", 10s);
  }

  /// A mouse click at the centre of the first element matching `selector`.
  void click(const std::string& selector) { command("/click", {{"selector", selector}}); }
  /// Types `text` into the focused element.
  void type(const std::string& text) { command("/type", {{"text", text}}); }
  /// Presses a key ("Enter", "Escape", "Tab") in the focused element.
  void press(const std::string& key) { command("/key", {{"key", key}}); }
  /// A PNG of the whole page, as artifact_dir()/NAME.png.
  void screenshot(const std::string& name) {
    command("/screenshot", {{"path", (artifact_dir() / (name + ".png")).string()}});
  }
  void emulate(const json::object& params, std::string_view method = "Emulation.setEmulatedMedia") {
    command("/cdp", {{"method", method}, {"params", params}});
  }

  /// Every console error and uncaught exception so far, failed loads apart, and every URL the
  /// page asked for.
  json::array console() { return field(command("/log"), "console").as_array(); }
  json::array network_errors() { return field(command("/log"), "network").as_array(); }
  json::array requests() { return field(command("/log"), "requests").as_array(); }

 private:
  ScriptServer server_;
};

}  // namespace vane::it
