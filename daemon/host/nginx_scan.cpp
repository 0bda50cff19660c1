#include "host/nginx_scan.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include <mutex>

#include "common/file_read.h"
#include "nginx/binary_info.h"

namespace ngxwatch {

namespace {

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (!d) return names;
  while (dirent* ent = ::readdir(d)) {
    if (ent->d_name[0] != '.') names.emplace_back(ent->d_name);
  }
  ::closedir(d);
  return names;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint32_t netns_inode(const std::string& proc_root, int pid) {
  struct stat st;
  std::string path = proc_root + "/" + std::to_string(pid) + "/ns/net";
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

bool same_addr(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, 16) == 0; }

bool is_zero(const uint8_t* a) {
  static const uint8_t zero[16] = {};
  return same_addr(a, zero);
}

// Anyone can name a program nginx or call prctl(PR_SET_NAME, "nginx"): a process is
// nginx only if its executable is (nginx/binary_info.h). Each lookalike is logged once
// while it lives; the tracker then drops it from the kernel filter like an exited pid.
class Lookalikes {
 public:
  bool genuine(int pid, const std::string& dir) {
    nginx::BinaryInfo info = nginx::cached_binary_info(dir + "/exe");
    std::lock_guard lock(mu_);
    seen_.insert(pid);
    if (info.is_nginx) return true;
    if (logged_.insert(pid).second)
      spdlog::warn("process {} ignored: its name says nginx but {}", pid, info.why);
    return false;
  }
  // Forgets pids that are gone, so a reused pid is judged (and logged) afresh.
  void end_scan() {
    std::lock_guard lock(mu_);
    std::erase_if(logged_, [this](int pid) { return !seen_.count(pid); });
    seen_.clear();
  }

 private:
  std::mutex mu_;
  std::set<int> logged_, seen_;
};

Lookalikes& lookalikes() {
  static Lookalikes l;
  return l;
}

}  // namespace

bool is_nginx_comm(const std::string& comm) { return comm.rfind("nginx", 0) == 0; }

int NginxSnapshot::active_workers() const {
  return static_cast<int>(std::count_if(processes.begin(), processes.end(), [](const auto& p) {
    return p.role == NginxRole::kWorker || p.role == NginxRole::kSingle;
  }));
}

std::vector<int> NginxSnapshot::masters() const {
  std::set<int> m;
  for (const auto& p : processes) m.insert(p.master);
  return {m.begin(), m.end()};
}

NginxSnapshot scan_nginx_processes(const std::string& proc_root) {
  NginxSnapshot snap;
  for (const auto& name : list_dir(proc_root)) {
    if (!all_digits(name)) continue;
    std::string dir = proc_root + "/" + name;
    auto comm = read_file(dir + "/comm");
    if (!comm) continue;
    if (!comm->empty() && comm->back() == '\n') comm->pop_back();
    if (!is_nginx_comm(*comm)) continue;
    if (!lookalikes().genuine(std::stoi(name), dir)) continue;
    auto stat = read_file(dir + "/stat");
    auto cmdline = read_file(dir + "/cmdline");
    if (!stat || !cmdline) continue;  // exited while we looked
    NginxProcess p;
    p.pid = std::stoi(name);
    p.ppid = parse_stat_ppid(*stat).value_or(0);
    p.role = classify_nginx_cmdline(*cmdline);
    p.netns = netns_inode(proc_root, p.pid);
    p.cmdline = *cmdline;
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    snap.processes.push_back(std::move(p));
  }
  lookalikes().end_scan();
  std::map<int, int> parent;
  for (const auto& p : snap.processes) parent[p.pid] = p.ppid;
  for (auto& p : snap.processes) {
    int cur = p.pid;
    for (int hops = 0; hops < 64 && parent.count(parent[cur]); ++hops) cur = parent[cur];
    p.master = cur;
  }
  return snap;
}

NginxSockets scan_nginx_sockets(const NginxSnapshot& snap, const std::string& proc_root) {
  NginxSockets out;
  std::map<uint64_t, int> owner;  // socket inode -> pid holding it
  std::map<uint32_t, int> netns_reader;
  for (const auto& p : snap.processes) {
    std::string fd_dir = proc_root + "/" + std::to_string(p.pid) + "/fd";
    for (const auto& fd : list_dir(fd_dir)) {
      auto target = read_link(fd_dir + "/" + fd);
      if (!target) continue;
      if (auto inode = parse_socket_link(*target)) owner.emplace(*inode, p.pid);
    }
    netns_reader.emplace(p.netns, p.pid);
  }

  std::vector<std::pair<uint32_t, SocketRow>> rows;
  for (const auto& [netns, pid] : netns_reader) {
    for (int family : {AF_INET, AF_INET6}) {
      std::string file = family == AF_INET ? "tcp" : "tcp6";
      auto text = read_file(proc_root + "/" + std::to_string(pid) + "/net/" + file);
      if (!text) continue;
      for (const auto& row : parse_proc_net_tcp(*text, family)) rows.emplace_back(netns, row);
    }
  }

  for (const auto& [netns, row] : rows) {
    if (row.state != 10 /* LISTEN */ || !owner.count(row.inode)) continue;
    ngxw_listen_key k{};
    k.netns = netns;
    k.port = row.local.port;
    k.family = row.local.family;
    std::memcpy(k.addr, row.local.addr, 16);
    out.listeners.push_back(k);
  }
  auto is_listening = [&](uint32_t netns, const ngxw_endpoint& local) {
    return std::any_of(out.listeners.begin(), out.listeners.end(), [&](const ngxw_listen_key& l) {
      return l.netns == netns && l.port == local.port &&
             (is_zero(l.addr) || same_addr(l.addr, local.addr));
    });
  };
  for (const auto& [netns, row] : rows) {
    if (row.state == 10 || row.state == 6 /* TIME_WAIT */) continue;
    auto it = owner.find(row.inode);
    if (it == owner.end()) continue;
    ngxw_tuple_key t{};
    t.netns = netns;
    t.lport = row.local.port;
    t.rport = row.remote.port;
    t.family = row.local.family;
    std::memcpy(t.laddr, row.local.addr, 16);
    std::memcpy(t.raddr, row.remote.addr, 16);
    ngxw_seed s{};
    s.tgid = static_cast<uint32_t>(it->second);
    s.side = is_listening(netns, row.local) ? NGXW_SIDE_CLIENT : NGXW_SIDE_UPSTREAM;
    out.connections.emplace_back(t, s);
  }
  return out;
}

}  // namespace ngxwatch
