// SPDX-License-Identifier: GPL-2.0
/* Capture backend "tracepoint": tp_btf/sock_send_length and sock_recv_length (6.3+).
 * They fire for every socket family of every process, so other processes' AF_UNIX and
 * UDP traffic pays the hook; the buffer comes from the syscall's saved registers. */
#define NGXW_BUFFER_FROM_SYSCALL 1
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sock_send_length")
int BPF_PROG(btf_send_length, struct sock* sk, int ret, int flags) {
  return on_transfer(true, sk, sk->__sk_common.skc_family, ret, true, 0);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(btf_recv_length, struct sock* sk, int ret, int flags) {
  return on_transfer(true, sk, sk->__sk_common.skc_family, ret, false, 0);
}
