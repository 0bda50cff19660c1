// SPDX-License-Identifier: GPL-2.0
/* Capture backend "kprobe": kprobe/kretprobe on tcp_sendmsg and tcp_recvmsg, for
 * kernels without BPF trampolines (arm64 before 6.0) or where fentry is refused. TCP
 * only, like fentry; each hit costs more (an int3 or a breakpoint instead of a call).
 * Built with and without the bpf_loop Content-Length scan, like fentry. */
#include "msg.bpf.h"
#include "regs.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int enter(struct pt_regs* ctx, bool outbound) {
  const struct sock* sk = (const struct sock*)REG_ARG1(ctx);
  const struct msghdr* msg = (const struct msghdr*)REG_ARG2(ctx);
  return call_enter(sk, BPF_CORE_READ(sk, __sk_common.skc_family), msg, outbound);
}

SEC("kprobe/tcp_sendmsg")
int kprobe_sendmsg(struct pt_regs* ctx) { return enter(ctx, true); }

SEC("kretprobe/tcp_sendmsg")
int kretprobe_sendmsg(struct pt_regs* ctx) { return call_exit(false, 0, (int)REG_RET(ctx), true); }

SEC("kprobe/tcp_recvmsg")
int kprobe_recvmsg(struct pt_regs* ctx) { return enter(ctx, false); }

SEC("kretprobe/tcp_recvmsg")
int kretprobe_recvmsg(struct pt_regs* ctx) { return call_exit(false, 0, (int)REG_RET(ctx), false); }
