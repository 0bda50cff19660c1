/* The two ends of the reset flood (tests/e2e/flood_common.py), one epoll loop each, so
 * that the load, not this program, is what the machine spends its time on.
 *
 *   flood_load upstream PORT        accept; read the request; close with SO_LINGER 0
 *                                   (one RST each); on SIGTERM print "rsts N" and exit
 *   flood_load client PORT CONC N   CONC keepalive connections to nginx, N requests in
 *                                   all; print "sent N statuses S502 OTHER broken B"
 *   flood_load hold PORT N          N keepalive connections, one request each; print
 *                                   "held N", wait for a line on stdin, then close them
 *                                   all with SO_LINGER 0 (an RST each): "rsts N"
 *
 * Both bind 127.0.0.1 (the flood runs in its own network namespace). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int upstream(int port) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = loopback(port);
  if (bind(l, (struct sockaddr*)&a, sizeof(a)) || listen(l, 4096)) return perror("listen"), 2;
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  printf("ready\n");
  fflush(stdout);
  unsigned long long rsts = 0;
  struct epoll_event evs[256];
  char buf[4096];
  const struct linger zero = {.l_onoff = 1, .l_linger = 0};
  while (!stop) {
    int n = epoll_wait(ep, evs, 256, 200);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r < 0 && errno == EAGAIN) continue;
      /* The request arrived (or nginx gave up first): abort, which sends one RST. */
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &zero, sizeof(zero));
      close(fd);
      rsts++;
    }
  }
  printf("rsts %llu\n", rsts);
  return 0;
}

struct conn {
  int fd;
  size_t have;
  char buf[2048];
};

static int open_conn(struct conn* c, int ep, int port) {
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  c->have = 0;
  struct sockaddr_in a = loopback(port);
  if (connect(c->fd, (struct sockaddr*)&a, sizeof(a))) return -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static const char kRequest[] = "GET /flood/x HTTP/1.1\r\nHost: flood.test\r\n\r\n";

/* A whole response in c->buf: its length, or 0 if more bytes are needed. */
static size_t response_len(const struct conn* c) {
  const char* end = memmem(c->buf, c->have, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->buf) + 4;
  const char* cl = memmem(c->buf, head, "Content-Length: ", 16);
  size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
  return c->have >= head + body ? head + body : 0;
}

static int client(int port, int conc, unsigned long long total) {
  int ep = epoll_create1(0);
  struct conn* conns = calloc((size_t)conc, sizeof(*conns));
  unsigned long long sent = 0, s502 = 0, other = 0, broken = 0;
  for (int i = 0; i < conc && sent < total; i++) {
    if (open_conn(&conns[i], ep, port)) return perror("connect"), 2;
    if (write(conns[i].fd, kRequest, sizeof(kRequest) - 1) > 0) sent++;
  }
  unsigned long long done = 0;
  struct epoll_event evs[256];
  while (done < sent) {
    int n = epoll_wait(ep, evs, 256, 10000);
    if (n <= 0) break; /* 10 s without an answer: report what came back */
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      ssize_t r = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
      if (r <= 0) { /* nginx closed a keepalive connection: reopen, resend */
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        broken++;
        done++;
      } else {
        c->have += (size_t)r;
        size_t len = response_len(c);
        if (!len && c->have < sizeof(c->buf)) continue;
        done++;
        if (len && !strncmp(c->buf + 9, "502", 3))
          s502++;
        else
          other++;
        c->have = 0; /* one request at a time per connection: nothing follows */
        if (sent < total && write(c->fd, kRequest, sizeof(kRequest) - 1) > 0) sent++;
        continue;
      }
      if (sent < total && open_conn(c, ep, port) == 0 &&
          write(c->fd, kRequest, sizeof(kRequest) - 1) > 0)
        sent++;
    }
  }
  printf("sent %llu 502 %llu other %llu broken %llu\n", sent, s502, other, broken);
  return 0;
}

static int hold(int port, int n) {
  int* fds = calloc((size_t)n, sizeof(int));
  int held = 0;
  char buf[2048];
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (connect(fds[i], (struct sockaddr*)&a, sizeof(a)) ||
        write(fds[i], kRequest, sizeof(kRequest) - 1) <= 0 || read(fds[i], buf, sizeof(buf)) <= 0)
      return perror("hold"), 2;
    held++;
  }
  printf("held %d\n", held);
  fflush(stdout);
  if (!fgets(buf, sizeof(buf), stdin)) return 2;
  const struct linger zero = {.l_onoff = 1, .l_linger = 0};
  for (int i = 0; i < n; i++) {
    setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &zero, sizeof(zero));
    close(fds[i]);
  }
  printf("rsts %d\n", n);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && !strcmp(argv[1], "hold")) return hold(atoi(argv[2]), atoi(argv[3]));
  if (argc == 3 && !strcmp(argv[1], "upstream")) return upstream(atoi(argv[2]));
  if (argc == 5 && !strcmp(argv[1], "client"))
    return client(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10));
  fprintf(stderr, "usage: %s upstream PORT | client PORT CONC N | hold PORT N\n", argv[0]);
  return 2;
}
