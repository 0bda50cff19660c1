// SPDX-License-Identifier: GPL-2.0
/* ngxwatch kernel side: learn nginx's sockets, see every RST and close on them.
 *
 * Resets and most state changes run in softirq, where the current task says nothing
 * about nginx; so sockets are learned in process context (connect() from an nginx
 * task, or a child of an nginx listening socket) into the LRU map `conns`, and every
 * later event is tied to nginx through that map. Each handler filters first (one map
 * lookup) and returns.
 *
 * Each hook exists twice: a tp_btf program (typed arguments, cheaper) and a classic
 * tp program for kernels without BTF tracepoint typedefs. The loader enables one of
 * the pair per hook with bpf_program__set_autoload().
 */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "ngxwatch/events.h"

char LICENSE[] SEC("license") = "GPL";

/* A tracked socket. Its lifetime: inserted at connect/accept, marked closed at
 * TCP_CLOSE (a linger-0 close sends its RST after that), overwritten or deleted when
 * the same struct sock starts a new life, evicted by LRU otherwise. */
enum { PHASE_NONE = 0, PHASE_SENDING = 1, PHASE_RECEIVING = 2 };

struct conn {
  struct ngxw_conn_stats stats;
  __u64 link; /* upstream: the client socket the worker read last before connect() */
  __u32 tgid;
  __u8 side;
  __u8 closed;
  __u8 phase; /* direction of the current message run */
  __u8 close_seen;
  __u8 quiet;        /* the current request is not sampled: its heads wait in `heads` */
  __u8 pending;      /* PENDING_* heads of the current request kept and not yet emitted */
  __u8 interim;      /* client: nginx answered 1xx; the next read is the body, not a request */
  __u8 heads_lost;   /* a kept head of the current request was overwritten before it was sent */
  __u32 slot;        /* its pair of entries in `heads` */
  __u64 resp_expect; /* upstream, unsampled: header + Content-Length of the response */
};

enum { PENDING_IN = 1, PENDING_OUT = 2 };

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64); /* struct sock * */
  __type(value, struct conn);
} conns SEC(".maps");

/* Every nginx process (master, workers, helpers): the filter of every hot hook. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct ngxw_proc_info);
} nginx_pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct ngxw_listen_key);
  __type(value, __u32); /* owner tgid */
} listeners SEC(".maps");

/* Sockets that existed before the daemon started, filled from /proc by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ngxw_tuple_key);
  __type(value, struct ngxw_seed);
} seeds SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NGXW_CTR_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* Exact reset totals by (side, origin, upstream peer), and how many of them never
 * reached user space as events because the ring buffer was full. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ngxw_reset_key);
  __type(value, __u64);
} reset_totals SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ngxw_reset_key);
  __type(value, __u64);
} reset_lost SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Heads of unsampled requests, kept until the request ends: emitted only if it fails.
 * An array, not a hash by socket: the lookup is on the hot path, and an array lookup
 * is an index. Each connection gets a pair of slots (what nginx read, what it wrote)
 * round-robin when it is tracked; a connection still in use HEAD_SLOTS connections
 * later shares its pair, so a head is checked to be its own (socket and request
 * number) before it is sent, and counted lost otherwise. */
#define HEAD_SLOTS 8192

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2 * HEAD_SLOTS);
  __type(key, __u32);
  __type(value, struct ngxw_data_event);
} heads SEC(".maps");

__u32 next_slot = 0;

/* Not atomic (a fetch-and-add result needs -mcpu=v3, which older kernels refuse): two
 * CPUs may hand out the same pair, which is the sharing that is checked for anyway. */
static __always_inline __u32 take_slot(void) {
  __u32 s = next_slot;
  next_slot = s + 1;
  return s % HEAD_SLOTS;
}

static __always_inline struct ngxw_data_event* head_of(const struct conn* c, bool outbound) {
  __u32 i = (c->slot % HEAD_SLOTS) * 2 + (outbound ? 1 : 0);
  return bpf_map_lookup_elem(&heads, &i);
}

/* Per-CPU systematic sampler of client requests (see sample_request). */
struct sampler {
  __u64 window_ns; /* start of the current one-second window */
  __u64 seen;      /* requests in it */
  __u64 stride;    /* every stride-th request is sampled */
  __u64 skipped;   /* since the last sampled one */
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sampler);
} samplers SEC(".maps");

