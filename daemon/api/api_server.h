// The local JSON API: a Unix stream socket (mode 0660) served by its own thread with
// poll(), so a slow or hostile client can never block the daemon's event loop. One
// request per line (<= 4 KiB), one reply per line; bad requests get an error reply and
// the server stays up. Clients are bounded in number, idle time and unread output.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "api/api_request.h"

namespace ngxwatch {

struct ApiServerLimits {
  size_t max_clients = 16;
  int idle_timeout_ms = 60000;
  size_t max_pending_output = 16 << 20;  // a client that does not read is dropped
};

class ApiServer {
 public:
  ApiServer() = default;
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  ~ApiServer() { stop(); }

  // Binds `path` (mode 0660) and starts the thread; "" on success, else why not.
  // A stale socket file is replaced; a live one (another daemon) is an error.
  std::string start(const std::string& path, ApiRoutes routes, ApiServerLimits limits = {});
  void stop();

 private:
  void serve();
  std::string path_;
  ApiRoutes routes_;
  ApiServerLimits limits_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace ngxwatch
