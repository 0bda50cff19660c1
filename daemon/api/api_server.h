// The local JSON API: a Unix stream socket (mode 0660) served by its own thread with
// poll(), so a slow or hostile client can never block the daemon's event loop. One
// request per line (<= 4 KiB), one reply per line; bad requests get an error reply and
// the server stays up. Clients are bounded in number, idle time and unread output.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
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
  // Routes named in `slow` (suggest: nginx -t per change) are answered by a worker
  // thread, so they never hold up the others (top's snapshots); a client waiting for
  // one gets its later replies after it, in order.
  std::string start(const std::string& path, ApiRoutes routes, ApiServerLimits limits = {},
                    std::set<std::string> slow = {});
  void stop();

 private:
  struct Job {
    uint64_t client;
    std::string line;
  };
  void serve();
  void work();
  std::string path_;
  ApiRoutes routes_;
  std::set<std::string> slow_;
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;
  std::deque<Job> done_;  // line = the reply
  bool stopping_ = false;
  int done_fd_ = -1;  // eventfd: a slow reply is ready
  std::thread worker_;
  ApiServerLimits limits_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace ngxwatch
