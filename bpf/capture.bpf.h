/* Request capture shared by every backend: per-connection byte counters, request
 * boundaries, and the first bytes of each message nginx sends or receives.
 *
 * A backend (capture_<name>.bpf.c) calls on_transfer(btf, sk, family, ret, outbound,
 * buf) once per send/receive call on a TCP socket, where `buf` says where the message's
 * bytes are in user memory and `btf` whether sk is BTF-typed (see SK_FIELD). Before including this
 * header a backend may define NGXW_BUFFER_FROM_SYSCALL  buf is unknown: read it from the syscall's
 * saved registers NGXW_SCAN_LOOP 0          the kernel has no bpf_loop (< 5.17): no Content-Length
 * scan
 */
#ifndef NGXWATCH_BPF_CAPTURE_H
#define NGXWATCH_BPF_CAPTURE_H

#include "heads.bpf.h"

#ifndef NGXW_SCAN_LOOP
#define NGXW_SCAN_LOOP 1
#endif

/* Client requests per second per CPU whose bytes reach user space in full; 0: all of
 * them. Set by the loader (--sample-rate). */
const volatile __u32 sample_per_sec = 0;

/* Where the bytes of the current message start in user memory; addr 0: unknown. */
struct msg_buf {
  __u64 addr;
  __u64 len;
};

static __always_inline bool sample_request(__u64 now, __u32* weight) {
  *weight = 1;
  count(NGXW_CTR_REQUESTS);
  if (!sample_per_sec) return true;
  __u32 zero = 0;
  struct sampler* s = bpf_map_lookup_elem(&samplers, &zero);
  if (!s) return true;
  if (now - s->window_ns >= 1000000000ull) {
    /* The stride for this second from the last one's rate. */
    s->stride = (s->seen + sample_per_sec - 1) / sample_per_sec;
    s->seen = 0;
    s->window_ns = now;
  }
  s->seen += 1;
  if (s->stride == 0) s->stride = 1;
  /* A burst inside the window: widen the stride as soon as twice the budget went by. */
  if (s->seen > 2 * (__u64)sample_per_sec * s->stride && s->stride < (1u << 20)) s->stride *= 2;
  if (s->skipped + 1 < s->stride) {
    s->skipped += 1;
    count(NGXW_CTR_UNSAMPLED);
    return false;
  }
  *weight = (__u32)(s->skipped + 1);
  s->skipped = 0;
  return true;
}

#ifdef NGXW_BUFFER_FROM_SYSCALL
enum { BUF_PLAIN = 1, BUF_IOVEC = 2, BUF_MSGHDR = 3 };

/* Which kind of user buffer the current syscall passes as its second argument. */
static __always_inline int syscall_buffer_kind(long nr) {
#if defined(__TARGET_ARCH_x86)
  switch (nr) {
    case 0:
    case 1:
    case 44:
    case 45:
      return BUF_PLAIN; /* read write sendto recvfrom */
    case 19:
    case 20:
      return BUF_IOVEC; /* readv writev */
    case 46:
    case 47:
      return BUF_MSGHDR; /* sendmsg recvmsg */
  }
#else
  switch (nr) {
    case 63:
    case 64:
    case 206:
    case 207:
      return BUF_PLAIN;
    case 65:
    case 66:
      return BUF_IOVEC;
    case 211:
    case 212:
      return BUF_MSGHDR;
  }
#endif
  return 0; /* sendfile, splice, io_uring: no user buffer to read */
}

struct user_iovec {
  __u64 base;
  __u64 len;
};

/* The user buffer of the syscall nginx is in, read from the registers it entered
 * with: the sock_*_length tracepoints give the socket and byte count but not the
 * buffer, and syscall tracepoints would tax every process on the host. */
