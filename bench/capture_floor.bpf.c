// SPDX-License-Identifier: GPL-2.0
/* The floor of ngxwatch's kernel side: programs that do nothing, on the tracepoints
 * ngxwatch's tp_btf backend uses (the two capture hooks, socket state, both resets).
 * What they cost is what any program there costs (the tracepoint's call into BPF),
 * before ngxwatch's own work; bench/overhead.sh measures it the same way it measures
 * the daemon and subtracts it. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send_length, struct sock* sk, int ret, int flags) { return 0; }

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv_length, struct sock* sk, int ret, int flags) { return 0; }

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_set_state, struct sock* sk, int oldstate, int newstate) { return 0; }

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(floor_receive_reset, struct sock* sk) { return 0; }

SEC("tp_btf/tcp_send_reset")
int floor_send_reset(__u64* ctx) { return 0; }
