// SPDX-License-Identifier: GPL-2.0
/* The floor of request capture: programs that do nothing, on the two tracepoints
 * ngxwatch's capture uses. What they cost is what any program there costs (the
 * tracepoint's call into BPF), before ngxwatch's own work; bench/overhead.sh --floor
 * measures it the same way it measures the daemon. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send_length, struct sock* sk, int ret, int flags) { return 0; }

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv_length, struct sock* sk, int ret, int flags) { return 0; }
