/* Sampling and kept request heads: an uneventful request leaves nothing for user space
 * to do.
 *
 * Above sample_per_sec requests per second on a CPU, only every stride-th client
 * request is reported in full (its event carries the stride as its weight); the others
 * are "quiet": their heads are kept in `heads` and reach user space only if the
 * request turns out to fail (a reset, a close before the answer, an error status, a
 * temp file), so failures are reported in full at any rate and successes are sampled.
 * Resets, closes and temp files flush; capture keeps and samples. */
#ifndef NGXWATCH_BPF_HEADS_H
#define NGXWATCH_BPF_HEADS_H

#include "conn.bpf.h"

static __always_inline struct ngxw_data_event* head_of(const struct conn* c, bool outbound) {
  __u32 i = (c->slot % HEAD_SLOTS) * 2 + (outbound ? 1 : 0);
  return bpf_map_lookup_elem(&heads, &i);
}

/* A sampled-out client request is reported after all (it failed): it no longer belongs
 * to the stride of the next sampled one. (This CPU's count: the weights are summed
 * over CPUs, so which CPU gives it back does not matter while it has one to give.) */
static __always_inline void unskip(void) {
  __u32 zero = 0;
  struct sampler* s = bpf_map_lookup_elem(&samplers, &zero);
  if (s && s->skipped) s->skipped -= 1;
}

/* Emit one kept head of sk's current request (its endpoints were taken when it was
 * kept). `upstream`: for a client head sent because of that upstream connection, which user
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
  /* Only the header and the bytes it holds (a masked length: every verifier bounds it). */
  __u32 len = e->len;
  __u32 size = __builtin_offsetof(struct ngxw_data_event, data);
  if (len) size += ((len - 1) & (NGXW_CAPTURE_BYTES - 1)) + 1;
  count(bpf_ringbuf_output(&events, e, size, wakeup_flags(false)) ? NGXW_CTR_EVENTS_DROPPED
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

#endif /* NGXWATCH_BPF_HEADS_H */
