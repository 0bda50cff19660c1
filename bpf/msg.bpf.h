/* fentry and kprobe capture: the user buffer of a tcp_sendmsg/tcp_recvmsg call, read
 * from its struct msghdr at entry (by exit the iterator has advanced), and handed to
 * the exit with the socket through `calls` (keyed by thread: nginx's calls do not
 * nest). Only nginx's tracked sockets get that far. */
#ifndef NGXWATCH_BPF_MSG_H
#define NGXWATCH_BPF_MSG_H

#include "capture.bpf.h"

struct pending_call {
  __u64 sk;
  struct msg_buf buf;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64); /* pid_tgid */
  __type(value, struct pending_call);
} calls SEC(".maps");

/* The first user segment of the message: what a message start needs (a request line,
 * a status line). The iovec array itself was copied into the kernel by the syscall. */
static __always_inline void read_msg_buf(const struct msghdr* msg, struct msg_buf* out) {
  const struct iov_iter* it = &msg->msg_iter;
  __u32 kind;
  if (bpf_core_field_exists(it->iter_type)) {
    kind = BPF_CORE_READ(it, iter_type);
  } else {
    const struct iov_iter___old* old = (const void*)it;
    kind = BPF_CORE_READ(old, type) & ~3u; /* without the READ/WRITE bits */
  }
  __u64 count = BPF_CORE_READ(it, count);
  if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) &&
      kind == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
    out->addr = (__u64)BPF_CORE_READ(it, ubuf) + BPF_CORE_READ(it, iov_offset);
    out->len = count;
    return;
  }
  if (kind != bpf_core_enum_value(enum iter_type, ITER_IOVEC)) return; /* kernel memory */
  const struct iovec* iov;
  if (bpf_core_field_exists(((struct iov_iter___iov*)it)->__iov))
    iov = BPF_CORE_READ((const struct iov_iter___iov*)it, __iov);
  else
    iov = BPF_CORE_READ(it, iov);
  __u64 off = BPF_CORE_READ(it, iov_offset);
  __u64 len = BPF_CORE_READ(iov, iov_len);
  if (off >= len) return;
  out->addr = (__u64)BPF_CORE_READ(iov, iov_base) + off;
  out->len = len - off < count ? len - off : count;
}

/* Entry of tcp_sendmsg/tcp_recvmsg: filter, and keep the buffer for the exit when the
 * call may start a message (a run in the other direction ended). */
static __always_inline int call_enter(const struct sock* sk, __u16 family, const struct msghdr* msg,
                                      bool outbound) {
  struct conn* c = tracked_conn(sk, family);
  if (!c) return 0;
  struct pending_call pc = {.sk = (__u64)sk};
  if (c->phase != (outbound ? PHASE_SENDING : PHASE_RECEIVING)) read_msg_buf(msg, &pc.buf);
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_update_elem(&calls, &id, &pc, BPF_ANY);
  return 0;
}

/* Exit: `sk` is the BTF-typed argument where the hook has one (fexit), else 0 and the
 * one kept at entry is used. */
static __always_inline int call_exit(bool btf, const struct sock* sk, int ret, bool outbound) {
  __u64 id = bpf_get_current_pid_tgid();
  struct pending_call* p = bpf_map_lookup_elem(&calls, &id);
  if (!p) return 0; /* not nginx, or not a tracked socket */
  struct pending_call pc = *p;
  bpf_map_delete_elem(&calls, &id);
  if (!btf) sk = (const struct sock*)pc.sk;
  return on_transfer(btf, sk, AF_INET, ret, outbound, &pc.buf);
}

#endif /* NGXWATCH_BPF_MSG_H */