static __always_inline __u64 message_buffer(const struct msg_buf* unused, __u64* limit) {
  struct task_struct* task = bpf_get_current_task_btf();
  /* A BTF pointer: plain (CO-RE relocated) loads, no probe-read helper calls. */
  struct pt_regs* regs = (struct pt_regs*)bpf_task_pt_regs(task);
#if defined(__TARGET_ARCH_x86)
  long nr = regs->orig_ax;
  __u64 arg = regs->si;
#else
  long nr = regs->syscallno;
  __u64 arg = regs->regs[1];
#endif
  int kind = syscall_buffer_kind(nr);
  if (kind == BUF_PLAIN) return arg;
  if (kind == BUF_MSGHDR) {
    __u64 iov_ptr = 0; /* struct user_msghdr: name(8) namelen(4+4) iov(8) */
    if (bpf_probe_read_user(&iov_ptr, sizeof(iov_ptr), (void*)(arg + 16))) return 0;
    arg = iov_ptr;
  }
  if (kind == BUF_MSGHDR || kind == BUF_IOVEC) {
    struct user_iovec iov = {};
    if (bpf_probe_read_user(&iov, sizeof(iov), (void*)arg)) return 0;
    if (iov.len < *limit) *limit = iov.len;
    return iov.base;
  }
  return 0;
}
#else
/* The backend found the buffer in the kernel's struct msghdr at the call's entry. */
static __always_inline __u64 message_buffer(const struct msg_buf* buf, __u64* limit) {
  if (!buf || !buf->addr) return 0;
  if (buf->len < *limit) *limit = buf->len;
  return buf->addr;
}
#endif

/* n (1..cap, cap a power of two and a literal) in a form every verifier can bound:
 * 5.10 and 6.1 lose the range of a compared length ("R2 min value is negative"), but
 * not of a masked one. A macro: the mask must be an immediate. */
_Static_assert((NGXW_CAPTURE_BYTES & (NGXW_CAPTURE_BYTES - 1)) == 0, "power of two");
#define COPY_SIZE(n, cap)                                                 \
  ({                                                                      \
    __u64 m_ = (n)-1;                                                     \
    asm volatile("%[m] &= %[mask]" : [m] "+r"(m_) : [mask] "i"((cap)-1)); \
    (__u32) m_ + 1;                                                       \
  })

/* A data record is its header and the bytes captured: the ring takes only that much. */
#define DATA_HEAD_BYTES __builtin_offsetof(struct ngxw_data_event, data)

/* Where the message's first bytes are in user memory (0: unknown) and how many of
 * them to capture (*limit, 0..NGXW_CAPTURE_BYTES). */
static __always_inline __u64 capture_source(int ret, const struct msg_buf* buf, __u64* limit) {
  *limit = ret > 0 ? (__u64)ret : 0;
  if (*limit > NGXW_CAPTURE_BYTES) *limit = NGXW_CAPTURE_BYTES;
  __u64 addr = *limit ? message_buffer(buf, limit) : 0;
  if (!addr || *limit == 0 || *limit > NGXW_CAPTURE_BYTES) {
    *limit = 0;
    return 0;
  }
  return addr;
}

static __always_inline void fill_meta(struct ngxw_data_event* e, const struct conn* c, __u64 link,
                                      bool outbound, int ret, __u64 now, __u32 weight) {
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = NGXW_EV_DATA;
  e->hdr.tgid = c->tgid;
  e->hdr.ts_ns = now;
  e->link_sock_id = link;
  e->side = c->side;
  e->outbound = outbound;
  e->total = ret;
  e->request = c->stats.requests;
  e->weight = weight;
  e->idle_ns = c->stats.idle_ns;
  e->len = 0;
}

/* Copies limit (<= cap) bytes at addr into e->data, which holds cap. */
#define COPY_DATA(e, addr, limit, cap)                                           \
  do {                                                                           \
    if ((addr) && (limit)) {                                                     \
      __u32 n_ = COPY_SIZE(limit, cap);                                          \
      if (bpf_probe_read_user((e)->data, n_, (void*)(addr)) == 0) (e)->len = n_; \
    }                                                                            \
  } while (0)

/* One record of DATA_HEAD_BYTES + cap (a constant: bpf_ringbuf_reserve takes no other),
 * for a message whose capture is limit <= cap bytes. */
#define EMIT_DATA_SIZED(cap)                                                              \
  do {                                                                                    \
    struct ngxw_data_event* e = bpf_ringbuf_reserve(&events, DATA_HEAD_BYTES + (cap), 0); \
    if (!e) {                                                                             \
      count(NGXW_CTR_EVENTS_DROPPED);                                                     \
      return;                                                                             \
    }                                                                                     \
    e->sock_id = (__u64)sk;                                                               \
    read_endpoints(btf, sk, &e->local, &e->remote);                                       \
    fill_meta(e, c, link, outbound, ret, now, weight);                                    \
    COPY_DATA(e, addr, limit, cap);                                                       \
    bpf_ringbuf_submit(e, wakeup_flags(false));                                           \
  } while (0)

