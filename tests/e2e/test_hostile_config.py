"""Reading a master's configuration cannot hang the daemon.

Any local user can run the real nginx binary with `-c` of their choosing. Here, as
`nobody`, one nginx reads its main file from a FIFO and another includes a FIFO: both
block inside nginx (nobody writes the FIFOs), but they are genuine nginx processes the
daemon must look at. The daemon opens files O_NONBLOCK and reads regular files only:
- it starts and serves /metrics within its normal start time;
- it says once per master, in one line naming the FIFO, that the configuration was
  not loaded;
- the real nginx next to them is still attributed (its configuration loads).
"""

import os
import subprocess
import tempfile
import time

import harness as h


def body(args, nginx_bin):
    work = tempfile.mkdtemp(prefix="ngxwatch-hostile-")
    os.chmod(work, 0o755)
    fifo_main = os.path.join(work, "main.fifo")
    fifo_inc = os.path.join(work, "inc.fifo")
    os.mkfifo(fifo_main, 0o644)
    os.mkfifo(fifo_inc, 0o644)
    inc_conf = os.path.join(work, "includes.conf")
    with open(inc_conf, "w") as f:
        f.write(f"events {{}}\ninclude {fifo_inc};\n")
    hostile = [
        subprocess.Popen([nginx_bin, "-p", work, "-c", fifo_main], user="nobody",
                         group="nogroup", stderr=subprocess.DEVNULL),
        subprocess.Popen([nginx_bin, "-p", work, "-c", inc_conf], user="nobody",
                         group="nogroup", stderr=subprocess.DEVNULL),
    ]
    real = h.Nginx(nginx_bin, f"server {{ listen 127.0.0.1:{h.free_port()}; return 200; }}")
    daemon = None
    try:
        time.sleep(0.5)  # both are blocked in open()/read() of their FIFO
        for p in hostile:
            h.check(p.poll() is None, f"hostile nginx {p.pid} exited: the test proves nothing")
        real.start()
        t0 = time.monotonic()
        daemon = h.Daemon(args.ngxwatch, "--scan-interval-ms", "200")
        print(f"  daemon ready after {time.monotonic() - t0:.2f} s")
        master = real.master_pid()
        h.wait_until(lambda: f"nginx master {master}: configuration loaded" in daemon.output(), 10,
                     what="the real master's configuration")
        time.sleep(1.0)
        out = daemon.output()
        for p, fifo in zip(hostile, (fifo_main, fifo_inc)):
            lines = [l for l in out.splitlines() if f"nginx master {p.pid}:" in l]
            h.check(len(lines) == 1 and "not loaded" in lines[0] and fifo in lines[0]
                    and "not a regular file" in lines[0],
                    f"want one 'not loaded ... {fifo} ... not a regular file' line for {p.pid}, "
                    f"got {lines}")
            print(f"  {lines[0].strip()}")
        t1 = time.monotonic()
        h.check("ngxwatch_probe_attached" in daemon.scrape_text(), "/metrics answers")
        h.check(time.monotonic() - t1 < 1.0, "/metrics slow to answer")
    except AssertionError:
        if daemon:
            print(daemon.output()[-3000:])
        raise
    finally:
        for p in hostile:
            p.kill()
            p.wait()
        if daemon:
            daemon.stop()
        real.cleanup()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    h.run_test(body)
