"""nginx in its own mount and network namespace (a container made with `unshare`) is
attributed from ITS configuration.

The configuration lives on a tmpfs mounted only inside the namespace: the host sees an
empty directory at that path. The daemon must read the files through the master's own
root (/proc/PID/root), not the host's filesystem (the old `nginx -T` run on the host
could not find them, and nothing was labelled). The resetting upstream and the client
run inside the namespace's network (their sockets are made by threads that setns()
into it); the daemon, on the host, counts N upstream resets labelled with the server,
location and upstream named in the container's config.
"""

import ctypes
import os
import subprocess
import tempfile
import threading
import time

import harness as h

N = 8
CLONE_NEWNET = 0x40000000
LOCATION = "/ctr-only/"
SERVER = "ctr.example"

_libc = ctypes.CDLL(None, use_errno=True)


def in_netns(pid, fn):
    """fn() run by a thread inside the network namespace of `pid` (sockets it makes
    stay there)."""
    out = {}

    def run():
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                out["error"] = OSError(ctypes.get_errno(), "setns")
                return
        finally:
            os.close(fd)
        try:
            out["value"] = fn()
        except Exception as e:  # re-raised in the caller
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def body(args, nginx_bin):
    host_dir = tempfile.mkdtemp(prefix="ngxwatch-ctr-")
    os.chmod(host_dir, 0o755)
    holder = subprocess.Popen(["unshare", "--mount", "--net", "--propagation", "private",
                               "--fork", "--kill-child", "sleep", "600"])
    daemon = None
    ns_pid = None
    try:
        def child():
            r = subprocess.run(["pgrep", "-P", str(holder.pid)], capture_output=True, text=True)
            return int(r.stdout.split()[0]) if r.stdout.strip() else None
        ns_pid = h.wait_until(child, 5, what="the namespace's process")
        h.wait_until(lambda: os.readlink(f"/proc/{ns_pid}/ns/mnt") !=
                     os.readlink("/proc/self/ns/mnt"), 5, what="the new mount namespace")

        def enter(*cmd):
            r = subprocess.run(["nsenter", "-t", str(ns_pid), "-m", "-n", *cmd],
                               capture_output=True, text=True, timeout=30)
            h.check(r.returncode == 0, f"{' '.join(cmd)}: {r.stderr.strip()}")
            return r.stdout

        enter("ip", "link", "set", "lo", "up")
        enter("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", host_dir)
        upstream = in_netns(ns_pid, lambda: h.Upstream(h.resets_after_request, name="ctr"))
        port = 8080
        conf = f"""worker_processes 1;
pid {host_dir}/nginx.pid;
error_log {host_dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {host_dir}/client_body_temp;
    proxy_temp_path {host_dir}/proxy_temp;
    upstream ctr_app {{ server {upstream.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        location {LOCATION} {{ proxy_pass http://ctr_app; }}
    }}
}}
"""
        subprocess.run(["nsenter", "-t", str(ns_pid), "-m", "sh", "-c",
                        f"cat > {host_dir}/nginx.conf"], input=conf, text=True, check=True)
        h.check(not os.path.exists(f"{host_dir}/nginx.conf"),
                "the container's config is visible on the host: the test would prove nothing")
        enter(nginx_bin, "-p", host_dir, "-c", f"{host_dir}/nginx.conf")
        master = int(enter("cat", f"{host_dir}/nginx.pid").strip())

        daemon = h.Daemon(args.ngxwatch, "--scan-interval-ms", "200")
        h.wait_until(lambda: f"nginx master {master}: configuration loaded" in daemon.output(),
                     10, what=f"the container master {master}'s configuration")

        def requests():
            return [h.post(port, LOCATION + "x", 1000, headers={"Host": SERVER})
                    for _ in range(N)]
        statuses = in_netns(ns_pid, requests)
        h.check(statuses == [502] * N, f"statuses from the container's nginx: {statuses}")

        def labelled():
            return h.metric_sum(daemon.scrape(), "ngxwatch_resets_total", side="upstream",
                                upstream="ctr_app", server=SERVER, location=LOCATION)
        h.wait_until(lambda: labelled() >= N, 5, what=f"{N} resets labelled from its config")
        samples = daemon.scrape()
        got = labelled()
        total = h.metric_sum(samples, "ngxwatch_resets_total", side="upstream")
        print(f"  {got:.0f} of {total:.0f} upstream resets labelled "
              f"upstream=ctr_app server={SERVER} location={LOCATION}")
        h.check(got == N, f"want {N} resets labelled from the container's config, got {got}")
    except AssertionError:
        if daemon:
            print("\n".join(l for l in daemon.output().splitlines() if "evidence=" not in l)[-6000:])
        raise
    finally:
        if ns_pid:
            subprocess.run(["nsenter", "-t", str(ns_pid), "-m", "-n", "sh", "-c",
                            f"kill -QUIT $(cat {host_dir}/nginx.pid) 2>/dev/null"])
            time.sleep(0.5)
        if daemon:
            daemon.stop()
        holder.kill()
        holder.wait()
        subprocess.run(["rm", "-rf", host_dir])


if __name__ == "__main__":
    h.run_test(body)
