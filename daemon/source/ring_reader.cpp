#include "source/ring_reader.h"

#include <bpf/libbpf.h>

namespace ngxwatch {

RingReader::RingReader(int map_fd, Callback cb) : cb_(std::move(cb)) {
  rb_ = ring_buffer__new(map_fd, &RingReader::on_record, this, nullptr);
}

RingReader::~RingReader() { ring_buffer__free(rb_); }

int RingReader::poll(int timeout_ms) {
  int n = ring_buffer__poll(rb_, timeout_ms);
  // Temp-file write events are submitted without a wakeup (one per spooled chunk would
  // wake us thousands of times a second), and the kernel's adaptive wakeup stays quiet
  // while unread records sit ahead: drain on every timeout, so nothing waits > timeout.
  if (n == 0) n = ring_buffer__consume(rb_);
  return n;
}

int RingReader::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingReader*>(ctx);
  self->cb_(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
  return 0;
}

}  // namespace ngxwatch
