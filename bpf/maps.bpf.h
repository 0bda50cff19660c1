/* The maps every ngxwatch BPF object shares, and the per-connection state.
 *
 * Each concern (resets, socket state, capture backends, process tracking, temp files)
 * is its own BPF object, so a program one kernel's verifier rejects disables one
 * feature and never the others. They all declare these maps; the loader creates them
 * once (with the first object) and hands the same fds to every later object
 * (bpf_map__reuse_fd), so all programs see one connection table and one ring. */
#ifndef NGXWATCH_BPF_MAPS_H
#define NGXWATCH_BPF_MAPS_H

#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "ngxwatch/events.h"

/* A tracked socket. Its lifetime: inserted at connect/accept, marked closed at
 * TCP_CLOSE (a linger-0 close sends its RST after that), overwritten or deleted when
 * the same struct sock starts a new life, evicted by LRU otherwise. */
enum { PHASE_NONE = 0, PHASE_SENDING = 1, PHASE_RECEIVING = 2 };

struct conn {
  struct ngxw_conn_stats stats;
  __u64 link; /* upstream: the client socket the worker read last before connect() */
  __u32 tgid;
  __u8 side;
  __u8 closed;
  __u8 phase; /* direction of the current message run */
  __u8 close_seen;
  __u8 quiet;        /* the current request is not sampled: its heads wait in `heads` */
  __u8 pending;      /* PENDING_* heads of the current request kept and not yet emitted */
  __u8 interim;      /* client: nginx answered 1xx; the next read is the body, not a request */
  __u8 heads_lost;   /* a kept head of the current request was overwritten before it was sent */
  __u32 slot;        /* its pair of entries in `heads` */
  __u64 resp_expect; /* upstream, unsampled: header + Content-Length of the response */
};

enum { PENDING_IN = 1, PENDING_OUT = 2 };

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64); /* struct sock * */
  __type(value, struct conn);
} conns SEC(".maps");

/* Every nginx process (master, workers, helpers): the filter of every hot hook. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct ngxw_proc_info);
} nginx_pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct ngxw_listen_key);
  __type(value, __u32); /* owner tgid */
} listeners SEC(".maps");

/* Sockets that existed before the daemon started, filled from /proc by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ngxw_tuple_key);
  __type(value, struct ngxw_seed);
} seeds SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NGXW_CTR_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* Exact reset totals by (side, origin, upstream peer), and how many of them never
 * reached user space as events because the ring buffer was full. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ngxw_reset_key);
  __type(value, __u64);
} reset_totals SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ngxw_reset_key);
  __type(value, __u64);
} reset_lost SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} events SEC(".maps");

/* State shared by all objects (a .bss would be per object): written by user space
 * (seeds_pending) and by the programs (next_slot). */
struct control {
  __u32 seeds_pending; /* start-up seeds not adopted yet; 0: skip the seed lookup */
  __u32 next_slot;     /* round-robin allocator of `heads` slot pairs */
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct control);
} control SEC(".maps");

/* Heads of unsampled requests, kept until the request ends: emitted only if it fails.
 * An array, not a hash by socket: the lookup is on the hot path, and an array lookup
 * is an index. Each connection gets a pair of slots (what nginx read, what it wrote)
 * round-robin when it is tracked; a connection still in use HEAD_SLOTS connections
 * later shares its pair, so a head is checked to be its own (socket and request
 * number) before it is sent, and counted lost otherwise. */
#define HEAD_SLOTS 8192

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2 * HEAD_SLOTS);
  __type(key, __u32);
  __type(value, struct ngxw_data_event);
} heads SEC(".maps");

/* Per-CPU systematic sampler of client requests (see sample_request in heads.bpf.h). */
struct sampler {
  __u64 window_ns; /* start of the current one-second window */
  __u64 seen;      /* requests in it */
  __u64 stride;    /* every stride-th request is sampled */
  __u64 skipped;   /* since the last sampled one */
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sampler);
} samplers SEC(".maps");

#endif /* NGXWATCH_BPF_MAPS_H */
