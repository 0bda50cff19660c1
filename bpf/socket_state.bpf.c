// SPDX-License-Identifier: GPL-2.0
/* Required: learn nginx's sockets and see every close on them (inet_sock_set_state).
 *
 * Sockets are learned where the task is nginx: an upstream at connect() (CLOSE ->
 * SYN_SENT in an nginx task), a client when a child of an nginx listening socket
 * completes its handshake. This hook sees every TCP socket of the host, so it returns
 * after the cheapest test that rules a transition out. */
#include "heads.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void track(bool btf, const struct sock* sk, __u64 key, __u32 tgid, __u8 side,
                                  __u64 link) {
  struct conn c = {};
  c.tgid = tgid;
  c.side = side;
  c.link = link;
  c.slot = take_slot();
  c.stats.opened_ns = bpf_ktime_get_ns();
  /* Counted so that user space can tell evictions (inserts - replaced - deleted -
   * entries) from the table's ordinary churn. */
  if (bpf_map_lookup_elem(&conns, &key)) count(NGXW_CTR_CONNS_REPLACED);
  bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  count(NGXW_CTR_CONNS_TRACKED);
  emit_conn(btf, NGXW_EV_CONN_OPEN, sk, &c, NGXW_ORIGIN_NONE, TCP_ESTABLISHED, 0, NGXW_REASON_NONE,
            0, 0);
}

/* A struct sock starting a new life: whatever an earlier owner left is forgotten. */
static __always_inline void forget(__u64 key) {
  if (bpf_map_lookup_elem(&conns, &key) && bpf_map_delete_elem(&conns, &key) == 0)
    count(NGXW_CTR_CONNS_DELETED);
}

static __always_inline int on_state(bool btf, const struct sock* sk, int oldstate, int newstate) {
  __u64 key = (__u64)sk;
  __u32 tgid = 0;

  if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) {
    /* connect() or listen(): process context, so the task filter comes first. A
     * struct sock an earlier owner left in `conns` is overwritten by track(). */
    struct ngxw_proc_info* proc = nginx_task(&tgid);
    if (!proc) {
      /* Not nginx: only a recycled struct sock of a tracked one needs forgetting. */
      forget(key);
      return 0;
    }
    if (newstate == TCP_SYN_SENT) {
      track(btf, sk, key, tgid, NGXW_SIDE_UPSTREAM, proc->cur_client);
    } else {
      forget(key);
      struct ngxw_listen_key lk = {};
      listen_key_of(btf, sk, &lk);
      bpf_map_update_elem(&listeners, &lk, &tgid, BPF_ANY);
    }
    return 0;
  }
  if (newstate == TCP_SYN_RECV) {
    /* A request socket: a new life of a struct sock some earlier owner may have left. */
    forget(key);
    return 0;
  }

  if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
    /* A child of a listening socket completed its handshake (softirq). */
    __u32* owner = listener_of(btf, sk);
    if (owner) track(btf, sk, key, *owner, NGXW_SIDE_CLIENT, 0);
    return 0;
  }

  bool fin_by_nginx = newstate == TCP_FIN_WAIT1;
  bool fin_by_peer = newstate == TCP_CLOSE_WAIT;
  bool closed_after_peer = newstate == TCP_LAST_ACK;
  if (newstate != TCP_CLOSE && !fin_by_nginx && !fin_by_peer && !closed_after_peer) return 0;
  if (newstate == TCP_CLOSE && oldstate == TCP_LISTEN) {
    struct ngxw_listen_key lk = {};
    listen_key_of(btf, sk, &lk);
    bpf_map_delete_elem(&listeners, &lk);
    return 0;
  }
  struct conn* c = lookup_conn(btf, sk);
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
  __u8 origin =
      oldstate == TCP_CLOSE_WAIT || oldstate == TCP_LAST_ACK ? NGXW_ORIGIN_PEER : NGXW_ORIGIN_NGINX;
  __u32 flags = 0;
  if (!ended_uneventfully(c)) {
    flush_request(key, c);
  } else if (c->quiet) {
    flags = NGXW_CONN_QUIET;
    c->pending = 0; /* judged: a reset after the close (linger 0) must not send them */
  }
  flags |= conn_flags(c);
  emit_conn(btf, NGXW_EV_CONN_CLOSE, sk, c, origin, newstate, oldstate, NGXW_REASON_NONE, flags, 0);
  return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, struct sock* sk, int oldstate, int newstate) {
  return on_state(true, sk, oldstate, newstate);
}

SEC("tp/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state* ctx) {
  return on_state(false, BPF_CORE_READ(ctx, skaddr), BPF_CORE_READ(ctx, oldstate),
                  BPF_CORE_READ(ctx, newstate));
}
