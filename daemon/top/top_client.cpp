#include "top/top_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ngxwatch {

std::string daemon_unreachable_line(const std::string& path) {
  return "daemon not reachable at " + path + " \u2014 start it with `sudo ngxwatch run`";
}

void TopClient::disconnect() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool TopClient::connect_socket(std::string* error) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof(addr.sun_path)) {
    *error = "API socket path is empty or too long: " + path_;
    return false;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = std::strerror(errno);
    disconnect();
    return false;
  }
  return true;
}

std::optional<nlohmann::json> TopClient::get(const std::string& what, std::string* error,
                                             int timeout_ms) {
  // One retry on a fresh connection: a kept connection may have died with a restart.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = fd_ < 0;
    if (fresh && !connect_socket(error)) return std::nullopt;
    std::string req = nlohmann::json{{"get", what}}.dump() + "\n";
    if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      disconnect();
      *error = "connection lost";
      if (fresh) return std::nullopt;
      continue;
    }
    std::string reply;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool lost = false;
    while (reply.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
        disconnect();
        *error = "no answer within " + std::to_string(timeout_ms) + " ms";
        return std::nullopt;
      }
      char buf[65536];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        lost = true;
        break;
      }
      reply.append(buf, static_cast<size_t>(n));
    }
    if (lost) {
      disconnect();
      *error = "connection lost";
      if (fresh) return std::nullopt;
      continue;
    }
    reply.resize(reply.find('\n'));
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      disconnect();
      *error = "the daemon's reply is not JSON";
      return std::nullopt;
    }
    if (j.contains("error")) {
      *error = "the daemon says: " +
               j["error"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return std::nullopt;
    }
    return j;
  }
  return std::nullopt;
}

}  // namespace ngxwatch