/* A record sized to what it carries, in three sizes: a request head is mostly well
 * under 128 bytes, a response head under 256 (224 or 352 ring bytes instead of 608). */
static __always_inline void emit_data(bool btf, const struct sock* sk, const struct conn* c,
                                      __u64 link, bool outbound, int ret, __u64 now, __u32 weight,
                                      const struct msg_buf* buf) {
  __u64 limit;
  __u64 addr = capture_source(ret, buf, &limit);
  if (limit <= 128)
    EMIT_DATA_SIZED(128);
  else if (limit <= 256)
    EMIT_DATA_SIZED(256);
  else
    EMIT_DATA_SIZED(NGXW_CAPTURE_BYTES);
}

/* 8 bytes at p, any alignment, with ASCII letters lowercased (| 0x20 leaves '-' and
 * ':' as they are). */
static __always_inline __u64 lower8(const __u8* p) {
  __u64 v;
  __builtin_memcpy(&v, p, 8);
  return v | 0x2020202020202020ull;
}

#if NGXW_SCAN_LOOP
/* Scan of a kept response head for its length: where the header ends and what
 * Content-Length says. A bpf_loop callback whose every step skips up to SCAN_WORDS words
 * of 8 bytes to the next '\n' and looks at that line start, with no loop inside (the
 * words are unrolled): newer verifiers check a callback as a loop of unknown count, and
 * nested loops there grew past their 1M-instruction limit. Runs once per unsampled
 * upstream response. */
struct head_scan {
  const struct ngxw_data_event* e;
  __u32 len;
  __u32 pos;      /* next byte to look at */
  __u32 head_end; /* bytes up to and including the blank line */
  __u32 has_length;
  __u64 length; /* Content-Length */
};

/* Index of the lowest byte flagged (0x80) in m, m != 0; branches, no loop. */
static __always_inline __u32 first_flagged_byte(__u64 m) {
  __u64 low = m & -m;
  __u32 k = 0;
  if (!(low & 0xffffffffull)) {
    k += 4;
    low >>= 32;
  }
  if (!(low & 0xffffull)) {
    k += 2;
    low >>= 16;
  }
  if (!(low & 0xffull)) k += 1;
  return k;
}

/* "Content-Length:" starting at d (lowercased), then its decimal value: 15 digits at
 * most, so no overflow. Straight-line code (unrolled), one path per digit count. */
static __always_inline void parse_content_length(const __u8* d, struct head_scan* s) {
  /* "content-" and "length:" as little-endian words */
  const __u64 content = 0x2d746e65746e6f63ull, length = 0x3a6874676e656cull;
  if (lower8(d) != content || (lower8(d + 7) >> 8) != length) return;
  __u64 v = 0;
  bool digits = false;
#pragma unroll
  for (__u32 j = 15; j < 31; j++) {
    __u8 ch = d[j];
    if (ch == ' ' && !digits) continue;
    if (ch < '0' || ch > '9') break;
    v = v * 10 + (ch - '0');
    digits = true;
  }
  s->length = v;
  s->has_length = digits;
}

/* Up to SCAN_WORDS words per step, unrolled: a header line is ~20-40 bytes, so most
 * steps skip to the next line start and handle it (a call per step is what the scan
 * costs; one word per step made it ~3 times as many). */
#define SCAN_WORDS 4

static long scan_head_step(__u32 n, struct head_scan* s) {
  __u32 p = s->pos;
  __u64 m = 0;
#pragma unroll
  for (int k = 0; k < SCAN_WORDS; k++) {
    if (p + 8 > s->len || p > NGXW_CAPTURE_BYTES - 8) return 1;
    asm volatile("" : "+r"(p)); /* index with the checked register */
    if (p > NGXW_CAPTURE_BYTES - 8) return 1;
    __u64 x;
    __builtin_memcpy(&x, s->e->data + p, 8);
    x ^= 0x0a0a0a0a0a0a0a0aull; /* a '\n' byte becomes 0 */
    m = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
    if (m) break;
    p += 8;
  }
  if (!m) {
    s->pos = p;
    return 0;
  }
  p += first_flagged_byte(m); /* the lowest flag is exact: the '\n' */
  s->pos = p + 1;
  if (p + 3 > s->len) return 1;
  asm volatile("" : "+r"(p));
  if (p > NGXW_CAPTURE_BYTES - 32) return 1;
  const __u8* d = s->e->data + p;
  if (d[1] == '\r') {
    s->head_end = p + 3; /* "\n\r\n": the blank line ending the header */
    return 1;
  }
  if (p + 32 <= s->len) parse_content_length(d + 1, s);
  return 0;
}

