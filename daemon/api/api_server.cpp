#include "api/api_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace ngxwatch {

namespace {

struct Client {
  uint64_t id = 0;
  int fd = -1;
  bool waiting = false;  // a slow request is with the worker: later lines wait
  std::string in;
  std::string out;
  bool closing = false;  // reply queued, then close (oversized request)
  std::chrono::steady_clock::time_point last;
};

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool fill_address(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size());
  return true;
}

// Another daemon answering on the path must not be robbed of its socket.
bool someone_listens(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

void flush(Client& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      c.out.clear();
      c.closing = true;
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
}

}  // namespace

std::string ApiServer::start(const std::string& path, ApiRoutes routes, ApiServerLimits limits,
                             std::set<std::string> slow) {
  sockaddr_un addr;
  if (!fill_address(path, &addr)) return "API socket path is empty or too long: " + path;
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return "API socket path exists and is no socket: " + path;
    if (someone_listens(addr)) return "another process already serves the API at " + path;
    unlink(path.c_str());
  }
  // The runtime directory exists under systemd (RuntimeDirectory=); a manual
  // `sudo ngxwatch run` creates its last component.
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0)
    mkdir(path.substr(0, slash).c_str(), 0750);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_text("API socket");
  // Linux creates the file with the socket inode's mode: no window with a wider mode.
  fchmod(fd, 0660);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string e = errno_text("bind " + path);
    close(fd);
    return e;
  }
  if (chmod(path.c_str(), 0660) != 0 || listen(fd, 16) != 0) {
    std::string e = errno_text("API socket " + path);
    close(fd);
    unlink(path.c_str());
    return e;
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    std::string e = errno_text("eventfd");
    close(fd);
    unlink(path.c_str());
    return e;
  }
  done_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (done_fd_ < 0) {
    std::string e = errno_text("eventfd");
    close(fd);
    close(wake_fd_);
    unlink(path.c_str());
    return e;
  }
  listen_fd_ = fd;
  path_ = path;
  routes_ = std::move(routes);
  slow_ = std::move(slow);
  limits_ = limits;
  stopping_ = false;
  worker_ = std::thread([this] { work(); });
  thread_ = std::thread([this] { serve(); });
  return "";
}

void ApiServer::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
  {
    std::lock_guard lock(jobs_mu_);
    stopping_ = true;
  }
  jobs_cv_.notify_all();
  worker_.join();
  close(listen_fd_);
  close(wake_fd_);
  close(done_fd_);
  unlink(path_.c_str());
  listen_fd_ = wake_fd_ = done_fd_ = -1;
}

void ApiServer::work() {
  std::unique_lock lock(jobs_mu_);
  for (;;) {
    jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    std::string reply = handle_api_request(job.line, routes_);
    lock.lock();
    done_.push_back(Job{job.client, std::move(reply)});
    uint64_t one = 1;
    (void)!write(done_fd_, &one, sizeof(one));
  }
}

void ApiServer::serve() {
  std::vector<Client> clients;
  std::vector<pollfd> fds;
  uint64_t next_id = 1;
  // Answers the client's complete lines in order; a slow one goes to the worker and
  // the rest wait for its reply.
  auto answer = [this](Client& c) {
    size_t nl;
    while (!c.closing && !c.waiting && (nl = c.in.find('\n')) != std::string::npos) {
      std::string line = c.in.substr(0, nl);
      c.in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (slow_.count(api_resource_of(line))) {
        c.waiting = true;
        {
          std::lock_guard lock(jobs_mu_);
          jobs_.push_back(Job{c.id, std::move(line)});
        }
        jobs_cv_.notify_one();
      } else {
        c.out += handle_api_request(line, routes_) + "\n";
      }
    }
  };
  for (;;) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({done_fd_, POLLIN, 0});
    for (const auto& c : clients) {
      // A client waiting for a slow reply is not read from: its input stays bounded.
      short events = static_cast<short>((c.waiting ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT));
      fds.push_back({c.fd, events, 0});
    }
    if (poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    auto now = std::chrono::steady_clock::now();
    if (fds[2].revents & POLLIN) {
      uint64_t n;
      (void)!read(done_fd_, &n, sizeof(n));
      std::deque<Job> done;
      {
        std::lock_guard lock(jobs_mu_);
        done.swap(done_);
      }
      for (Job& d : done)
        for (Client& c : clients)
          if (c.id == d.client) {
            c.out += d.line + "\n";
            c.waiting = false;
            c.last = now;
            answer(c);
          }
    }

    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      short ev = fds[i + 3].revents;
      if (ev & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          c.closing = true;
          c.out.clear();
        } else if (n > 0 && !c.closing) {
          c.last = now;
          c.in.append(buf, static_cast<size_t>(n));
          answer(c);
          // No newline within the limit: the rest of the stream cannot be framed.
          if (c.in.size() >= kMaxApiRequest) {
            c.out +=
                api_error("request too large (max " + std::to_string(kMaxApiRequest) + " bytes)") +
                "\n";
            c.in.clear();
            c.closing = true;
          }
        }
      }
      flush(c);
      if (c.out.size() > limits_.max_pending_output) {
        c.out.clear();
        c.closing = true;
      }
      if (!c.waiting && now - c.last > std::chrono::milliseconds(limits_.idle_timeout_ms)) {
        c.out.clear();
        c.closing = true;
      }
    }
    std::erase_if(clients, [](const Client& c) {
      if (c.closing && c.out.empty()) {
        close(c.fd);
        return true;
      }
      return false;
    });

    if (fds[1].revents & POLLIN) {
      for (int k = 0; k < 16; ++k) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (clients.size() >= limits_.max_clients) {
          std::string e = api_error("too many API clients") + "\n";
          (void)!send(fd, e.data(), e.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          close(fd);
          continue;
        }
        Client c;
        c.id = next_id++;
        c.fd = fd;
        c.last = now;
        clients.push_back(std::move(c));
      }
    }
  }
  for (auto& c : clients) close(c.fd);
}

}  // namespace ngxwatch
