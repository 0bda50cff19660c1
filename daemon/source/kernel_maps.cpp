#include "source/kernel_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <numeric>

namespace ngxwatch {

namespace {

uint64_t sum_percpu(int fd, const void* key) {
  static const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> values(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
  if (bpf_map_lookup_elem(fd, key, values.data()) != 0) return 0;
  return std::accumulate(values.begin(), values.end(), uint64_t{0});
}

}  // namespace

bool ResetKeyLess::operator()(const ngxw_reset_key& a, const ngxw_reset_key& b) const {
  return std::memcmp(&a, &b, sizeof(a)) < 0;
}

uint64_t KernelMaps::counter(ngxw_counter idx) const {
  uint32_t key = idx;
  return sum_percpu(counters_, &key);
}

ResetKeyCounts KernelMaps::read_keyed(int fd) const {
  ResetKeyCounts out;
  ngxw_reset_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    out[next] = sum_percpu(fd, &next);
    key = next;
    prev = &key;
  }
  return out;
}

uint64_t KernelMaps::conn_entries() const {
  uint64_t n = 0, key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(conns_, prev, &next) == 0) {
    ++n;
    key = next;
    prev = &key;
  }
  return n;
}

uint64_t KernelMaps::conn_evictions() const {
  // Read before the walk: an insert during it makes the figure low for one scrape, never
  // high (the caller keeps the counter monotonic).
  uint64_t gone = counter(NGXW_CTR_CONNS_TRACKED) - counter(NGXW_CTR_CONNS_REPLACED) -
                  counter(NGXW_CTR_CONNS_DELETED);
  uint64_t held = conn_entries();
  return gone > held ? gone - held : 0;
}

std::set<uint32_t> KernelMaps::nginx_pids() const {
  std::set<uint32_t> out;
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(nginx_pids_, prev, &next) == 0) {
    out.insert(next);
    key = next;
    prev = &key;
  }
  return out;
}

void KernelMaps::add_nginx_pid(uint32_t pid, uint32_t parent) {
  // BPF_NOEXIST: an entry the kernel already has carries its live cur_client.
  ngxw_proc_info info{};
  info.parent = parent;
  bpf_map_update_elem(nginx_pids_, &pid, &info, BPF_NOEXIST);
}

void KernelMaps::remove_nginx_pid(uint32_t pid) { bpf_map_delete_elem(nginx_pids_, &pid); }

void KernelMaps::add_listener(const ngxw_listen_key& key, uint32_t owner) {
  bpf_map_update_elem(listeners_, &key, &owner, BPF_ANY);
}

void KernelMaps::add_seed(const ngxw_tuple_key& key, const ngxw_seed& seed) {
  bpf_map_update_elem(seeds_, &key, &seed, BPF_NOEXIST);
}

}  // namespace ngxwatch
