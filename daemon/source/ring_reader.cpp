#include "source/ring_reader.h"

#include <bpf/libbpf.h>

namespace ngxwatch {

RingReader::RingReader(int map_fd, Callback cb) : cb_(std::move(cb)) {
  rb_ = ring_buffer__new(map_fd, &RingReader::on_record, this, nullptr);
}

RingReader::~RingReader() { ring_buffer__free(rb_); }

int RingReader::poll(int timeout_ms) { return ring_buffer__poll(rb_, timeout_ms); }

int RingReader::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingReader*>(ctx);
  self->cb_(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
  return 0;
}

}  // namespace ngxwatch
