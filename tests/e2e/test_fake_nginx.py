"""A process that only looks like nginx is never run by the daemon.

Any local user can name a program `nginx` or rename a process with
prctl(PR_SET_NAME, "nginx"): the BPF filter and the /proc scan see a comm starting
with "nginx". The daemon, running with privileges, must not execute that process's
binary (`-V` for build paths, `-T` for the configuration, `-t` for suggestions).

A small compiled program (a script would make /proc/PID/exe the interpreter, and the
test could not fail) writes a marker file next to itself whenever it is run with -V,
-T or -t. Two copies are started as `nobody`: one file named `nginx`, one named
`lookalike` that renames itself to "nginx". After several scan intervals of the daemon:
- the marker does not exist (nothing ran the binary);
- the daemon logged, once per process, that it ignores it as not an nginx binary;
- a real nginx started next to them is still picked up (its configuration loads).
"""

import os
import pwd
import subprocess
import tempfile
import time

from harness import Daemon, Nginx, check, free_port, run_test, wait_until

FAKE_C = r"""
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "-T") || !strcmp(argv[i], "-t")) {
      char self[4096], marker[4200];
      ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
      if (n < 0) return 1;
      self[n] = 0;
      snprintf(marker, sizeof marker, "%s.ran", self);
      FILE *f = fopen(marker, "a");
      if (f) {
        fprintf(f, "uid=%d arg=%s\n", (int)getuid(), argv[i]);
        fclose(f);
      }
      return 0;
    }
  }
  if (argc > 1 && !strcmp(argv[1], "rename")) prctl(PR_SET_NAME, "nginx", 0, 0, 0);
  for (;;) pause();
}
"""


def compile_fake(directory, name):
    src = os.path.join(directory, "fake.c")
    with open(src, "w") as f:
        f.write(FAKE_C)
    exe = os.path.join(directory, name)
    subprocess.run(["cc", "-O1", "-o", exe, src], check=True)
    nobody = pwd.getpwnam("nobody")
    os.chown(exe, nobody.pw_uid, nobody.pw_gid)
    return exe


def body(args, nginx_binary):
    work = tempfile.mkdtemp(prefix="ngxwatch-fake-")
    os.chmod(work, 0o777)  # nobody's own directory: the markers land here
    named = compile_fake(work, "nginx")
    renamed = compile_fake(work, "lookalike")
    fakes = [
        subprocess.Popen([named], user="nobody", group="nogroup"),
        subprocess.Popen([renamed, "rename"], user="nobody", group="nogroup"),
    ]
    real = Nginx(nginx_binary, f"server {{ listen 127.0.0.1:{free_port()}; return 200; }}")
    daemon = None
    try:
        for p in fakes:
            wait_until(lambda p=p: open(f"/proc/{p.pid}/comm").read().strip() == "nginx", 5,
                       what=f"comm of {p.pid}")
        real.start()
        daemon = Daemon(args.ngxwatch, "--scan-interval-ms", "200")
        # The real master's configuration loads: the scan works at all.
        master = real.master_pid()
        wait_until(lambda: f"nginx master {master}: configuration loaded" in daemon.output(), 10,
                   what="the real master's configuration")
        time.sleep(2.0)  # ten scan intervals more, with both fakes alive throughout
        for p in fakes:
            check(p.poll() is None, f"fake process {p.pid} exited early")
        markers = [m for m in (named + ".ran", renamed + ".ran") if os.path.exists(m)]
        for m in markers:
            print(f"  {m}: {open(m).read().strip()}")
        check(not markers, f"the daemon executed a fake nginx binary: {markers}")
        out = daemon.output()
        for p in fakes:
            lines = [l for l in out.splitlines() if f"process {p.pid} " in l and "ignored" in l]
            check(len(lines) == 1,
                  f"expected one 'ignored' line for fake pid {p.pid}, got {len(lines)}:\n{out}")
            print(f"  {lines[0].strip()}")
        check(f"master {fakes[0].pid}" not in out and f"master {fakes[1].pid}" not in out,
              "a fake process was treated as an nginx master")
    finally:
        for p in fakes:
            p.kill()
            p.wait()
        if daemon:
            daemon.stop()
        real.cleanup()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    run_test(body)
