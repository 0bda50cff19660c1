// Replay throughput: how fast the user-space pipeline (decode -> correlate ->
// classify -> attribute) eats a recorded event stream on one core.
//
// Builds a realistic trace in memory (and optionally writes it as a trace file for
// `ngxwatch analyze`): upstream and client connections with captured request heads
// and status lines, keepalive reuse, resets and closes, attributed against a real
// nginx configuration with several servers, locations and upstream groups.
//
//   ngxwatch_bench_replay [EVENTS] [--write TRACE]
#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "correlate/correlator.h"
#include "attribute/nginx_config_view.h"
#include "export/summary.h"
#include "nginx/nginx_config.h"
#include "source/event.h"
#include "source/trace_file.h"

using namespace ngxwatch;

namespace {

const char* kConfig = R"(# configuration file /etc/nginx/nginx.conf:
events { worker_connections 1024; }
http {
  upstream api_backend { server 10.0.0.1:8080; server 10.0.0.2:8080; keepalive 16; }
  upstream upload_backend { server 10.0.1.1:9000; }
  server {
    listen 80;
    server_name shop.example;
    location / { proxy_pass http://api_backend; }
    location /api/ { proxy_pass http://api_backend; proxy_read_timeout 5s; }
    location /upload/ { proxy_pass http://upload_backend/files/; client_max_body_size 100m; }
    location ~ \.php$ { proxy_pass http://10.0.2.1:9001; }
  }
  server { listen 8080; server_name admin.example; location / { proxy_pass http://api_backend; } }
}
)";

ngxw_endpoint ep(const char* ip, uint16_t port) {
  ngxw_endpoint e{};
  e.family = AF_INET;
  e.port = port;
  inet_pton(AF_INET, ip, e.addr);
  return e;
}

struct Gen {
  std::vector<std::vector<uint8_t>> records;
  uint64_t ts = 1'000'000'000;

  template <typename T>
  void push(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    records.emplace_back(p, p + sizeof(T));
  }
  ngxw_conn_event conn(uint16_t type, uint64_t id, uint8_t side, ngxw_endpoint l, ngxw_endpoint r) {
    ngxw_conn_event e{};
    e.hdr = {NGXW_EVENT_VERSION, type, 4242, ts += 1000};
    e.sock_id = id;
    e.local = l;
    e.remote = r;
    e.side = side;
    e.reason = NGXW_REASON_NONE;
    e.stats.opened_ns = ts;
    return e;
  }
  void data(uint64_t id, uint64_t link, uint8_t side, bool out, ngxw_endpoint l, ngxw_endpoint r,
            const std::string& bytes, uint32_t request) {
    ngxw_data_event d{};
    d.hdr = {NGXW_EVENT_VERSION, NGXW_EV_DATA, 4242, ts += 1000};
    d.sock_id = id;
    d.link_sock_id = link;
    d.local = l;
    d.remote = r;
    d.side = side;
    d.outbound = out;
    d.len = static_cast<uint16_t>(std::min(bytes.size(), sizeof(d.data)));
    d.total = static_cast<int32_t>(bytes.size());
    d.request = request;
    std::memcpy(d.data, bytes.data(), d.len);
    push(d);
  }
};

// One client request proxied to an upstream: ~8 events; every 10th upstream resets.
void one_exchange(Gen& g, uint64_t n) {
  static const char* paths[] = {"/api/v1/orders?id=7", "/upload/big.bin", "/index.php", "/"};
  static const char* peers[] = {"10.0.0.1", "10.0.1.1", "10.0.2.1", "10.0.0.2"};
  static const uint16_t ports[] = {8080, 9000, 9001, 8080};
  int k = static_cast<int>(n % 4);
  uint64_t client = 0x100000000ull + n * 2, upstream = client + 1;
  ngxw_endpoint nginx_l = ep("192.0.2.10", 80), client_r = ep("198.51.100.7", 40000 + n % 20000);
  ngxw_endpoint up_l = ep("192.0.2.10", 30000 + n % 30000), up_r = ep(peers[k], ports[k]);
  g.push(g.conn(NGXW_EV_CONN_OPEN, client, NGXW_SIDE_CLIENT, nginx_l, client_r));
  std::string req = std::string("POST ") + paths[k] +
                    " HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 2048\r\n\r\n";
  g.data(client, 0, NGXW_SIDE_CLIENT, false, nginx_l, client_r, req, 1);
  g.push(g.conn(NGXW_EV_CONN_OPEN, upstream, NGXW_SIDE_UPSTREAM, up_l, up_r));
  std::string up_path = k == 1 ? "/files/big.bin" : paths[k];
  g.data(upstream, client, NGXW_SIDE_UPSTREAM, true, up_l, up_r,
         "POST " + up_path + " HTTP/1.0\r\nHost: backend\r\nContent-Length: 2048\r\n\r\n", 1);
  bool reset = n % 10 == 0;
  ngxw_conn_event end =
      g.conn(reset ? NGXW_EV_RESET : NGXW_EV_CONN_CLOSE, upstream, NGXW_SIDE_UPSTREAM, up_l, up_r);
  end.origin = reset ? NGXW_ORIGIN_PEER : NGXW_ORIGIN_NGINX;
  end.tcp_state = reset ? 1 : 4;
  end.stats.requests = 1;
  end.stats.req_bytes_sent = 2120;
  end.stats.req_bytes_recv = reset ? 0 : 100;
  if (!reset)
    g.data(upstream, 0, NGXW_SIDE_UPSTREAM, false, up_l, up_r,
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1);
  g.push(end);
  g.data(client, 0, NGXW_SIDE_CLIENT, true, nginx_l, client_r,
         reset ? "HTTP/1.1 502 Bad Gateway\r\n\r\n" : "HTTP/1.1 200 OK\r\n\r\n", 1);
  ngxw_conn_event cclose = g.conn(NGXW_EV_CONN_CLOSE, client, NGXW_SIDE_CLIENT, nginx_l, client_r);
  cclose.tcp_state = 8;
  cclose.origin = NGXW_ORIGIN_PEER;
  g.push(cclose);
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 1'000'000;
  std::string write_to;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--write" && i + 1 < argc)
      write_to = argv[++i];
    else
      events = std::stoul(a);
  }
  Gen g;
  for (uint64_t n = 0; g.records.size() < events; ++n) one_exchange(g, n);
  g.records.resize(events);

  NginxConfigView view(std::make_shared<nginx::Config>(nginx::load_from_dump(kConfig)));
  SingleConfig configs(&view);
  Summary summary;
  Correlator correlator(&configs, &summary);
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& r : g.records) {
    DecodeResult d = decode_event(r);
    if (d.ok) correlator.on_event(d.event);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t failures = 0;
  for (const auto& [k, row] : summary.failures()) failures += row.count;
  std::printf(
      "replayed %zu events in %.3f s on one core: %.0f events/s (%llu failures attributed, "
      "%zu connections left in the table)\n",
      events, secs, events / secs, static_cast<unsigned long long>(failures),
      correlator.connections());
  if (!write_to.empty()) {
    TraceSnapshot snap;
    snap.configs[1] = kConfig;
    TraceWriter w(write_to, snap);
    for (const auto& r : g.records) w.write(r);
    if (!w.close()) {
      std::fprintf(stderr, "%s\n", w.error().c_str());
      return 1;
    }
    std::printf("wrote %s\n", write_to.c_str());
  }
  return 0;
}
