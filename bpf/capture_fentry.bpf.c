// SPDX-License-Identifier: GPL-2.0
/* Capture backend "fentry": fentry/fexit on tcp_sendmsg and tcp_recvmsg, the cheapest
 * hooks (BPF trampolines: x86-64 from 5.5, arm64 from 6.0) and TCP only, so other
 * processes' AF_UNIX and UDP traffic pays nothing. Built twice: with the bpf_loop
 * Content-Length scan (5.17+) and without (NGXW_SCAN_LOOP=0). */
#include "msg.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* tcp_recvmsg lost its `nonblock` argument in 5.19 and `addr_len` later (7.x): the
 * return value is the slot after the last argument. Set by the loader from the
 * kernel's BTF; the other branches are dead code the verifier never checks. */
const volatile __u32 recvmsg_nargs = 5;

SEC("fentry/tcp_sendmsg")
int BPF_PROG(fentry_sendmsg, struct sock* sk, struct msghdr* msg) {
  return call_enter(sk, sk->__sk_common.skc_family, msg, true);
}

SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit_sendmsg, struct sock* sk, struct msghdr* msg, __u64 size, int ret) {
  return call_exit(true, sk, ret, true);
}

SEC("fentry/tcp_recvmsg")
int BPF_PROG(fentry_recvmsg, struct sock* sk, struct msghdr* msg) {
  return call_enter(sk, sk->__sk_common.skc_family, msg, false);
}

/* A load at a constant offset of the untouched context pointer: the verifier refuses
 * the pointer arithmetic clang makes of ctx[nargs] ("dereference of modified ctx"). */
#define CTX_SLOT(ctx, off)                                                          \
  ({                                                                                \
    __u64 v_;                                                                       \
    asm volatile("%[v] = *(u64 *)(%[c] + " #off ")" : [v] "=r"(v_) : [c] "r"(ctx)); \
    v_;                                                                             \
  })

SEC("fexit/tcp_recvmsg")
int BPF_PROG(fexit_recvmsg, struct sock* sk) {
  int ret = recvmsg_nargs == 6   ? (int)CTX_SLOT(ctx, 48)
            : recvmsg_nargs == 4 ? (int)CTX_SLOT(ctx, 32)
                                 : (int)CTX_SLOT(ctx, 40);
  return call_exit(true, sk, ret, false);
}
