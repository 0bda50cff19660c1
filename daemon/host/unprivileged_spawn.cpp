#include "host/unprivileged_spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nginx/binary_info.h"

namespace ngxwatch::nginx {

namespace {

std::string owner_problem(const std::string& path, const struct stat& st) {
  if (st.st_uid != 0) return path + " is not owned by root";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return path + " is writable by group or others";
  return "";
}

// The check, with the file's identity for comparing with the descriptor later.
std::string check_binary(const std::string& path, struct stat& st) {
  if (path.empty() || path[0] != '/')
    return "nginx binary \"" + path + "\" is not an absolute path";
  char real[4096];
  if (::realpath(path.c_str(), real) == nullptr)
    return "cannot resolve " + path + ": " + std::strerror(errno);
  std::string file = real;
  if (::stat(file.c_str(), &st) != 0) return "cannot stat " + file + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0)
    return file + " is not an executable file";
  if (auto p = owner_problem(file, st); !p.empty()) return "will not run " + path + ": " + p;
  for (std::string dir = file.substr(0, file.rfind('/')); !dir.empty();
       dir = dir.substr(0, dir.rfind('/'))) {
    struct stat ds {};
    if (::stat(dir.c_str(), &ds) != 0) return "cannot stat " + dir + ": " + std::strerror(errno);
    if (auto p = owner_problem(dir, ds); !p.empty()) return "will not run " + path + ": " + p;
  }
  struct stat rs {};
  if (::stat("/", &rs) == 0 && !owner_problem("/", rs).empty())
    return "will not run " + path + ": / is not root-owned or is writable by others";
  BinaryInfo info = cached_binary_info(file);
  if (!info.is_nginx) return "will not run " + info.why;
  return "";
}

}  // namespace

std::string untrusted_binary_reason(const std::string& path) {
  struct stat st {};
  return check_binary(path, st);
}

RunIdentity unprivileged_identity() {
  RunIdentity id{::getuid(), ::getgid()};
  if (::geteuid() != 0) return id;
  id.uid = 65534;  // the kernel's overflow uid, in case the passwd file lacks nobody
  id.gid = 65534;
  if (const passwd* pw = ::getpwnam("nobody")) id.uid = pw->pw_uid, id.gid = pw->pw_gid;
  if (const group* gr = ::getgrnam("nogroup")) id.gid = gr->gr_gid;
  return id;
}

pid_t spawn_unprivileged(const std::vector<std::string>& argv, int out_fd, int err_fd,
                         std::string& error) {
  if (argv.empty()) {
    error = "nothing to run";
    return -1;
  }
  struct stat st {};
  if (std::string why = check_binary(argv[0], st); !why.empty()) {
    error = why;
    return -1;
  }
  // Everything the child needs is prepared here: after fork only system calls.
  int exe = ::open(argv[0].c_str(), O_PATH | O_CLOEXEC);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (exe < 0 || null_fd < 0) {
    error = "cannot open " + argv[0] + ": " + std::strerror(errno);
    if (exe >= 0) ::close(exe);
    if (null_fd >= 0) ::close(null_fd);
    return -1;
  }
  struct stat checked {};
  if (::fstat(exe, &checked) != 0 || checked.st_dev != st.st_dev || checked.st_ino != st.st_ino ||
      !owner_problem(argv[0], checked).empty()) {
    error = argv[0] + " changed while it was checked";
    ::close(exe);
    ::close(null_fd);
    return -1;
  }
  RunIdentity id = unprivileged_identity();
  bool as_root = ::geteuid() == 0;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  // One capability may stay: CAP_NET_BIND_SERVICE, because nginx -t binds the listen
  // sockets it checks (port 80 and 443 included) - if ngxwatch holds it at all.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct have[2] = {};
  bool bind_cap = ::syscall(SYS_capget, &hdr, have) == 0 &&
                  (have[0].permitted & (1u << CAP_NET_BIND_SERVICE)) != 0;
  __user_cap_data_struct keep[2] = {};
  if (bind_cap)
    keep[0].permitted = keep[0].effective = keep[0].inheritable = 1u << CAP_NET_BIND_SERVICE;

  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(exe);
    ::close(null_fd);
    return -1;
  }
  if (pid == 0) {
    if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (as_root) {
      // Nothing else can come back: the bounding set keeps only the bind capability.
      for (int c = 0; c < 64; ++c)
        if (c != CAP_NET_BIND_SERVICE) ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
      // Raw system calls: glibc's wrappers would signal the parent's other threads
      // (setxid broadcast), which do not exist in this child.
      if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || ::syscall(SYS_setgroups, 0, nullptr) != 0 ||
          ::syscall(SYS_setresgid, id.gid, id.gid, id.gid) != 0 ||
          ::syscall(SYS_setresuid, id.uid, id.uid, id.uid) != 0)
        ::_exit(126);
    }
    if (::syscall(SYS_capset, &hdr, keep) != 0) ::_exit(126);
    if (bind_cap && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0)
      ::_exit(126);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(126);
    ::syscall(SYS_execveat, exe, "", args.data(), envp, AT_EMPTY_PATH);
    ::_exit(127);
  }
  ::close(exe);
  ::close(null_fd);
  return pid;
}

}  // namespace ngxwatch::nginx
