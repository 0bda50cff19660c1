#include "source/trace_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ngxwatch/events.h"

namespace ngxwatch {

namespace {

constexpr char kMagic[8] = {'N', 'G', 'X', 'W', 'T', 'R', 'C', '3'};
constexpr char kMagicV2[8] = {'N', 'G', 'X', 'W', 'T', 'R', 'C', '2'};
constexpr char kMagicV1[8] = {'N', 'G', 'X', 'W', 'T', 'R', 'C', '1'};
constexpr uint32_t kMaxMasters = 1024;
constexpr uint32_t kMaxProcesses = 1u << 20;
constexpr uint32_t kMaxRecord = 1u << 16;   // far above any event size
constexpr uint32_t kMaxConfig = 64u << 20;  // an nginx -T dump of a huge config

void put_u32(std::FILE* f, uint32_t v) { std::fwrite(&v, sizeof(v), 1, f); }

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void write_header(std::FILE* f, const TraceSnapshot& snapshot, int64_t wall_offset_ns) {
  std::fwrite(kMagic, sizeof(kMagic), 1, f);
  put_u32(f, NGXW_EVENT_VERSION);
  std::fwrite(&wall_offset_ns, sizeof(wall_offset_ns), 1, f);
  put_u32(f, static_cast<uint32_t>(snapshot.configs.size()));
  for (const auto& [master, text] : snapshot.configs) {
    put_u32(f, master);
    put_u32(f, static_cast<uint32_t>(text.size()));
    std::fwrite(text.data(), 1, text.size(), f);
  }
  put_u32(f, static_cast<uint32_t>(snapshot.masters.size()));
  for (const auto& [pid, master] : snapshot.masters) {
    put_u32(f, pid);
    put_u32(f, master);
  }
}

}  // namespace

TraceWriter::TraceWriter(const std::string& path, const TraceSnapshot& snapshot)
    : path_(path),
      buffer_(1 << 20),
      snapshot_(snapshot),
      wall_offset_ns_(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC)) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) {
    error_ = path + ": " + std::strerror(errno);
    return;
  }
  std::setvbuf(f_, buffer_.data(), _IOFBF, buffer_.size());
  write_header(f_, snapshot, wall_offset_ns_);
  header_end_ = std::ftell(f_);
}

TraceWriter::~TraceWriter() { close(); }

void TraceWriter::write(std::span<const uint8_t> record) {
  if (!f_) return;
  put_u32(f_, static_cast<uint32_t>(record.size()));
  std::fwrite(record.data(), 1, record.size(), f_);
  ++records_;
}

bool TraceWriter::close() {
  if (!f_) return error_.empty();
  if (std::ferror(f_) && error_.empty()) error_ = path_ + ": write failed";
  if (std::fclose(f_) != 0 && error_.empty()) error_ = path_ + ": " + std::strerror(errno);
  f_ = nullptr;
  return error_.empty();
}

bool TraceWriter::close(const TraceSnapshot& final_snapshot) {
  if (!close()) return false;
  if (final_snapshot == snapshot_) return true;
  // Masters that started (or reloaded) while recording: the header is rewritten with
  // every config seen, the records copied behind it once.
  std::string tmp = path_ + ".tmp";
  std::FILE* in = std::fopen(path_.c_str(), "rb");
  std::FILE* out = in ? std::fopen(tmp.c_str(), "wb") : nullptr;
  bool ok = in && out && std::fseek(in, header_end_, SEEK_SET) == 0;
  if (ok) {
    write_header(out, final_snapshot, wall_offset_ns_);
    std::vector<char> chunk(1 << 20);
    size_t n;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), in)) > 0)
      if (std::fwrite(chunk.data(), 1, n, out) != n) ok = false;
    ok = ok && !std::ferror(in);
  }
  if (in) std::fclose(in);
  if (out && std::fclose(out) != 0) ok = false;
  if (ok && std::rename(tmp.c_str(), path_.c_str()) == 0) return true;
  std::remove(tmp.c_str());
  error_ = path_ +
           ": could not add the configs of masters seen while recording: " + std::strerror(errno);
  return false;
}

