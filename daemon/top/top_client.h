// `top`'s side of the local API: one connection, re-made whenever the daemon went away
// (restarted, reloaded by systemd), so the view recovers without user action.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ngxwatch {

class TopClient {
 public:
  explicit TopClient(std::string path) : path_(std::move(path)) {}
  TopClient(const TopClient&) = delete;
  TopClient& operator=(const TopClient&) = delete;
  ~TopClient() { disconnect(); }

  // {"get": what} -> the reply object; nullopt with *error set when the daemon cannot
  // be reached or answers with an error. Bounded by timeout_ms in total.
  std::optional<nlohmann::json> get(const std::string& what, std::string* error,
                                    int timeout_ms = 2000);
  void disconnect();
  const std::string& path() const { return path_; }

 private:
  bool connect_socket(std::string* error);
  std::string path_;
  int fd_ = -1;
};

// "daemon not reachable at PATH — start it with `sudo ngxwatch run`"
std::string daemon_unreachable_line(const std::string& path);

}  // namespace ngxwatch