/* Requests per second per CPU whose bytes reach user space in full; 0: all of them.
 * Set by the loader (--sample-rate). */
const volatile __u32 sample_per_sec = 0;

/* Set by user space while start-up seeds are waiting to be adopted. */
volatile __u32 seeds_pending = 0;

/* Waking the reader costs microseconds per event (irq_work plus a scheduler wakeup of
 * the daemon), which on new-connection workloads cost nginx ~30% of its throughput.
 * So only resets and process changes wake it at once; everything else is batched and
 * read within the reader's poll timeout (250 ms), or as soon as an eighth of the
 * buffer is used, so that a burst cannot overflow it before the reader runs. */
static __always_inline __u64 wakeup_flags(bool urgent) {
  if (urgent) return 0;
  __u64 used = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  __u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
  return used > size / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count(__u32 idx) {
  __u64* v = bpf_map_lookup_elem(&counters, &idx);
  if (v) *v += 1;
}

static __always_inline void count_keyed(void* map, const struct ngxw_reset_key* key) {
  __u64* v = bpf_map_lookup_elem(map, key);
  if (v) {
    *v += 1;
    return;
  }
  __u64 one = 1;
  /* Another CPU may insert the key first; then our update fails with EEXIST and the
   * per-CPU slot of this CPU is still ours to bump. */
  if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST) != 0) {
    v = bpf_map_lookup_elem(map, key);
    if (v) *v += 1;
  }
}

static __always_inline void read_endpoints(const struct sock* sk, struct ngxw_endpoint* local,
                                           struct ngxw_endpoint* remote) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  local->family = family;
  remote->family = family;
  local->port = BPF_CORE_READ(sk, __sk_common.skc_num);
  remote->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET6) {
    BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
    BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
  } else {
    __be32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __be32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(local->addr, &l, 4);
    __builtin_memcpy(remote->addr, &r, 4);
  }
}

static __always_inline __u32 netns_of(const struct sock* sk) {
  return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline struct ngxw_proc_info* nginx_task(__u32* tgid_out) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  *tgid_out = tgid;
  return bpf_map_lookup_elem(&nginx_pids, &tgid);
}

static __always_inline void emit_conn(__u16 type, const struct sock* sk, const struct conn* c,
                                      __u8 origin, __u8 state, __u8 old_state, __u32 reason,
                                      __u32 flags, const struct ngxw_reset_key* lost_key) {
  struct ngxw_conn_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    if (lost_key) count_keyed(&reset_lost, lost_key);
    return;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = type;
  e->hdr.tgid = c->tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->sock_id = (__u64)sk;
  read_endpoints(sk, &e->local, &e->remote);
  e->netns = netns_of(sk);
  e->side = c->side;
  e->origin = origin;
  e->tcp_state = state;
  e->old_state = old_state;
  e->reason = reason;
  e->flags = flags;
  e->stats = c->stats;
  bpf_ringbuf_submit(e, wakeup_flags(type == NGXW_EV_RESET));
}

/* A socket we do not know may predate the daemon: adopt it from the seed map. */
static __always_inline struct conn* adopt_seed(const struct sock* sk, __u64 key) {
  if (!seeds_pending) return 0;
  struct ngxw_tuple_key t = {};
  struct ngxw_endpoint l = {}, r = {};
  read_endpoints(sk, &l, &r);
  t.netns = netns_of(sk);
  t.lport = l.port;
  t.rport = r.port;
  t.family = l.family;
  __builtin_memcpy(t.laddr, l.addr, 16);
  __builtin_memcpy(t.raddr, r.addr, 16);
  struct ngxw_seed* s = bpf_map_lookup_elem(&seeds, &t);
  if (!s) return 0;
  struct conn c = {};
  c.tgid = s->tgid;
  c.slot = take_slot();
  c.side = s->side;
  bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  bpf_map_delete_elem(&seeds, &t);
  count(NGXW_CTR_CONNS_TRACKED);
  struct conn* adopted = bpf_map_lookup_elem(&conns, &key);
  if (adopted)
    emit_conn(NGXW_EV_CONN_OPEN, sk, adopted, NGXW_ORIGIN_NONE,
              BPF_CORE_READ(sk, __sk_common.skc_state), 0, NGXW_REASON_NONE, 0, 0);
  return adopted;
}

