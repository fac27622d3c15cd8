#include "control/etcd_watch_reader.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "control/etcd_codec.hpp"

namespace vane::control {
namespace {

namespace json = boost::json;
using namespace etcd_codec;

/// The events of a watch result; `problem` set when one is malformed.
std::vector<EtcdEvent> read_events(const json::object& result, std::string& problem) {
  std::vector<EtcdEvent> events;
  const auto it = result.find("events");
  if (it == result.end() || it->value().is_null()) return events;
  if (!it->value().is_array()) {
    problem = "\"events\" is not an array";
    return events;
  }
  for (const json::value& e : it->value().get_array()) {
    if (!e.is_object()) {
      problem = "an event is not an object";
      return events;
    }
    const json::object& o = e.get_object();
    EtcdEvent event;
    if (const auto type = o.find("type"); type != o.end()) {  // absent: PUT
      if (!type->value().is_string() ||
          (type->value().get_string() != "DELETE" && type->value().get_string() != "PUT")) {
        problem = "an event's \"type\" is neither PUT nor DELETE";
        return events;
      }
      if (type->value().get_string() == "DELETE") event.type = EtcdEvent::Type::Delete;
    }
    const auto kv = o.find("kv");
    if (kv == o.end()) {
      problem = "an event has no \"kv\"";
      return events;
    }
    event.kv = read_kv(kv->value(), problem);
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace

EtcdWatchReader::EtcdWatchReader(std::function<void(EtcdWatchBatch&&)> on_batch)
    : on_batch_(std::move(on_batch)) {}

bool EtcdWatchReader::feed(std::string_view piece) {
  while (end_.empty()) {
    const size_t newline = piece.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(piece);
      if (partial_.size() > kMaxLine) end_ = "malformed answer: a line over 64 MiB";
      break;
    }
    std::string_view line = piece.substr(0, newline);
    piece.remove_prefix(newline + 1);
    if (!partial_.empty()) {
      partial_.append(line);
      line = partial_;
    }
    const bool go_on = line.find_first_not_of(" \t\r") == std::string_view::npos || read_line(line);
    partial_.clear();
    if (!go_on) break;
  }
  return end_.empty();
}

void EtcdWatchReader::finish() {
  if (end_.empty() && partial_.find_first_not_of(" \t\r\n") != std::string::npos) {
    read_line(partial_);
  }
  partial_.clear();
}

bool EtcdWatchReader::read_line(std::string_view line) {
  json::object answer;
  std::string problem = parse_object(line, answer);
  if (problem.empty()) problem = gateway_error(answer);
  if (const auto error = answer.find("error"); error != answer.end() && error->value().is_object()) {
    const auto code = error->value().get_object().find("grpc_code");
    unavailable_ = code != error->value().get_object().end() && code->value() == 14;
  }
  const auto result = answer.find("result");
  if (problem.empty() && (result == answer.end() || !result->value().is_object())) {
    problem = "malformed answer: no \"result\" object";
  }
  if (!problem.empty()) {
    end_ = std::move(problem);
    return false;
  }
  const json::object& r = result->value().get_object();
  std::string malformed;
  EtcdWatchBatch batch;
  if (const auto header = r.find("header"); header != r.end() && header->value().is_object()) {
    batch.revision = read_number(header->value().get_object(), "revision", malformed);
  }
  const int64_t compacted = read_number(r, "compact_revision", malformed);
  const auto flag = [&](std::string_view name) {
    const auto it = r.find(name);
    return it != r.end() && it->value().is_bool() && it->value().get_bool();
  };
  if (flag("created")) created_ = true;
  batch.events = read_events(r, malformed);
  if (!malformed.empty()) {
    end_ = "malformed answer: " + malformed;
  } else if (compacted > 0) {
    end_ = "compacted: " + std::to_string(compacted);
  } else if (flag("canceled")) {
    const auto reason = r.find("cancel_reason");
    end_ = "cancelled by etcd";
    if (reason != r.end() && reason->value().is_string()) {
      end_ += ": " + std::string(reason->value().get_string());
    }
  } else if (!batch.events.empty()) {
    on_batch_(std::move(batch));
  }
  return end_.empty();
}

}  // namespace vane::control