/* Header + Content-Length of a kept response head, or 0 when it has no Content-Length
 * (chunked, close-delimited) or its header is longer than the kept bytes. */
static __always_inline __u64 response_length(const struct ngxw_data_event* e) {
  struct head_scan s = {.e = e, .len = e->len};
  if (s.len > NGXW_CAPTURE_BYTES) return 0;
  /* at least a word per step, plus one step per line start: a bound, rarely reached */
  bpf_loop(NGXW_CAPTURE_BYTES / 8 + NGXW_CAPTURE_BYTES / 16, scan_head_step, &s, 0);
  return s.head_end && s.has_length ? s.head_end + s.length : 0;
}
#else
/* No bpf_loop on this kernel: the length stays unknown, so an unsampled upstream
 * response's close is judged in user space (its heads are sent), never assumed fine. */
static __always_inline __u64 response_length(const struct ngxw_data_event* e) { return 0; }
#endif

/* An unsampled request's head: kept in its slot with the socket's endpoints as they are
 * now (by the time a close flushes it the socket is unhashed and its local port 0). */
static __always_inline void keep_data(bool btf, const struct sock* sk, struct conn* c, __u64 link,
                                      bool outbound, int ret, __u64 now,
                                      const struct msg_buf* buf) {
  struct ngxw_data_event* e = head_of(c, outbound);
  if (!e) return;
  e->sock_id = (__u64)sk;
  read_endpoints(btf, sk, &e->local, &e->remote);
  fill_meta(e, c, link, outbound, ret, now, 1);
  __u64 limit;
  __u64 addr = capture_source(ret, buf, &limit);
  COPY_DATA(e, addr, limit, NGXW_CAPTURE_BYTES);
  c->pending |= outbound ? PENDING_OUT : PENDING_IN;
  if (c->side == NGXW_SIDE_UPSTREAM && !outbound) c->resp_expect = response_length(e);
}

/* The status code of the response head nginx is writing, or 0 when the bytes are not
 * an HTTP/1 status line (TLS, HTTP/2). Reads 12 bytes: "HTTP/1.1 200". */