static __always_inline struct conn* lookup_conn(const struct sock* sk) {
  __u64 key = (__u64)sk;
  struct conn* c = bpf_map_lookup_elem(&conns, &key);
  if (c) return c;
  return adopt_seed(sk, key);
}

/* ---- sampling: an uneventful request leaves nothing for user space to do ----
 *
 * Above sample_per_sec requests per second on a CPU, only every stride-th client
 * request is reported in full (its event carries the stride as its weight); the others
 * are "quiet": their heads are kept in `heads` and reach user space only if the
 * request turns out to fail (a reset, a close before the answer, an error status, a
 * temp file), so failures are reported in full at any rate and successes are sampled. */

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

/* A sampled-out client request is reported after all (it failed): it no longer belongs
 * to the stride of the next sampled one. (This CPU's count: the weights are summed
 * over CPUs, so which CPU gives it back does not matter while it has one to give.) */
static __always_inline void unskip(void) {
  __u32 zero = 0;
  struct sampler* s = bpf_map_lookup_elem(&samplers, &zero);
  if (s && s->skipped) s->skipped -= 1;
}

/* Emit one kept head of sk's current request, completed with the socket's endpoints.
 * `upstream`: for a client head sent because of that upstream connection, which user
 * space then links to it (it may have guessed another client at connect time). */
static __always_inline void flush_head(__u64 key, struct conn* c, __u8 bit, __u64 upstream) {
  if (!(c->pending & bit)) return;
  c->pending &= ~bit;
  struct ngxw_data_event* e = head_of(c, bit == PENDING_OUT);
  if (!e || e->sock_id != key || e->request != c->stats.requests) {
    c->heads_lost = 1;
    count(NGXW_CTR_HEADS_LOST);
    return;
  }
  if (c->side == NGXW_SIDE_CLIENT) {
    e->link_sock_id = upstream;
    unskip();
  }
  read_endpoints((const struct sock*)key, &e->local, &e->remote);
  count(bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flags(false)) ? NGXW_CTR_EVENTS_DROPPED
                                                                        : NGXW_CTR_HEADS_FLUSHED);
}

/* Something went wrong on sk's current request (or may have): send what was kept of
 * it, and of the client request it serves, and report the rest of both in full. */
static __always_inline void flush_request(__u64 key, struct conn* c) {
  if (c->side == NGXW_SIDE_UPSTREAM && c->link) {
    __u64 ck = c->link;
    struct conn* client = bpf_map_lookup_elem(&conns, &ck);
    if (client) {
      client->quiet = 0;
      flush_head(ck, client, PENDING_IN, key);
    }
  }
  c->quiet = 0;
  flush_head(key, c, PENDING_OUT, 0); /* an upstream request before its response */
  flush_head(key, c, PENDING_IN, 0);
}

/* 8 bytes at p, any alignment, with ASCII letters lowercased (| 0x20 leaves '-' and
 * ':' as they are). */
static __always_inline __u64 lower8(const __u8* p) {
  __u64 v;
  __builtin_memcpy(&v, p, 8);
  return v | 0x2020202020202020ull;
}

/* Whether a connection closes the way a finished request ends: a client after nginx
 * began its answer (or before any request), an upstream after nginx read all of the
 * response by its Content-Length (a read timeout or a cut mid-response is not). */
static __always_inline bool ended_uneventfully(const struct conn* c) {
  if (c->side == NGXW_SIDE_CLIENT) return c->stats.requests == 0 || c->phase == PHASE_SENDING;
  if (c->stats.requests == 0 || c->phase != PHASE_RECEIVING || c->stats.req_bytes_recv == 0)
    return false;
  return c->resp_expect && c->stats.req_bytes_recv >= c->resp_expect;
}

/* Flags of a RESET/CLOSE event on c, from what the kernel knows of its request. */
static __always_inline __u32 conn_flags(const struct conn* c) {
  __u32 f = 0;
  if (c->side == NGXW_SIDE_CLIENT && c->stats.requests && c->phase == PHASE_SENDING)
    f |= NGXW_CONN_ANSWERED;
  if (c->heads_lost) f |= NGXW_CONN_HEADS_LOST;
  return f;
}

