// Drains the kernel's ring buffer into a callback, one raw record at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

struct ring_buffer;

namespace ngxwatch {

class RingReader {
 public:
  using Callback = std::function<void(std::span<const uint8_t>)>;
  RingReader(int map_fd, Callback cb);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  bool ok() const { return rb_ != nullptr; }
  // Waits up to timeout_ms (epoll) and consumes what is there; <0 on error/EINTR.
  int poll(int timeout_ms);

 private:
  static int on_record(void* ctx, void* data, size_t size);
  ring_buffer* rb_ = nullptr;
  Callback cb_;
};

}  // namespace ngxwatch