std::string read_trace_bytes(std::span<const uint8_t> bytes, const std::string& name,
                             TraceHeader& header,
                             const std::function<void(std::span<const uint8_t>)>& on_record) {
  size_t pos = 0;
  auto fail = [&](const std::string& what) {
    return name + ": offset " + std::to_string(pos) + ": " + what;
  };
  auto u32 = [&](uint32_t& v) {
    if (bytes.size() - pos < 4) return false;
    std::memcpy(&v, bytes.data() + pos, 4);
    pos += 4;
    return true;
  };
  auto magic = [&](const char(&m)[8]) {
    return bytes.size() >= sizeof(m) && std::memcmp(bytes.data(), m, sizeof(m)) == 0;
  };
  bool v1 = magic(kMagicV1);
  bool v3 = magic(kMagic);
  if (!v1 && !v3 && !magic(kMagicV2)) return fail("not an ngxwatch trace (bad magic)");
  pos = sizeof(kMagic);
  if (!u32(header.event_version)) return fail("truncated header");
  if (header.event_version != NGXW_EVENT_VERSION)
    return fail("event version " + std::to_string(header.event_version) + ", this build reads " +
                std::to_string(NGXW_EVENT_VERSION));
  if (v3) {
    int64_t offset = 0;
    if (bytes.size() - pos < sizeof(offset)) return fail("truncated header");
    std::memcpy(&offset, bytes.data() + pos, sizeof(offset));
    pos += sizeof(offset);
    header.wall_offset_ns = offset;
  }
  auto text = [&](std::string& out) -> std::string {
    uint32_t len = 0;
    if (!u32(len)) return "truncated header";
    if (len > kMaxConfig || len > bytes.size() - pos)
      return "config snapshot length " + std::to_string(len) + " exceeds the file";
    out.assign(reinterpret_cast<const char*>(bytes.data() + pos), len);
    pos += len;
    return "";
  };
  if (v1) {
    std::string one;
    if (auto e = text(one); !e.empty()) return fail(e);
    if (!one.empty()) header.snapshot.configs[0] = one;
  } else {
    uint32_t masters = 0, processes = 0;
    if (!u32(masters) || masters > kMaxMasters) return fail("invalid number of masters");
    for (uint32_t i = 0; i < masters; ++i) {
      uint32_t pid = 0;
      if (!u32(pid)) return fail("truncated header");
      if (auto e = text(header.snapshot.configs[pid]); !e.empty()) return fail(e);
    }
    if (!u32(processes) || processes > kMaxProcesses || processes > (bytes.size() - pos) / 8)
      return fail("invalid number of processes");
    for (uint32_t i = 0; i < processes; ++i) {
      uint32_t pid = 0, master = 0;
      u32(pid);
      u32(master);
      header.snapshot.masters[pid] = master;
    }
  }
  if (!header.snapshot.configs.empty())
    header.config_text = header.snapshot.configs.begin()->second;
  while (pos < bytes.size()) {
    uint32_t len = 0;
    if (!u32(len)) return fail("truncated record length");
    if (len == 0 || len > kMaxRecord || len > bytes.size() - pos)
      return fail("record length " + std::to_string(len) + " is invalid");
    on_record(bytes.subspan(pos, len));
    pos += len;
  }
  return "";
}

std::string read_trace(const std::string& path, TraceHeader& header,
                       const std::function<void(std::span<const uint8_t>)>& on_record) {
  // Mapped, not read: a trace of millions of events is hundreds of MB.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": " + std::strerror(errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return path + ": not a regular file";
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  ::close(fd);
  if (size && map == MAP_FAILED) return path + ": " + std::strerror(errno);
  if (map) ::madvise(map, size, MADV_SEQUENTIAL);
  std::string err = read_trace_bytes(
      std::span<const uint8_t>(static_cast<const uint8_t*>(map), size), path, header, on_record);
  if (map) ::munmap(map, size);
  return err;
}

}  // namespace ngxwatch
