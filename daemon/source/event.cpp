#include "source/event.h"

#include <cstddef>
#include <cstring>

namespace ngxwatch {

namespace {

// Records may sit at any offset (a trace file packs them): copy, never cast.
template <typename T>
DecodeResult copy_as(std::span<const uint8_t> bytes, uint16_t type) {
  DecodeResult r;
  if (bytes.size() != sizeof(T)) {
    r.error = "record of type " + std::to_string(type) + " has " + std::to_string(bytes.size()) +
              " bytes, expected " + std::to_string(sizeof(T));
    return r;
  }
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  r.ok = true;
  r.event = value;
  return r;
}

// A data record carries its header and only the len bytes captured (the kernel sends no
// more: most heads are far shorter than NGXW_CAPTURE_BYTES); older traces hold the full
// struct. The bytes not sent are zero, as if the kernel had left them unwritten.
DecodeResult decode_data(std::span<const uint8_t> bytes) {
  constexpr size_t head = offsetof(ngxw_data_event, data);
  DecodeResult r;
  ngxw_data_event e{};
  if (bytes.size() < head || bytes.size() > sizeof(e)) {
    r.error = "data record has " + std::to_string(bytes.size()) + " bytes, expected " +
              std::to_string(head) + ".." + std::to_string(sizeof(e));
    return r;
  }
  std::memcpy(&e, bytes.data(), bytes.size());
  if (e.len > bytes.size() - head) {
    r.error = "data record of " + std::to_string(bytes.size()) + " bytes claims " +
              std::to_string(e.len) + " captured bytes";
    return r;
  }
  r.ok = true;
  r.event = e;
  return r;
}

}  // namespace

DecodeResult decode_event(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(ngxw_event_header)) {
    return {
        false, {}, "record of " + std::to_string(bytes.size()) + " bytes is shorter than a header"};
  }
  ngxw_event_header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (h.version != NGXW_EVENT_VERSION) {
    return {false,
            {},
            "record version " + std::to_string(h.version) + ", expected " +
                std::to_string(NGXW_EVENT_VERSION)};
  }
  switch (h.type) {
    case NGXW_EV_RESET:
    case NGXW_EV_CONN_OPEN:
    case NGXW_EV_CONN_CLOSE:
      return copy_as<ngxw_conn_event>(bytes, h.type);
    case NGXW_EV_PROC:
      return copy_as<ngxw_proc_event>(bytes, h.type);
    case NGXW_EV_DATA:
      return decode_data(bytes);
    case NGXW_EV_TEMP:
      return copy_as<ngxw_temp_event>(bytes, h.type);
    default:
      return {false, {}, "unknown record type " + std::to_string(h.type)};
  }
}

uint64_t event_time_ns(const Event& e) {
  return std::visit([](const auto& v) { return v.hdr.ts_ns; }, e);
}

uint32_t event_pid(const Event& e) {
  return std::visit([](const auto& v) { return v.hdr.tgid; }, e);
}

uint64_t event_sock(const Event& e) {
  if (const auto* c = std::get_if<ngxw_conn_event>(&e)) return c->sock_id;
  if (const auto* d = std::get_if<ngxw_data_event>(&e)) return d->sock_id;
  return 0;
}

bool is_proc_record(std::span<const uint8_t> bytes) {
  ngxw_event_header h;
  if (bytes.size() < sizeof(h)) return false;
  std::memcpy(&h, bytes.data(), sizeof(h));
  return h.type == NGXW_EV_PROC;
}

}  // namespace ngxwatch
