#include "cli/load_child.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ngxwatch {

namespace {

// SUDO_UID/SUDO_GID when root runs on someone's behalf; nullopt otherwise.
std::optional<std::pair<uid_t, gid_t>> sudo_user() {
  const char* u = std::getenv("SUDO_UID");
  const char* g = std::getenv("SUDO_GID");
  if (getuid() != 0 || !u || !g) return std::nullopt;
  char* end = nullptr;
  unsigned long uid = std::strtoul(u, &end, 10);
  if (*u == '\0' || *end != '\0' || uid == 0) return std::nullopt;
  unsigned long gid = std::strtoul(g, &end, 10);
  if (*g == '\0' || *end != '\0') return std::nullopt;
  return std::make_pair(static_cast<uid_t>(uid), static_cast<gid_t>(gid));
}

// In the child, between fork and exec: only async-signal-safe calls. Reports errno
// through the close-on-exec pipe when it cannot exec.
// Everything is prepared before fork (other threads may hold malloc's lock).
[[noreturn]] void exec_child(char* const* args, std::optional<std::pair<uid_t, gid_t>> as,
                             const std::vector<gid_t>& groups, bool stdout_to_stderr,
                             int report_fd) {
  if (stdout_to_stderr) dup2(STDERR_FILENO, STDOUT_FILENO);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &dfl, nullptr);
  int stage = 0;
  if (as) {
    stage = 1;
    if (setgroups(groups.size(), groups.data()) != 0 || setgid(as->second) != 0 ||
        setuid(as->first) != 0) {
      int e = errno;
      (void)!write(report_fd, &stage, sizeof stage);
      (void)!write(report_fd, &e, sizeof e);
      _exit(127);
    }
  }
  execvp(args[0], args);
  int e = errno;
  stage = 2;
  (void)!write(report_fd, &stage, sizeof stage);
  (void)!write(report_fd, &e, sizeof e);
  _exit(127);
}

}  // namespace

std::unique_ptr<LoadChild> LoadChild::start(const std::vector<std::string>& argv, bool keep_root,
                                            bool stdout_to_stderr, std::string* error) {
  if (argv.empty()) return *error = "no load command given (after --)", nullptr;
  std::unique_ptr<LoadChild> c(new LoadChild());
  auto as = keep_root ? std::nullopt : sudo_user();
  std::string user;
  std::vector<gid_t> groups;  // the user's supplementary groups
  if (as) {
    if (const passwd* pw = getpwuid(as->first)) {
      user = pw->pw_name;
      int n = 64;
      groups.resize(n);
      if (getgrouplist(pw->pw_name, as->second, groups.data(), &n) < 0) {
        groups.resize(n);
        getgrouplist(pw->pw_name, as->second, groups.data(), &n);
      }
      groups.resize(n);
    }
    c->runs_as_ = "uid " + std::to_string(as->first) + (user.empty() ? "" : " (" + user + ")") +
                  ", from SUDO_UID";
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return *error = std::string("pipe: ") + strerror(errno), nullptr;
  c->pid_ = fork();
  if (c->pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    return *error = std::string("fork: ") + strerror(errno), nullptr;
  }
  if (c->pid_ == 0) {
    close(fds[0]);
    exec_child(args.data(), as, groups, stdout_to_stderr, fds[1]);
  }
  close(fds[1]);
  int report[2] = {0, 0};
  ssize_t n;
  do n = read(fds[0], report, sizeof report);
  while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n > 0) {  // the child could not exec: reap it, say why
    waitpid(c->pid_, nullptr, 0);
    c->pid_ = -1;
    *error = (report[0] == 1 ? "cannot switch to " + c->runs_as_ + " to run " + argv[0]
                             : "cannot run " + argv[0]) +
             ": " + strerror(report[1]);
    return nullptr;
  }
  return c;
}

LoadChild::~LoadChild() {
  if (pid_ > 0 && !status_) {  // the gate is going away: so does its load
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

std::optional<int> LoadChild::poll() {
  if (status_ || pid_ <= 0) return status_;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    if (WIFEXITED(st))
      status_ = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
      status_ = 128 + WTERMSIG(st);
  }
  return status_;
}

void LoadChild::signal(int sig) {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

}  // namespace ngxwatch
