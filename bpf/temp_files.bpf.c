// SPDX-License-Identifier: GPL-2.0
/* Optional: what nginx spools to client_body_temp_path / proxy_temp_path.
 *
 * A uprobe/uretprobe pair on ngx_write_chain_to_temp_file(ngx_temp_file_t *tf, ...),
 * the one function every client-body and proxy-buffering write goes through (it also
 * creates the file). Why not a kernel hook: syscall tracepoints tax every process;
 * writeback_dirty_folio / mm_filemap_add_to_page_cache never fire for tmpfs (shmem)
 * and count pages, not writes; neither sees a failed write. The uprobe runs only when
 * an nginx worker spools (nothing for other processes, nothing for requests that fit
 * in memory), gives the bytes written or NGX_ERROR (ENOSPC, EIO, EACCES on create or
 * write), and tf->file.name (ngx_file_t: fd at 0, ngx_str_t name at 8, unchanged since
 * nginx 0.x) says which temp path. */
#include "heads.bpf.h"
#include "regs.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);   /* pid_tgid */
  __type(value, __u64); /* ngx_temp_file_t * in the worker */
} temp_calls SEC(".maps");

/* A spooled body or response is worth its requests' heads (temp-dir attribution). */
static __always_inline void flush_spooling(__u64 sock) {
  struct conn* c = sock ? bpf_map_lookup_elem(&conns, &sock) : 0;
  if (c && (c->quiet || c->pending)) flush_request(sock, c);
}

SEC("uprobe")
int temp_write_enter(struct pt_regs* ctx) {
  __u64 tf = REG_ARG1(ctx);
  __u32 tgid;
  if (!nginx_task(&tgid)) return 0; /* filter first */
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_update_elem(&temp_calls, &id, &tf, BPF_ANY);
  return 0;
}

SEC("uretprobe")
int temp_write_exit(struct pt_regs* ctx) {
  long ret = (long)REG_RET(ctx);
  __u64 id = bpf_get_current_pid_tgid();
  __u64* tfp = bpf_map_lookup_elem(&temp_calls, &id);
  if (!tfp) return 0;
  __u64 tf = *tfp;
  bpf_map_delete_elem(&temp_calls, &id);
  __u32 tgid;
  struct ngxw_proc_info* proc = nginx_task(&tgid);
  if (!proc) return 0;
  /* Two calls, not a loop: the 5.10 and 6.1 verifiers reject a loop whose head
   * follows a helper call ("back-edge from insn N to N+1"). */
  flush_spooling(proc->cur_client);
  flush_spooling(proc->cur_upstream);
  struct ngxw_temp_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(NGXW_CTR_EVENTS_DROPPED);
    return 0;
  }
  e->hdr.version = NGXW_EVENT_VERSION;
  e->hdr.type = NGXW_EV_TEMP;
  e->hdr.tgid = tgid;
  e->hdr.ts_ns = bpf_ktime_get_ns();
  e->client_sock_id = proc->cur_client;
  e->upstream_sock_id = proc->cur_upstream;
  e->ret = ret;
  e->name[0] = 0;
  __u64 name_data = 0; /* tf->file.name.data: ngx_str_t {len, data} at offset 8 */
  if (bpf_probe_read_user(&name_data, sizeof(name_data), (void*)(tf + 16)) == 0 && name_data)
    bpf_probe_read_user_str(e->name, sizeof(e->name), (void*)name_data);
  /* No wakeup: a spooled body is written in client_body_buffer_size chunks, and waking
   * the reader per chunk cost ~6 us per write (measured); the reader drains the ring
   * at its next poll (<= 250 ms) or the next event that wakes it. */
  bpf_ringbuf_submit(e, wakeup_flags(false));
  return 0;
}