static __always_inline int on_reset(const struct sock* sk, __u8 origin, __u32 reason) {
  if (!sk) return 0;
  struct conn* c = lookup_conn(sk);
  if (!c) return 0;

  struct ngxw_reset_key key = {};
  key.side = c->side;
  key.origin = origin;
  if (c->side == NGXW_SIDE_UPSTREAM) {
    struct ngxw_endpoint l = {}, r = {};
    read_endpoints(sk, &l, &r);
    key.family = r.family;
    key.port = r.port;
    __builtin_memcpy(key.addr, r.addr, 16);
  }
  count(NGXW_CTR_RESETS_SEEN);
  count_keyed(&reset_totals, &key);
  __u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
  flush_request((__u64)sk, c);
  emit_conn(NGXW_EV_RESET, sk, c, origin, state, 0, reason, conn_flags(c), &key);
  return 0;
}

static __always_inline void track(const struct sock* sk, __u64 key, __u32 tgid, __u8 side,
                                  __u64 link) {
  struct conn c = {};
  c.tgid = tgid;
  c.side = side;
  c.link = link;
  c.slot = take_slot();
  c.stats.opened_ns = bpf_ktime_get_ns();
  bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  count(NGXW_CTR_CONNS_TRACKED);
  emit_conn(NGXW_EV_CONN_OPEN, sk, &c, NGXW_ORIGIN_NONE, TCP_ESTABLISHED, 0, NGXW_REASON_NONE, 0,
            0);
}

static __always_inline void listen_key_of(const struct sock* sk, struct ngxw_listen_key* k,
                                          bool wildcard) {
  struct ngxw_endpoint l = {}, r = {};
  read_endpoints(sk, &l, &r);
  k->netns = netns_of(sk);
  k->port = l.port;
  k->family = l.family;
  if (!wildcard) __builtin_memcpy(k->addr, l.addr, 16);
}

static __always_inline int on_state(const struct sock* sk, int oldstate, int newstate) {
  __u64 key = (__u64)sk;
  __u32 tgid = 0;

  if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN || newstate == TCP_SYN_RECV) {
    /* A new life of this struct sock: forget whatever an earlier owner left. */
    bpf_map_delete_elem(&conns, &key);
    if (newstate == TCP_SYN_RECV) return 0;
    struct ngxw_proc_info* proc = nginx_task(&tgid);
    if (!proc) return 0;
    if (newstate == TCP_SYN_SENT) {
      track(sk, key, tgid, NGXW_SIDE_UPSTREAM, proc->cur_client);
    } else {
      struct ngxw_listen_key lk = {};
      listen_key_of(sk, &lk, false);
      bpf_map_update_elem(&listeners, &lk, &tgid, BPF_ANY);
    }
    return 0;
  }

  if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
    /* A child of a listening socket completed its handshake (softirq). */
    struct ngxw_listen_key lk = {};
    listen_key_of(sk, &lk, false);
    __u32* owner = bpf_map_lookup_elem(&listeners, &lk);
    if (!owner) {
      __builtin_memset(lk.addr, 0, sizeof(lk.addr));
      owner = bpf_map_lookup_elem(&listeners, &lk);
    }
    if (owner) track(sk, key, *owner, NGXW_SIDE_CLIENT, 0);
    return 0;
  }

  bool fin_by_nginx = newstate == TCP_FIN_WAIT1;
  bool fin_by_peer = newstate == TCP_CLOSE_WAIT;
  bool closed_after_peer = newstate == TCP_LAST_ACK;
  if (newstate != TCP_CLOSE && !fin_by_nginx && !fin_by_peer && !closed_after_peer) return 0;
  if (newstate == TCP_CLOSE && oldstate == TCP_LISTEN) {
    struct ngxw_listen_key lk = {};
    listen_key_of(sk, &lk, false);
    bpf_map_delete_elem(&listeners, &lk);
    return 0;
  }
  struct conn* c = lookup_conn(sk);
  if (!c || c->closed) return 0;
  if (newstate == TCP_CLOSE) c->closed = 1;
  /* The peer's FIN arrives in softirq, often in the same segment as the last bytes of
   * a response nginx has not read yet: judged now, a complete "Connection: close"
   * answer would look like a close before the header. So a peer FIN is only noted,
   * and the connection is judged when nginx is done with it (LAST_ACK, or CLOSE on an
   * abort), with everything nginx read by then. */
  if (fin_by_peer) {
    c->stats.peer_fin = 1;
    return 0;
  }
  /* One event per connection, at the first sign of its end: who closed first and
   * what had happened on it by then. (A linger-0 close and a received RST also emit
   * a RESET event.) */
  if (c->close_seen) return 0;
  c->close_seen = 1;
  __u8 origin = fin_by_peer || oldstate == TCP_CLOSE_WAIT || oldstate == TCP_LAST_ACK
                    ? NGXW_ORIGIN_PEER
                    : NGXW_ORIGIN_NGINX;
  __u32 flags = 0;
  if (!ended_uneventfully(c)) {
    flush_request(key, c);
  } else if (c->quiet) {
    flags = NGXW_CONN_QUIET;
    c->pending = 0; /* judged: a reset after the close (linger 0) must not send them */
  }
  flags |= conn_flags(c);
  emit_conn(NGXW_EV_CONN_CLOSE, sk, c, origin, newstate, oldstate, NGXW_REASON_NONE, flags, 0);
  return 0;
}

