/* syscall_loop: what a process that is NOT nginx pays per operation.
 *
 *   syscall_loop MODE OPS [BATCHES]      prints "MODE ns_per_op=X ops=N batches=B"
 *
 * MODE
 *   getppid       one syscall(SYS_getppid) per op: the bare syscall path. Any
 *                 syscalls:* tracepoint attached anywhere puts this on the slow path.
 *   unix-pingpong AF_UNIX stream socketpair, 64 B send + recv each way per op
 *                 (4 syscalls): socket send/recv hooks (sock_send_length, ...) show here.
 *   tcp-pingpong  loopback TCP connection (TCP_NODELAY), 64 B send + recv each way per
 *                 op (4 syscalls + the TCP stack in both directions).
 *   tcp-connect   loopback TCP connect + accept + close per op (client closes with
 *                 SO_LINGER 0, i.e. an RST, so no TIME_WAIT piles up): every TCP state
 *                 change and reset hook fires for a socket that is not nginx's.
 *
 * The OPS operations are split into BATCHES equal batches (default 5); the median
 * batch is reported, which drops a batch hit by an interrupt or a migration. Pinning
 * is the caller's job (taskset).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
  fprintf(stderr, "syscall_loop: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void xfer(int from, int to, char* buf, size_t n) {
  if (send(from, buf, n, 0) != (ssize_t)n) die("send");
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(to, buf + got, n - got, 0);
    if (r <= 0) die("recv");
    got += (size_t)r;
  }
}

static int tcp_listener(struct sockaddr_in* addr) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) die("socket");
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr->sin_port = 0; /* any free port */
  if (bind(l, (struct sockaddr*)addr, sizeof(*addr)) < 0) die("bind");
  socklen_t len = sizeof(*addr);
  if (getsockname(l, (struct sockaddr*)addr, &len) < 0) die("getsockname");
  if (listen(l, 128) < 0) die("listen");
  return l;
}

static void tcp_pair(int sv[2]) {
  struct sockaddr_in addr;
  int l = tcp_listener(&addr);
  sv[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (sv[0] < 0) die("socket");
  if (connect(sv[0], (struct sockaddr*)&addr, sizeof(addr)) < 0) die("connect");
  sv[1] = accept(l, NULL, NULL);
  if (sv[1] < 0) die("accept");
  close(l);
  int one = 1;
  setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: syscall_loop getppid|unix-pingpong|tcp-pingpong|tcp-connect OPS [BATCHES]\n");
    return 2;
  }
  const char* mode = argv[1];
  long ops = atol(argv[2]);
  int batches = argc > 3 ? atoi(argv[3]) : 5;
  if (ops <= 0 || batches <= 0 || batches > 100 || ops < batches) {
    fprintf(stderr, "syscall_loop: OPS must be >= BATCHES > 0 (BATCHES <= 100)\n");
    return 2;
  }
  long per = ops / batches;
  double ns[100];
  char buf[64];
  memset(buf, 'x', sizeof(buf));

  int sv[2] = {-1, -1};
  int lst = -1;
  struct sockaddr_in laddr;
  struct linger lg = {1, 0};

  if (!strcmp(mode, "getppid")) {
  } else if (!strcmp(mode, "unix-pingpong")) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) die("socketpair");
  } else if (!strcmp(mode, "tcp-pingpong")) {
    tcp_pair(sv);
  } else if (!strcmp(mode, "tcp-connect")) {
    lst = tcp_listener(&laddr);
  } else {
    fprintf(stderr, "syscall_loop: unknown mode %s\n", mode);
    return 2;
  }

  for (int b = 0; b < batches; b++) {
    double t0 = now_ns();
    if (!strcmp(mode, "getppid")) {
      for (long i = 0; i < per; i++) syscall(SYS_getppid);
    } else if (!strcmp(mode, "tcp-connect")) {
      for (long i = 0; i < per; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0) die("socket");
        /* Loopback: the whole handshake completes inside connect(). */
        if (connect(c, (struct sockaddr*)&laddr, sizeof(laddr)) < 0) die("connect");
        int s = accept(lst, NULL, NULL);
        if (s < 0) die("accept");
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c);
        close(s);
      }
    } else {
      for (long i = 0; i < per; i++) {
        xfer(sv[0], sv[1], buf, sizeof(buf));
        xfer(sv[1], sv[0], buf, sizeof(buf));
      }
    }
    ns[b] = (now_ns() - t0) / (double)per;
  }
  qsort(ns, (size_t)batches, sizeof(double), cmp_double);
  double med = batches % 2 ? ns[batches / 2] : (ns[batches / 2 - 1] + ns[batches / 2]) / 2;
  printf("%s ns_per_op=%.2f ops=%ld batches=%d\n", mode, med, per * batches, batches);
  return 0;
}
