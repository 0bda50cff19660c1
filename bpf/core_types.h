/* The kernel types the BPF programs read, declared minimally for CO-RE.
 *
 * Instead of a generated vmlinux.h per architecture we declare only the fields we
 * touch, marked preserve_access_index: libbpf relocates every access against the
 * running kernel's BTF at load time, so offsets, anonymous unions and field order of
 * the build host never matter. None of these types depend on the architecture
 * (no pt_regs), so the same header serves x86-64 and arm64. See bpf/README.md.
 */
#ifndef NGXWATCH_BPF_CORE_TYPES_H
#define NGXWATCH_BPF_CORE_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u32 __wsum;
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0

#define AF_INET 2
#define AF_INET6 10

enum {
  TCP_ESTABLISHED = 1,
  TCP_SYN_SENT = 2,
  TCP_SYN_RECV = 3,
  TCP_FIN_WAIT1 = 4,
  TCP_FIN_WAIT2 = 5,
  TCP_TIME_WAIT = 6,
  TCP_CLOSE = 7,
  TCP_CLOSE_WAIT = 8,
  TCP_LAST_ACK = 9,
  TCP_LISTEN = 10,
  TCP_CLOSING = 11,
  TCP_NEW_SYN_RECV = 12,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct in6_addr {
  union {
    __u8 u6_addr8[16];
  } in6_u;
};

struct ns_common {
  unsigned int inum;
};

struct net {
  struct ns_common ns;
};

typedef struct {
  struct net* net;
} possible_net_t;

struct sock_common {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num;
  unsigned short skc_family;
  volatile unsigned char skc_state;
  possible_net_t skc_net;
  struct in6_addr skc_v6_daddr;
  struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
  struct sock_common __sk_common;
};

struct task_struct {
  pid_t pid;
  pid_t tgid;
  struct task_struct* real_parent;
  char comm[16];
};

/* The message of tcp_sendmsg/tcp_recvmsg (fentry and kprobe capture): where the
 * user's bytes are. struct iov_iter changed shape three times; each shape is a CO-RE
 * flavour, picked with bpf_core_field_exists (see msg.bpf.h). */
struct iovec {
  void* iov_base;
  __u64 iov_len;
};

/* 5.14+: a u8 iter_type; 6.0+ adds ITER_UBUF (a single user buffer, what recv() and
 * send() build); 6.4 renamed iov to __iov. */
struct iov_iter {
  __u8 iter_type;
  __u64 iov_offset;
  __u64 count;
  union {
    const struct iovec* iov;
    void* ubuf;
  };
};

struct iov_iter___iov {
  const struct iovec* __iov;
};

/* Before 5.14: type holds the iterator kind (ITER_IOVEC = 4) and the direction bits. */
struct iov_iter___old {
  unsigned int type;
  __u64 iov_offset;
  __u64 count;
  const struct iovec* iov;
};

struct msghdr {
  struct iov_iter msg_iter;
};

/* Classic tracepoint records (tp/), used where the kernel lacks tp_btf. */
struct trace_entry {
  unsigned short type;
};

/* tcp_send_reset on kernels before 6.10 (event class tcp_event_sk_skb). */
struct trace_event_raw_tcp_event_sk_skb {
  struct trace_entry ent;
  const void* skbaddr;
  const void* skaddr;
};

/* tcp_send_reset since 6.10: its own event, with the reset reason. */
struct trace_event_raw_tcp_send_reset {
  struct trace_entry ent;
  const void* skbaddr;
  const void* skaddr;
  int state;
  unsigned int reason;
};

/* tcp_receive_reset (event class tcp_event_sk). */
struct trace_event_raw_tcp_event_sk {
  struct trace_entry ent;
  const void* skaddr;
};

struct trace_event_raw_inet_sock_set_state {
  struct trace_entry ent;
  const void* skaddr;
  int oldstate;
  int newstate;
};

struct trace_event_raw_sched_process_fork {
  struct trace_entry ent;
  pid_t parent_pid;
  pid_t child_pid;
};

/* The user registers saved at syscall entry: which syscall nginx is in and where its
 * buffer is (see user_buffer() in ngxwatch.bpf.c). Arch-specific by nature. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
  unsigned long di; /* first argument of a user function (uprobe) */
  unsigned long si;
  unsigned long ax; /* return value (uretprobe) */
  unsigned long orig_ax;
};
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
  __u64 regs[31];
  int syscallno;
};
#else
#error "set __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#pragma clang attribute pop

/* Iterator kinds by name; their values differ between kernels and are relocated. */
enum iter_type {
  ITER_IOVEC = 0,
  ITER_UBUF = 6,
};

/* The kernel enum whose existence tells that tcp_send_reset carries a reason. */
enum sk_rst_reason {
  SK_RST_REASON_NOT_SPECIFIED___ngxw = 0,
};

#endif /* NGXWATCH_BPF_CORE_TYPES_H */
