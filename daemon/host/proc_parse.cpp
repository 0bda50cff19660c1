#include "host/proc_parse.h"

#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <sstream>

namespace ngxwatch {

namespace {

std::string nul_to_space(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\0') c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

template <typename T>
bool parse_hex(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "0100007F:1F90" as printed by the kernel: the address words in host order.
bool parse_hex_endpoint(std::string_view field, int family, ngxw_endpoint& ep) {
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view addr = field.substr(0, colon);
  size_t words = family == AF_INET ? 1 : 4;
  if (addr.size() != words * 8) return false;
  for (size_t i = 0; i < words; ++i) {
    uint32_t w;
    if (!parse_hex(addr.substr(i * 8, 8), w)) return false;
    std::memcpy(ep.addr + i * 4, &w, 4);
  }
  uint16_t port;
  if (!parse_hex(field.substr(colon + 1), port)) return false;
  ep.port = port;
  ep.family = static_cast<uint16_t>(family);
  return true;
}

}  // namespace

NginxRole classify_nginx_cmdline(std::string_view raw) {
  std::string cmd = nul_to_space(raw);
  if (cmd.find("master process") != std::string::npos) return NginxRole::kMaster;
  if (cmd.find("is shutting down") != std::string::npos) return NginxRole::kShuttingDown;
  if (cmd.find("worker process") != std::string::npos) return NginxRole::kWorker;
  if (cmd.find("cache manager") != std::string::npos ||
      cmd.find("cache loader") != std::string::npos)
    return NginxRole::kHelper;
  return NginxRole::kSingle;  // master_process off, or a title not set yet
}

MasterArgs parse_master_args(std::string_view raw) {
  std::string cmd = nul_to_space(raw);
  const std::string marker = "master process ";
  size_t at = cmd.find(marker);
  std::istringstream in(at == std::string::npos ? cmd : cmd.substr(at + marker.size()));
  MasterArgs args;
  std::string tok;
  bool first = true;
  while (in >> tok) {
    if (first) {
      args.binary = tok;
      first = false;
    } else if ((tok == "-c" || tok == "-p") && in) {
      std::string value;
      in >> value;
      (tok == "-c" ? args.conf_path : args.prefix) = value;
    }
  }
  return args;
}

std::optional<int> parse_stat_ppid(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream in(std::string(stat.substr(close + 1)));
  std::string state;
  int ppid;
  if (!(in >> state >> ppid)) return std::nullopt;
  return ppid;
}

std::optional<uint64_t> parse_socket_link(std::string_view target) {
  const std::string_view prefix = "socket:[";
  if (target.substr(0, prefix.size()) != prefix || target.back() != ']') return std::nullopt;
  std::string_view digits = target.substr(prefix.size(), target.size() - prefix.size() - 1);
  uint64_t inode;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return inode;
}

std::vector<SocketRow> parse_proc_net_tcp(std::string_view text, int family) {
  std::vector<SocketRow> rows;
  std::istringstream in{std::string(text)};
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode))
      continue;
    SocketRow row;
    unsigned state;
    if (!parse_hex_endpoint(local, family, row.local) ||
        !parse_hex_endpoint(remote, family, row.remote) || !parse_hex(std::string_view(st), state))
      continue;
    row.state = state;
    auto r = std::from_chars(inode.data(), inode.data() + inode.size(), row.inode);
    if (r.ec != std::errc()) continue;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace ngxwatch
