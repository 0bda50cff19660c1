// Running nginx for `nginx -t` without handing it ngxwatch's privileges.
//
// The only nginx ngxwatch runs is a binary an administrator installed: root-owned, not
// writable by group or others, in directories that are root-owned and not writable by
// group or others either (a user who can rename a parent can swap the file), and whose
// bytes are nginx's (binary_info.h). It is executed from the descriptor that was
// checked (execveat), so the file cannot change between check and exec.
//
// The child drops everything before exec: as root it becomes nobody:nogroup with no
// supplementary groups; under the systemd unit (an unprivileged user with ambient
// capabilities) it keeps the uid. Either way: no capabilities but CAP_NET_BIND_SERVICE
// when ngxwatch has it (nginx -t binds the listen sockets it checks, :80 and :443
// too; the bounding set keeps nothing else), PR_SET_NO_NEW_PRIVS (a setuid or
// file-capability binary gains nothing), and an environment of its own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ngxwatch::nginx {

// "" when `path` may be run, else one line saying why not.
std::string untrusted_binary_reason(const std::string& path);

// The uid/gid the child runs as: nobody:nogroup when ngxwatch is root, else its own.
struct RunIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
};
RunIdentity unprivileged_identity();

// Forks a child that drops privileges as above and execs `argv[0]` (checked with
// untrusted_binary_reason) with stdout/stderr on the given fds and stdin on /dev/null.
// Returns the pid, or -1 with `error` set.
pid_t spawn_unprivileged(const std::vector<std::string>& argv, int out_fd, int err_fd,
                         std::string& error);

}  // namespace ngxwatch::nginx
