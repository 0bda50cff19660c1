/* Helpers over the shared connection table: counting, socket endpoints, events about
 * connections, and adopting sockets that predate the daemon. */
#ifndef NGXWATCH_BPF_CONN_H
#define NGXWATCH_BPF_CONN_H

#include "maps.bpf.h"

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

/* `full`: the counter that counts the key instead when the map has no room for it
 * (a hash map does not evict: the update fails), so no reset goes uncounted. */
static __always_inline void count_keyed(void* map, const struct ngxw_reset_key* key, __u32 full) {
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
    if (v)
      *v += 1;
    else
      count(full);
  }
}

static __always_inline struct control* control_block(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&control, &zero);
}

/* Not atomic (a fetch-and-add result needs -mcpu=v3, which older kernels refuse): two
 * CPUs may hand out the same pair, which is the sharing that is checked for anyway. */
static __always_inline __u32 take_slot(void) {
  struct control* ctl = control_block();
  if (!ctl) return 0;
  __u32 s = ctl->next_slot;
  ctl->next_slot = s + 1;
  return s % HEAD_SLOTS;
}

/* A socket field. `btf`: sk is BTF-typed (a tp_btf or fentry argument), so a plain
 * CO-RE load does; otherwise sk is a bare address (a classic tracepoint record, a
 * kprobe register, a socket remembered in a map) and needs a probe read — a helper
 * call each. Always a compile-time constant: the other arm is never emitted. */
#define SK_FIELD(btf, sk, field) ((btf) ? (sk)->field : BPF_CORE_READ((sk), field))

static __always_inline void read_endpoints(bool btf, const struct sock* sk,
                                           struct ngxw_endpoint* local,
                                           struct ngxw_endpoint* remote) {
  __u16 family = SK_FIELD(btf, sk, __sk_common.skc_family);
  local->family = family;
  remote->family = family;
  local->port = SK_FIELD(btf, sk, __sk_common.skc_num);
  remote->port = bpf_ntohs(SK_FIELD(btf, sk, __sk_common.skc_dport));
  if (family == AF_INET6) {
    if (btf) {
      __builtin_memcpy(local->addr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
      __builtin_memcpy(remote->addr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
    } else {
      BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
      BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    }
  } else {
    __be32 l = SK_FIELD(btf, sk, __sk_common.skc_rcv_saddr);
    __be32 r = SK_FIELD(btf, sk, __sk_common.skc_daddr);
    __builtin_memcpy(local->addr, &l, 4);
    __builtin_memcpy(remote->addr, &r, 4);
  }
}

static __always_inline __u32 netns_of(bool btf, const struct sock* sk) {
  if (btf) return sk->__sk_common.skc_net.net->ns.inum;
  return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline void listen_key_of(bool btf, const struct sock* sk,
                                          struct ngxw_listen_key* k) {
  struct ngxw_endpoint l = {}, r = {};
  read_endpoints(btf, sk, &l, &r);
  k->netns = netns_of(btf, sk);
  k->port = l.port;
  k->family = l.family;
  __builtin_memcpy(k->addr, l.addr, 16);
}

/* The nginx process whose listening socket has sk's local endpoint (its address, or
 * the wildcard): sk is one of its accepted connections. */
static __always_inline __u32* listener_of(bool btf, const struct sock* sk) {
  struct ngxw_listen_key lk = {};
  listen_key_of(btf, sk, &lk);
  __u32* owner = bpf_map_lookup_elem(&listeners, &lk);
  if (owner) return owner;
  __builtin_memset(lk.addr, 0, sizeof(lk.addr));
  return bpf_map_lookup_elem(&listeners, &lk);
}

static __always_inline struct ngxw_proc_info* nginx_task(__u32* tgid_out) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  *tgid_out = tgid;
  return bpf_map_lookup_elem(&nginx_pids, &tgid);
}

static __always_inline void emit_conn(bool btf, __u16 type, const struct sock* sk,
                                      const struct conn* c, __u8 origin, __u8 state, __u8 old_state,
                                      __u32 reason, __u32 flags,
                                      const struct ngxw_reset_key* lost_key) {
  struct ngxw_conn_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    if (lost_key) count_keyed(&reset_lost, lost_key, NGXW_CTR_LOST_FULL);
    return;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = type;
  e->hdr.tgid = c->tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->sock_id = (__u64)sk;
  read_endpoints(btf, sk, &e->local, &e->remote);
  e->netns = netns_of(btf, sk);
  e->side = c->side;
  e->origin = origin;
  e->tcp_state = state;
  e->old_state = old_state;
  e->reason = reason;
  e->flags = flags;
  e->stats = c->stats;
  bpf_ringbuf_submit(e, wakeup_flags(type == NGXW_EV_RESET));
}

/* A socket we do not know may predate the daemon: adopt it from the seed map. Only
 * while user space says seeds are waiting: afterwards an unknown socket costs one
 * array lookup here, not endpoint reads and a hash lookup. */
static __always_inline struct conn* adopt_seed(bool btf, const struct sock* sk, __u64 key) {
  struct control* ctl = control_block();
  if (!ctl || !ctl->seeds_pending) return 0;
  struct ngxw_tuple_key t = {};
  struct ngxw_endpoint l = {}, r = {};
  read_endpoints(btf, sk, &l, &r);
  t.netns = netns_of(btf, sk);
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
  if (bpf_map_delete_elem(&seeds, &t) == 0) __sync_fetch_and_add(&ctl->seeds_pending, -1);
  count(NGXW_CTR_CONNS_TRACKED);
  struct conn* adopted = bpf_map_lookup_elem(&conns, &key);
  if (adopted)
    emit_conn(btf, NGXW_EV_CONN_OPEN, sk, adopted, NGXW_ORIGIN_NONE,
              SK_FIELD(btf, sk, __sk_common.skc_state), 0, NGXW_REASON_NONE, 0, 0);
  return adopted;
}

static __always_inline struct conn* lookup_conn(bool btf, const struct sock* sk) {
  __u64 key = (__u64)sk;
  struct conn* c = bpf_map_lookup_elem(&conns, &key);
  if (c) return c;
  return adopt_seed(btf, sk, key);
}

#endif /* NGXWATCH_BPF_CONN_H */
