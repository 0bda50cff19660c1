// One decoded record of the kernel's event stream, as every stage sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "ngxwatch/events.h"

namespace ngxwatch {

using Event = std::variant<ngxw_conn_event, ngxw_proc_event, ngxw_data_event, ngxw_temp_event>;

struct DecodeResult {
  bool ok = false;
  Event event{};
  std::string error;  // why a record was rejected (size, version, type)
};

// Validates and copies one raw record (from the ring buffer or a trace file).
// Never trusts the bytes: wrong size, version or type yields ok == false.
DecodeResult decode_event(std::span<const uint8_t> bytes);

uint64_t event_time_ns(const Event& e);
// The nginx process the event belongs to (0: none).
uint32_t event_pid(const Event& e);
// The socket an event is about (0: a process or temp-file event, about no one socket).
uint64_t event_sock(const Event& e);

// Whether a raw record announces an nginx process change (cheap: header only).
bool is_proc_record(std::span<const uint8_t> bytes);

}  // namespace ngxwatch