/* ---- payload capture: the first bytes of each message nginx sends or receives ---- */

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
static __always_inline __u64 user_buffer(__u64* limit) {
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

static __always_inline void fill_data(struct ngxw_data_event* e, const struct conn* c, __u64 link,
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
  __u64 limit = ret > 0 ? (__u64)ret : 0;
  if (limit > NGXW_CAPTURE_BYTES) limit = NGXW_CAPTURE_BYTES;
  __u64 buf = limit ? user_buffer(&limit) : 0;
  if (buf && limit > 0 && limit <= NGXW_CAPTURE_BYTES &&
      bpf_probe_read_user(e->data, limit, (void*)buf) == 0)
    e->len = limit;
}

static __always_inline void emit_data(const struct sock* sk, const struct conn* c, __u64 link,
                                      bool outbound, int ret, __u64 now, __u32 weight) {
  struct ngxw_data_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    return;
  }
  e->sock_id = (__u64)sk;
  read_endpoints(sk, &e->local, &e->remote);
  fill_data(e, c, link, outbound, ret, now, weight);
  bpf_ringbuf_submit(e, wakeup_flags(false));
}

/* Scan of a kept response head for its length: where the header ends and what
 * Content-Length says. A bpf_loop callback (the verifier checks it once; capture needs
 * kernels far newer than bpf_loop's 5.17), 8 bytes per step, looking closer only at
 * words that hold a '\n'. Runs once per unsampled upstream response. */
struct head_scan {
  const struct ngxw_data_event* e;
  __u32 len;
  __u32 head_end; /* bytes up to and including the blank line */
  __u64 length;   /* Content-Length */
  __u32 has_length;
  __u32 pad;
};