static __always_inline int peek_status(int ret, const struct msg_buf* buf) {
  if (ret < 12) return 0;
  __u64 limit = 12;
  __u64 addr = message_buffer(buf, &limit);
  char b[12] = {};
  if (!addr || limit < 12 || bpf_probe_read_user(b, sizeof(b), (void*)addr)) return 0;
  if (b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/') return 0;
  int st = 0;
#pragma unroll
  for (int i = 9; i < 12; i++) {
    if (b[i] < '0' || b[i] > '9') return 0;
    st = st * 10 + (b[i] - '0');
  }
  return st;
}

/* Answers user space must see even for an unsampled request: interim (the body that
 * follows is not a new request), refused bodies, rate limiting, server errors. */
static __always_inline bool eventful_status(int st) {
  return (st >= 100 && st < 200) || st == 413 || st == 429 || st >= 500;
}

/* The tracked connection of sk: the filter every backend applies first (cheapest
 * first: not TCP over IP is one load, an untracked socket one failed lookup). Only
 * nginx's sockets are tracked, so the task need not be looked up to filter: it is
 * looked up only where the worker's state is written (see on_transfer). `family` is
 * sk's, read by the backend (a plain load where sk is a BTF pointer). */
static __always_inline struct conn* tracked_conn(const struct sock* sk, __u16 family) {
  if (family != AF_INET && family != AF_INET6) return 0;
  __u64 key = (__u64)sk;
  struct conn* c = bpf_map_lookup_elem(&conns, &key);
  if (c) return c;
  /* A connection older than the daemon (a pooled upstream, a keepalive client) is
   * adopted at its first transfer, so that its next request is captured and its
   * failure attributed. One array lookup once no seed is pending. */
  return adopt_seed(false, sk, key);
}

/* nginx sent (outbound) or received ret bytes on sk: keep the connection's counters
 * and, at the start of each message, capture its first bytes (or keep them, when the
 * request is not sampled). */
static __always_inline int on_transfer(bool btf, const struct sock* sk, __u16 family, int ret,
                                       bool outbound, const struct msg_buf* buf) {
  if (ret < 0 && !outbound) return 0; /* EAGAIN or an error: nothing moved */
  struct conn* c = tracked_conn(sk, family);
  if (!c) return 0;
  __u64 key = (__u64)sk;
  if (ret == 0 && !outbound) return 0; /* EOF */

  __u8 phase = outbound ? PHASE_SENDING : PHASE_RECEIVING;
  bool starts = c->phase != phase;
  if (ret <= 0 && !(starts && c->side == NGXW_SIDE_UPSTREAM)) return 0;
  /* A request begins when nginx writes to an upstream after reading from it (or
   * first), and when nginx reads from a client after writing to it (or first). */
  bool request = starts && (outbound == (c->side == NGXW_SIDE_UPSTREAM));
  /* The worker's state: which client it read last (the link of its next upstream
   * request) and which upstream (whose response a temp file spools). Only reads and
   * upstream request starts touch it; a response sent pays no lookup. */
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct ngxw_proc_info* proc = 0;
  if (!outbound || (request && c->side == NGXW_SIDE_UPSTREAM)) {
    proc = bpf_map_lookup_elem(&nginx_pids, &tgid);
    if (!proc) return 0;
  }
  __u64 now = bpf_ktime_get_ns();
  __u64 link = 0;
  __u32 weight = 1;
  if (c->side == NGXW_SIDE_CLIENT) c->tgid = tgid; /* the worker that accepted it */
  if (proc && !outbound) {
    if (c->side == NGXW_SIDE_CLIENT)
      proc->cur_client = key;
    else
      proc->cur_upstream = key; /* whose response a proxy temp-file write spools */
  }
  if (request) {
    __u64 last = c->stats.last_send_ns > c->stats.last_recv_ns ? c->stats.last_send_ns
                                                               : c->stats.last_recv_ns;
    c->stats.idle_ns = c->stats.requests && last ? now - last : 0;
    c->stats.requests += 1;
    c->stats.req_start_ns = now;
    c->stats.req_bytes_sent = 0;
    c->stats.req_bytes_recv = 0;
    c->pending = 0;
    c->heads_lost = 0;
    c->resp_expect = 0;
    if (c->side == NGXW_SIDE_UPSTREAM) {
      /* A new connection was linked at connect(); a reused one now. Its request is
       * sampled when the client request it serves is. */
      link = c->stats.requests == 1 || !proc ? c->link : proc->cur_client;
      c->link = link;
      struct conn* client = link ? bpf_map_lookup_elem(&conns, &link) : 0;
      c->quiet = client ? client->quiet : 0;
      if (ret <= 0) flush_request(key, c); /* a write on a reused connection failed */
    } else if (c->interim) {
      c->interim = 0; /* the body after "100 Continue": reported, not sampled again */
      c->quiet = 0;
    } else {
      c->quiet = !sample_request(now, &weight);
    }
  }
  c->phase = phase;
  if (ret > 0) {
    if (outbound) {
      if (!c->stats.first_send_ns) c->stats.first_send_ns = now;
      c->stats.last_send_ns = now;
      c->stats.bytes_sent += ret;
      c->stats.req_bytes_sent += ret;
    } else {
      if (!c->stats.first_recv_ns) c->stats.first_recv_ns = now;
      c->stats.last_recv_ns = now;
      c->stats.bytes_recv += ret;
      c->stats.req_bytes_recv += ret;
    }
  }
  if (!starts) return 0;
  if (c->side == NGXW_SIDE_CLIENT && outbound) {
    int st = peek_status(ret, buf);
    c->interim = st >= 100 && st < 200;
    /* The answer to an unsampled request: nothing to send unless it is an error. */
    if (c->quiet && !eventful_status(st)) return 0;
    if (c->quiet) flush_request(key, c);
  }
  if (c->quiet)
    keep_data(btf, sk, c, link, outbound, ret, now, buf);
  else
    emit_data(btf, sk, c, link, outbound, ret, now, weight, buf);
  return 0;
}

#endif /* NGXWATCH_BPF_CAPTURE_H */
