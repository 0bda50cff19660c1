/* The kernel <-> user space contract of ngxwatch.
 *
 * This is the only header included by both the BPF programs (bpf/) and the daemon.
 * Every record on the ring buffer starts with struct ngxw_event_header; its `type`
 * says which of the structs below follows. Fields are fixed width and padded
 * explicitly so that clang -target bpf and g++ agree on every offset; the layout is
 * pinned by tests/unit/event_layout_test.cpp. Bump NGXW_EVENT_VERSION on any change.
 *
 * Times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). Addresses are in network
 * byte order; IPv4 uses the first 4 bytes of addr[], ports are in host byte order.
 */
#ifndef NGXWATCH_EVENTS_H
#define NGXWATCH_EVENTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define NGXW_EVENT_VERSION 2 /* 2: NGXW_EV_TEMP, ngxw_proc_info.cur_upstream */
#define NGXW_COMM_LEN 16
#define NGXW_CAPTURE_BYTES 512
#define NGXW_TEMP_NAME_LEN 192
/* Reset reason when the kernel's tracepoint carries none (kernels before 6.10). */
#define NGXW_REASON_NONE 0xffffffffu

enum ngxw_event_type {
  NGXW_EV_RESET = 1,      /* an RST touched a tracked nginx socket */
  NGXW_EV_CONN_OPEN = 2,  /* a socket became tracked (connect, accept, start-up seed) */
  NGXW_EV_CONN_CLOSE = 3, /* a tracked socket reached TCP_CLOSE */
  NGXW_EV_PROC = 4,       /* an nginx process forked, exec'd or exited */
  NGXW_EV_DATA = 5,       /* first bytes of a request/response on a tracked socket */
  NGXW_EV_TEMP = 6,       /* an nginx worker wrote to (or failed to write) a temp file */
};

enum ngxw_side {
  NGXW_SIDE_UNKNOWN = 0,
  NGXW_SIDE_UPSTREAM = 1, /* nginx connected out to a backend */
  NGXW_SIDE_CLIENT = 2,   /* nginx accepted it on a listening socket */
};

enum ngxw_origin {
  NGXW_ORIGIN_NONE = 0,
  NGXW_ORIGIN_PEER = 1,  /* the other end sent the RST / FIN first */
  NGXW_ORIGIN_NGINX = 2, /* this host sent it */
};

enum ngxw_proc_action {
  NGXW_PROC_FORK = 1,
  NGXW_PROC_EXEC = 2,
  NGXW_PROC_EXIT = 3,
};

/* Indexes of the per-CPU counter array `counters`: exact totals kept in kernel. */
enum ngxw_counter {
  NGXW_CTR_EVENTS_DROPPED = 0, /* ring buffer full: detail lost, totals kept */
  NGXW_CTR_RESETS_SEEN = 1,    /* RSTs on tracked sockets */
  NGXW_CTR_CONNS_TRACKED = 2,  /* sockets inserted into the connection table */
  NGXW_CTR_REQUESTS = 3,       /* client requests nginx began reading */
  NGXW_CTR_UNSAMPLED = 4,      /* of those, kept in the kernel as uneventful (sampling) */
  NGXW_CTR_HEADS_LOST = 5,     /* a kept request head was evicted before it was needed */
  NGXW_CTR_HEADS_FLUSHED = 6,  /* kept heads sent because their request failed (or may have) */
  /* 7 is free. Map bookkeeping, so that evictions and full maps are counted: */
  NGXW_CTR_CONNS_REPLACED =
      8,                      /* of CONNS_TRACKED, inserts over an existing entry (a reused sock) */
  NGXW_CTR_CONNS_DELETED = 9, /* entries deleted (a reused sock, not nginx's any more) */
  NGXW_CTR_RESETS_UNTRACKED = 10, /* RSTs on nginx client sockets whose entry was evicted */
  NGXW_CTR_TOTALS_FULL = 11,      /* a new key did not fit into reset_totals */
  NGXW_CTR_LOST_FULL = 12,        /* a new key did not fit into reset_lost: counted here instead */
  NGXW_CTR_MAX = 16,
};

struct ngxw_endpoint {
  __u8 addr[16];
  __u16 port;
  __u16 family; /* AF_INET or AF_INET6 */
};

struct ngxw_event_header {
  __u16 version;
  __u16 type;  /* enum ngxw_event_type */
  __u32 tgid;  /* the nginx process owning the socket (never the softirq's task) */
  __u64 ts_ns; /* when the kernel saw it */
};

/* Per-connection measurements kept by the kernel and copied into conn events.
 * A "message" is a run of sends (or receives) not interrupted by the other direction:
 * on an upstream socket a send run after a receive is a new request; on a client
 * socket a receive run after a send is a new request. */
struct ngxw_conn_stats {
  __u64 opened_ns; /* connect() / accept time */
  __u64 first_send_ns;
  __u64 last_send_ns;
  __u64 first_recv_ns;
  __u64 last_recv_ns;
  __u64 bytes_sent; /* by nginx on this socket, whole connection */
  __u64 bytes_recv;
  __u64 req_start_ns;   /* start of the current request on this connection */
  __u64 req_bytes_sent; /* bytes nginx sent since the current request started */
  __u64 req_bytes_recv; /* bytes nginx received since it started */
  __u64 idle_ns;        /* idle time before the current request (0: first request) */
  __u32 requests;       /* requests started on this connection (keepalive reuse) */
  __u8 peer_fin;        /* the peer had sent FIN (half-closed) */
  __u8 pad[3];
};