static long scan_head_word(__u32 w, struct head_scan* s) {
  /* "content-" and "length:" as little-endian words */
  const __u64 content = 0x2d746e65746e6f63ull, length = 0x3a6874676e656cull;
  __u32 i = w * 8;
  if (i >= s->len || i > NGXW_CAPTURE_BYTES - 8) return 1;
  asm volatile("" : "+r"(i)); /* index with the checked register */
  if (i > NGXW_CAPTURE_BYTES - 8) return 1;
  __u64 x;
  __builtin_memcpy(&x, s->e->data + i, 8);
  x ^= 0x0a0a0a0a0a0a0a0aull; /* a '\n' byte becomes 0 */
  if (!((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull)) return 0;
  for (__u32 k = 0; k < 8; k++) {
    __u32 p = i + k;
    if (p + 3 > s->len) return 1;
    asm volatile("" : "+r"(p));
    if (p > NGXW_CAPTURE_BYTES - 32) return 1;
    const __u8* d = s->e->data + p;
    if (d[0] != '\n') continue;
    if (d[1] == '\r') {
      s->head_end = p + 3; /* "\n\r\n": the blank line ending the header */
      return 1;
    }
    if (p + 16 > s->len || lower8(d + 1) != content || (lower8(d + 8) >> 8) != length) continue;
    __u64 v = 0; /* bytes 9..15 were "length:"; 15 digits at most: no overflow */
    bool digits = false;
    for (__u32 j = 16; j < 32; j++) {
      __u8 ch = d[j];
      if (ch == ' ' && !digits) continue;
      if (ch < '0' || ch > '9') break;
      v = v * 10 + (ch - '0');
      digits = true;
    }
    s->length = v;
    s->has_length = digits;
  }
  return 0;
}

/* Header + Content-Length of a kept response head, or 0 when it has no Content-Length
 * (chunked, close-delimited) or its header is longer than the kept bytes. */
static __always_inline __u64 response_length(const struct ngxw_data_event* e) {
  struct head_scan s = {.e = e, .len = e->len};
  if (s.len > NGXW_CAPTURE_BYTES) return 0;
  bpf_loop(NGXW_CAPTURE_BYTES / 8, scan_head_word, &s, 0);
  return s.head_end && s.has_length ? s.head_end + s.length : 0;
}

/* An unsampled request's head: kept in its slot (endpoints are added if it is sent). */
static __always_inline void keep_data(__u64 key, struct conn* c, __u64 link, bool outbound, int ret,
                                      __u64 now) {
  struct ngxw_data_event* e = head_of(c, outbound);
  if (!e) return;
  e->sock_id = key;
  fill_data(e, c, link, outbound, ret, now, 1);
  c->pending |= outbound ? PENDING_OUT : PENDING_IN;
  if (c->side == NGXW_SIDE_UPSTREAM && !outbound) c->resp_expect = response_length(e);
}

/* The status code of the response head nginx is writing, or 0 when the bytes are not
 * an HTTP/1 status line (TLS, HTTP/2). Reads 12 bytes: "HTTP/1.1 200". */
static __always_inline int peek_status(int ret) {
  if (ret < 12) return 0;
  __u64 limit = 12;
  __u64 buf = user_buffer(&limit);
  char b[12] = {};
  if (!buf || limit < 12 || bpf_probe_read_user(b, sizeof(b), (void*)buf)) return 0;
  if (b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/') return 0;
  int st = 0;
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

/* nginx sent (outbound) or received ret bytes on sk: keep the connection's counters
 * and, at the start of each message, capture its first bytes (or keep them, when the
 * request is not sampled). */
static __always_inline int on_transfer(const struct sock* sk, int ret, bool outbound) {
  /* Filter first, cheapest first: not TCP over IP (one load), not nginx (one lookup). */
  __u16 family = sk->__sk_common.skc_family;
  if (family != AF_INET && family != AF_INET6) return 0;
  if (ret < 0 && !outbound) return 0; /* EAGAIN or an error: nothing moved */
  __u32 tgid;
  struct ngxw_proc_info* proc = nginx_task(&tgid);
  if (!proc) return 0;
  __u64 key = (__u64)sk;
  struct conn* c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  if (ret == 0 && !outbound) return 0; /* EOF */

  __u64 now = bpf_ktime_get_ns();
  __u8 phase = outbound ? PHASE_SENDING : PHASE_RECEIVING;
  bool starts = c->phase != phase;
  if (ret <= 0 && !(starts && c->side == NGXW_SIDE_UPSTREAM)) return 0;
  /* A request begins when nginx writes to an upstream after reading from it (or
   * first), and when nginx reads from a client after writing to it (or first). */
  bool request = starts && (outbound == (c->side == NGXW_SIDE_UPSTREAM));
  __u64 link = 0;
  __u32 weight = 1;
  if (c->side == NGXW_SIDE_CLIENT) {
    c->tgid = tgid; /* the worker that accepted it */
    if (!outbound) proc->cur_client = key;
  } else if (!outbound) {
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
      link = c->stats.requests == 1 ? c->link : proc->cur_client;
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
    int st = peek_status(ret);
    c->interim = st >= 100 && st < 200;
    /* The answer to an unsampled request: nothing to send unless it is an error. */
    if (c->quiet && !eventful_status(st)) return 0;
    if (c->quiet) flush_request(key, c);
  }
  if (c->quiet)
    keep_data(key, c, link, outbound, ret, now);
  else
    emit_data(sk, c, link, outbound, ret, now, weight);
  return 0;
}

/* ---- temp files: what nginx spools to client_body_temp_path / proxy_temp_path ----
 *
 * A uprobe/uretprobe pair on ngx_write_chain_to_temp_file(ngx_temp_file_t *tf, ...),
 * the one function every client-body and proxy-buffering write goes through (it also
 * creates the file). Why not a kernel hook: syscall tracepoints tax every process;
 * writeback_dirty_folio / mm_filemap_add_to_page_cache never fire for tmpfs (shmem)
 * and count pages, not writes; neither sees a failed write. The uprobe runs only when
 * an nginx worker spools (nothing for other processes, nothing for requests that fit
 * in memory), gives the bytes written or NGX_ERROR (ENOSPC, EIO, EACCES on create or
 * write), and tf->file.name (ngx_file_t: fd at 0, ngx_str_t name at 8, unchanged since
 * nginx 0.x) says which temp path. Cost measured in bench/ and the commit notes. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);   /* pid_tgid */
  __type(value, __u64); /* ngx_temp_file_t * in the worker */
} temp_calls SEC(".maps");

#if defined(__TARGET_ARCH_x86)
#define UPROBE_ARG1(ctx) BPF_CORE_READ(ctx, di)
#define UPROBE_RET(ctx) BPF_CORE_READ(ctx, ax)
#else
#define UPROBE_ARG1(ctx) BPF_CORE_READ(ctx, regs[0])
#define UPROBE_RET(ctx) BPF_CORE_READ(ctx, regs[0])
#endif

SEC("uprobe")
int temp_write_enter(struct pt_regs* ctx) {
  __u64 tf = UPROBE_ARG1(ctx);
  __u32 tgid;
  if (!nginx_task(&tgid)) return 0; /* filter first */
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_update_elem(&temp_calls, &id, &tf, BPF_ANY);
  return 0;
}

SEC("uretprobe")
int temp_write_exit(struct pt_regs* ctx) {
  long ret = (long)UPROBE_RET(ctx);
  __u64 id = bpf_get_current_pid_tgid();
  __u64* tfp = bpf_map_lookup_elem(&temp_calls, &id);
  if (!tfp) return 0;
  __u64 tf = *tfp;
  bpf_map_delete_elem(&temp_calls, &id);
  __u32 tgid;
  struct ngxw_proc_info* proc = nginx_task(&tgid);
  if (!proc) return 0;
  /* A spooled body or response is worth its requests' heads (temp-dir attribution). */
  __u64 ids[2] = {proc->cur_client, proc->cur_upstream};
  for (int i = 0; i < 2; i++) {
    struct conn* c = ids[i] ? bpf_map_lookup_elem(&conns, &ids[i]) : 0;
    if (c && (c->quiet || c->pending)) flush_request(ids[i], c);
  }
  struct ngxw_temp_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    return 0;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = NGXW_EV_TEMP;
  e->hdr.tgid = tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->client_sock_id = proc->cur_client;
  e->upstream_sock_id = proc->cur_upstream;
  e->ret = ret;
  e->name[0] = 0;
  __u64 name_data = 0; /* tf->file.name.data: ngx_str_t {len, data} at offset 8 */
  if (bpf_probe_read_user(&name_data, sizeof(name_data), (void*)(tf + 16)) == 0 && name_data)
    bpf_probe_read_user_str(e->name, sizeof(e->name), (void*)name_data);
  /* No wakeup: a spooled body is written in client_body_buffer_size chunks, and waking
   * the reader per chunk cost ~6 us per write (measured); the reader drains the ring
   * at its next poll (<= 250 ms) or the next event that wakes it. */
  bpf_ringbuf_submit(e, wakeup_flags(false));
  return 0;
}

/* ---- process tracking: keep nginx_pids current without waiting for user space ---- */

static __always_inline void emit_proc(__u32 tgid, __u32 parent, __u8 action) {
  struct ngxw_proc_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    return;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = NGXW_EV_PROC;
  e->hdr.tgid = tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->parent_tgid = parent;
  e->action = action;
  e->pad[0] = e->pad[1] = e->pad[2] = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_fork(__u32 parent_tgid, __u32 child_pid, __u32 child_tgid) {
  if (child_pid != child_tgid) return 0; /* a thread, not a process */
  if (!bpf_map_lookup_elem(&nginx_pids, &parent_tgid)) return 0;
  struct ngxw_proc_info info = {.parent = parent_tgid};
  bpf_map_update_elem(&nginx_pids, &child_tgid, &info, BPF_ANY);
  emit_proc(child_tgid, parent_tgid, NGXW_PROC_FORK);
  return 0;
}

static __always_inline int on_exec(void) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  char comm[16] = {};
  bpf_get_current_comm(comm, sizeof(comm));
  bool nginx =
      comm[0] == 'n' && comm[1] == 'g' && comm[2] == 'i' && comm[3] == 'n' && comm[4] == 'x';
  if (nginx) {
    struct ngxw_proc_info info = {};
    bpf_map_update_elem(&nginx_pids, &tgid, &info, BPF_NOEXIST);
    emit_proc(tgid, 0, NGXW_PROC_EXEC);
  } else if (bpf_map_lookup_elem(&nginx_pids, &tgid)) {
    bpf_map_delete_elem(&nginx_pids, &tgid);
    emit_proc(tgid, 0, NGXW_PROC_EXIT);
  }
  return 0;
}

static __always_inline int on_exit(void) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if ((__u32)id != tgid) return 0;
  if (!bpf_map_lookup_elem(&nginx_pids, &tgid)) return 0;
  bpf_map_delete_elem(&nginx_pids, &tgid);
  emit_proc(tgid, 0, NGXW_PROC_EXIT);
  return 0;
}

/* ---- tp_btf programs ---- */

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(btf_receive_reset, struct sock* sk) {
  return on_reset(sk, NGXW_ORIGIN_PEER, NGXW_REASON_NONE);
}

SEC("tp_btf/tcp_send_reset")
int btf_send_reset(__u64* ctx) {
  __u32 reason = NGXW_REASON_NONE;
  /* Since 6.10 the third argument is enum sk_rst_reason; the branch is dead code on
   * older kernels, so the verifier never checks the access to ctx[2] there. */
  if (bpf_core_type_exists(enum sk_rst_reason)) reason = (__u32)ctx[2];
  return on_reset((const struct sock*)ctx[0], NGXW_ORIGIN_NGINX, reason);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, struct sock* sk, int oldstate, int newstate) {
  return on_state(sk, oldstate, newstate);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(btf_send_length, struct sock* sk, int ret, int flags) {
  return on_transfer(sk, ret, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(btf_recv_length, struct sock* sk, int ret, int flags) {
  return on_transfer(sk, ret, false);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct* parent, struct task_struct* child) {
  return on_fork(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(child, pid),
                 BPF_CORE_READ(child, tgid));
}

SEC("tp_btf/sched_process_exec")
int btf_exec(__u64* ctx) { return on_exec(); }

SEC("tp_btf/sched_process_exit")
int btf_exit(__u64* ctx) { return on_exit(); }

/* ---- classic tracepoint fallbacks (must return 0: 1 sends hits through perf) ---- */

SEC("tp/tcp/tcp_receive_reset")
int tp_receive_reset(struct trace_event_raw_tcp_event_sk* ctx) {
  return on_reset(BPF_CORE_READ(ctx, skaddr), NGXW_ORIGIN_PEER, NGXW_REASON_NONE);
}

SEC("tp/tcp/tcp_send_reset")
int tp_send_reset(void* ctx) {
  if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset)) {
    struct trace_event_raw_tcp_send_reset* n = ctx;
    __u32 reason = NGXW_REASON_NONE;
    if (bpf_core_field_exists(n->reason)) reason = BPF_CORE_READ(n, reason);
    return on_reset(BPF_CORE_READ(n, skaddr), NGXW_ORIGIN_NGINX, reason);
  }
  struct trace_event_raw_tcp_event_sk_skb* o = ctx;
  return on_reset(BPF_CORE_READ(o, skaddr), NGXW_ORIGIN_NGINX, NGXW_REASON_NONE);
}

SEC("tp/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state* ctx) {
  return on_state(BPF_CORE_READ(ctx, skaddr), BPF_CORE_READ(ctx, oldstate),
                  BPF_CORE_READ(ctx, newstate));
}

SEC("tp/sched/sched_process_fork")
int tp_fork(struct trace_event_raw_sched_process_fork* ctx) {
  /* The classic record has no tgid; a new process's pid is its tgid. */
  __u32 parent = bpf_get_current_pid_tgid() >> 32;
  __u32 child = BPF_CORE_READ(ctx, child_pid);
  return on_fork(parent, child, child);
}

SEC("tp/sched/sched_process_exec")
int tp_exec(void* ctx) { return on_exec(); }

SEC("tp/sched/sched_process_exit")
int tp_exit(void* ctx) { return on_exit(); }
