// SPDX-License-Identifier: GPL-2.0
/* Required: every RST on a socket nginx owns, sent or received.
 *
 * Resets run in softirq, where the current task says nothing about nginx; the socket
 * was learned in process context (socket_state.bpf.c) and is looked up here. Each hook
 * has a tp_btf program (typed arguments, cheaper) and a classic tp twin; the loader
 * enables one per hook. */
#include "heads.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* A reset on a socket the connection table does not hold. The table is an LRU: a
 * connection of nginx that stayed idle while many newer ones were tracked can have
 * been evicted. An accepted one is still recognised by its local endpoint (nginx's
 * listening socket): counted, under its side and origin only, as a reset whose detail
 * never reached user space (exported with location="(unknown)"), never dropped. An
 * upstream socket has nothing left that says it is nginx's (softirq: no task). */
static __always_inline int on_untracked_reset(bool btf, const struct sock* sk, __u8 origin) {
  __u8 state = SK_FIELD(btf, sk, __sk_common.skc_state);
  /* Full sockets only: a listener, a request or a time-wait sock is no connection. */
  if (state == TCP_LISTEN || state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV ||
      state == TCP_SYN_RECV || state == TCP_SYN_SENT)
    return 0;
  if (!listener_of(btf, sk)) return 0;
  struct ngxw_reset_key key = {};
  key.side = NGXW_SIDE_CLIENT;
  key.origin = origin;
  count(NGXW_CTR_RESETS_SEEN);
  count(NGXW_CTR_RESETS_UNTRACKED);
  count_keyed(&reset_totals, &key, NGXW_CTR_TOTALS_FULL);
  count_keyed(&reset_lost, &key, NGXW_CTR_LOST_FULL);
  return 0;
}

static __always_inline int on_reset(bool btf, const struct sock* sk, __u8 origin, __u32 reason) {
  if (!sk) return 0;
  struct conn* c = lookup_conn(btf, sk);
  if (!c) return on_untracked_reset(btf, sk, origin);

  struct ngxw_reset_key key = {};
  key.side = c->side;
  key.origin = origin;
  if (c->side == NGXW_SIDE_UPSTREAM) {
    struct ngxw_endpoint l = {}, r = {};
    read_endpoints(btf, sk, &l, &r);
    key.family = r.family;
    key.port = r.port;
    __builtin_memcpy(key.addr, r.addr, 16);
  }
  count(NGXW_CTR_RESETS_SEEN);
  count_keyed(&reset_totals, &key, NGXW_CTR_TOTALS_FULL);
  __u8 state = SK_FIELD(btf, sk, __sk_common.skc_state);
  flush_request((__u64)sk, c);
  emit_conn(btf, NGXW_EV_RESET, sk, c, origin, state, 0, reason, conn_flags(c), &key);
  return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(btf_receive_reset, struct sock* sk) {
  return on_reset(true, sk, NGXW_ORIGIN_PEER, NGXW_REASON_NONE);
}

SEC("tp_btf/tcp_send_reset")
int btf_send_reset(__u64* ctx) {
  __u32 reason = NGXW_REASON_NONE;
  /* Since 6.10 the third argument is enum sk_rst_reason; the branch is dead code on
   * older kernels, so the verifier never checks the access to ctx[2] there. */
  if (bpf_core_type_exists(enum sk_rst_reason)) reason = (__u32)ctx[2];
  return on_reset(true, (const struct sock*)ctx[0], NGXW_ORIGIN_NGINX, reason);
}

/* Classic tracepoint fallbacks (must return 0: 1 sends hits through perf). */

SEC("tp/tcp/tcp_receive_reset")
int tp_receive_reset(struct trace_event_raw_tcp_event_sk* ctx) {
  return on_reset(false, BPF_CORE_READ(ctx, skaddr), NGXW_ORIGIN_PEER, NGXW_REASON_NONE);
}

SEC("tp/tcp/tcp_send_reset")
int tp_send_reset(void* ctx) {
  if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset)) {
    struct trace_event_raw_tcp_send_reset* n = ctx;
    __u32 reason = NGXW_REASON_NONE;
    if (bpf_core_field_exists(n->reason)) reason = BPF_CORE_READ(n, reason);
    return on_reset(false, BPF_CORE_READ(n, skaddr), NGXW_ORIGIN_NGINX, reason);
  }
  struct trace_event_raw_tcp_event_sk_skb* o = ctx;
  return on_reset(false, BPF_CORE_READ(o, skaddr), NGXW_ORIGIN_NGINX, NGXW_REASON_NONE);
}