/* ngxw_conn_event.flags. QUIET: the connection's current request was not sampled and
 * ended the way a finished request ends (the kernel judged it; see bpf/README.md), so
 * user space saw none of its bytes and must not judge it from the counters alone. */
#define NGXW_CONN_QUIET 1u
/* Client side: nginx had begun answering the current request (a reset now is not a
 * client abort), whether or not user space saw the answer. */
#define NGXW_CONN_ANSWERED 2u
/* A kept head of the current request was overwritten before it could be sent: what
 * user space holds for this connection is an older request's. */
#define NGXW_CONN_HEADS_LOST 4u

/* NGXW_EV_RESET, NGXW_EV_CONN_OPEN, NGXW_EV_CONN_CLOSE */
struct ngxw_conn_event {
  struct ngxw_event_header hdr;
  __u64 sock_id; /* opaque per-socket id, stable while the socket lives */
  struct ngxw_endpoint local;
  struct ngxw_endpoint remote;
  __u32 netns;    /* network namespace inode */
  __u8 side;      /* enum ngxw_side */
  __u8 origin;    /* enum ngxw_origin (RST sender; for CLOSE who sent FIN first) */
  __u8 tcp_state; /* socket state when it happened (TCP_* numbers) */
  __u8 old_state; /* previous state, for CONN_CLOSE */
  __u32 reason;   /* kernel's sk_rst_reason, or NGXW_REASON_NONE */
  __u32 flags;    /* NGXW_CONN_* */
  struct ngxw_conn_stats stats;
};

/* NGXW_EV_PROC */
struct ngxw_proc_event {
  struct ngxw_event_header hdr; /* hdr.tgid: the process concerned */
  __u32 parent_tgid;
  __u8 action; /* enum ngxw_proc_action */
  __u8 pad[3];
  char comm[NGXW_COMM_LEN];
};

/* NGXW_EV_DATA: a bounded copy of the first bytes of a message (request head, status
 * line) that nginx wrote or read on a tracked socket. Untrusted bytes. A record holds
 * the fields up to data[] and at least `len` bytes of it, not always all of data[]
 * (the kernel sends 128, 256 or 512 bytes of it, a flushed head exactly len): readers
 * take a record of offsetof(data) .. sizeof bytes and treat the rest as zero. */
struct ngxw_data_event {
  struct ngxw_event_header hdr;
  __u64 sock_id;
  __u64 link_sock_id; /* upstream request: the client socket this worker read last */
  struct ngxw_endpoint local;
  struct ngxw_endpoint remote;
  __u8 side;
  __u8 outbound; /* 1: nginx wrote these bytes, 0: nginx read them */
  __u16 len;     /* bytes valid in data[] */
  __s32 total;   /* return value of the send/receive they were taken from */
  __u32 request; /* stats.requests at this point (1 = first on the connection) */
  __u32 weight;  /* client request head: how many requests it stands for (sampling);
                    0 in traces of older builds, read as 1 */
  __u64 idle_ns; /* idle time of the connection before this message */
  __u8 data[NGXW_CAPTURE_BYTES];
};

/* NGXW_EV_TEMP: one return of nginx's ngx_write_chain_to_temp_file() (client body or
 * proxied response spooled to disk). Added without a version bump: existing record
 * layouts are unchanged and older readers reject the unknown type per record. */
struct ngxw_temp_event {
  struct ngxw_event_header hdr;
  __u64 client_sock_id;          /* client socket this worker read last (its current request) */
  __u64 upstream_sock_id;        /* upstream socket this worker read last */
  __s64 ret;                     /* bytes written; < 0: NGX_ERROR (create or write failed) */
  char name[NGXW_TEMP_NAME_LEN]; /* the temp file's path, NUL-terminated */
};

/* Key of the per-CPU maps that count resets exactly in kernel. */
struct ngxw_reset_key {
  __u8 side;
  __u8 origin;
  __u16 port; /* upstream peer port; 0 on the client side */
  __u16 family;
  __u16 pad;
  __u8 addr[16]; /* upstream peer address; zero on the client side */
};

/* Key of the map of nginx listening sockets (how accepted sockets are recognised). */
struct ngxw_listen_key {
  __u32 netns;
  __u16 port;
  __u16 family;
  __u8 addr[16]; /* zero for a wildcard listener */
};

/* Key of the start-up seed map: sockets that existed before the daemon started. */
struct ngxw_tuple_key {
  __u32 netns;
  __u16 lport;
  __u16 rport;
  __u16 family;
  __u16 pad;
  __u8 laddr[16];
  __u8 raddr[16];
};

/* Value of the nginx process map (key: tgid). */
struct ngxw_proc_info {
  __u32 parent; /* parent tgid */
  __u32 pad;
  __u64 cur_client;   /* kernel-maintained: the client socket this process read last */
  __u64 cur_upstream; /* kernel-maintained: the upstream socket it read last */
};

/* Value of the seed map. */
struct ngxw_seed {
  __u32 tgid;
  __u8 side;
  __u8 pad[3];
};

#endif /* NGXWATCH_EVENTS_H */
