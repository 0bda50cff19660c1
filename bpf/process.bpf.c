// SPDX-License-Identifier: GPL-2.0
/* Optional: keep nginx_pids current without waiting for user space (fork, exec, exit).
 * Without it the daemon's /proc scan keeps the map, a scan interval late. */
#include "conn.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void emit_proc(__u32 tgid, __u32 parent, __u8 action) {
  struct ngxw_proc_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    return;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = NGXW_EV_PROC;
  e->hdr.tgid = tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->parent_tgid = parent;
  e->action = action;
  e->pad[0] = e->pad[1] = e->pad[2] = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_fork(__u32 parent_tgid, __u32 child_pid, __u32 child_tgid) {
  if (child_pid != child_tgid) return 0; /* a thread, not a process */
  if (!bpf_map_lookup_elem(&nginx_pids, &parent_tgid)) return 0;
  struct ngxw_proc_info info = {.parent = parent_tgid};
  bpf_map_update_elem(&nginx_pids, &child_tgid, &info, BPF_ANY);
  emit_proc(child_tgid, parent_tgid, NGXW_PROC_FORK);
  return 0;
}

/* A process that names itself nginx is only a candidate: user space checks its exe
 * and removes it from nginx_pids if it is not really nginx. */
static __always_inline int on_exec(void) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  char comm[16] = {};
  bpf_get_current_comm(comm, sizeof(comm));
  bool nginx =
      comm[0] == 'n' && comm[1] == 'g' && comm[2] == 'i' && comm[3] == 'n' && comm[4] == 'x';
  if (nginx) {
    struct ngxw_proc_info info = {};
    bpf_map_update_elem(&nginx_pids, &tgid, &info, BPF_NOEXIST);
    emit_proc(tgid, 0, NGXW_PROC_EXEC);
  } else if (bpf_map_lookup_elem(&nginx_pids, &tgid)) {
    bpf_map_delete_elem(&nginx_pids, &tgid);
    emit_proc(tgid, 0, NGXW_PROC_EXIT);
  }
  return 0;
}

static __always_inline int on_exit(void) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if ((__u32)id != tgid) return 0;
  if (!bpf_map_lookup_elem(&nginx_pids, &tgid)) return 0;
  bpf_map_delete_elem(&nginx_pids, &tgid);
  emit_proc(tgid, 0, NGXW_PROC_EXIT);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct* parent, struct task_struct* child) {
  return on_fork(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(child, pid),
                 BPF_CORE_READ(child, tgid));
}

SEC("tp_btf/sched_process_exec")
int btf_exec(__u64* ctx) { return on_exec(); }

SEC("tp_btf/sched_process_exit")
int btf_exit(__u64* ctx) { return on_exit(); }

SEC("tp/sched/sched_process_fork")
int tp_fork(struct trace_event_raw_sched_process_fork* ctx) {
  /* The classic record has no tgid; a new process's pid is its tgid. */
  __u32 parent = bpf_get_current_pid_tgid() >> 32;
  __u32 child = BPF_CORE_READ(ctx, child_pid);
  return on_fork(parent, child, child);
}

SEC("tp/sched/sched_process_exec")
int tp_exec(void* ctx) { return on_exec(); }

SEC("tp/sched/sched_process_exit")
int tp_exit(void* ctx) { return on_exit(); }
