// One of the daemon's BPF objects (bpf/<name>.bpf.c), opened from the ELF bytes its
// skeleton embeds, loaded with the maps it shares with the others, attached program
// by program. RAII: links and the object go away with it on every exit path.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "source/load_log.h"

struct bpf_object;
struct bpf_program;
struct bpf_link;

namespace ngxwatch {

// The ELF bytes of an object, as `<skeleton>::elf_bytes` returns them.
using ElfBytesFn = const void* (*)(size_t*);

// Maps the objects share, by name: created by the first object that has them, reused
// (bpf_map__reuse_fd) by every later one. Owns the fds.
class SharedMaps {
 public:
  SharedMaps() = default;
  SharedMaps(const SharedMaps&) = delete;
  SharedMaps& operator=(const SharedMaps&) = delete;
  ~SharedMaps();
  int fd(const std::string& name) const;
  void adopt(const std::string& name, int fd);  // dups fd

 private:
  std::map<std::string, int> fds_;
};

class BpfObject {
 public:
  // Opens `name`; nullptr and *error on a malformed object (a build problem).
  static std::unique_ptr<BpfObject> open(const std::string& name, ElfBytesFn elf,
                                         std::string* error);
  ~BpfObject();
  BpfObject(const BpfObject&) = delete;
  BpfObject& operator=(const BpfObject&) = delete;

  const std::string& name() const { return name_; }
  bool has_program(const std::string& prog) const;
  // Loads only the programs in `enabled` (all others off).
  void enable_only(const std::set<std::string>& enabled);
  // A `const volatile` global of the object's .rodata, before load. False if absent.
  bool set_rodata_u32(const std::string& var, unsigned value);
  void set_map_size(const std::string& map, unsigned max_entries);

  // Loads with the shared maps; on success registers the maps it created. On failure
  // returns false with *failure naming the rejected program and the verifier's words.
  bool load(SharedMaps& shared, LoadFailure* failure, std::string* error);
  // Attaches one program (auto-attach from its SEC name); "" or the error.
  std::string attach(const std::string& prog);
  // Attaches a kretprobe program to kernel function `func` with room for `maxactive`
  // calls in flight (see the .cpp for why libbpf's default is not enough); "" or the error.
  std::string attach_kretprobe(const std::string& prog, const std::string& func, int maxactive);
  // Attaches a uprobe program to `binary`'s function; "" or the error.
  std::string attach_uprobe(const std::string& prog, const std::string& binary,
                            const std::string& func, bool retprobe);
  // Names of the programs this object loaded.
  std::vector<std::string> loaded_programs() const;
  // The kernel's figures of a loaded program (bpf_prog_info).
  struct Stats {
    unsigned verified_insns = 0;
    uint64_t run_time_ns = 0, run_cnt = 0;
  };
  Stats stats(const std::string& prog) const;

 private:
  BpfObject(std::string name, bpf_object* obj) : name_(std::move(name)), obj_(obj) {}
  bpf_program* program(const std::string& prog) const;
  std::string name_;
  bpf_object* obj_;
  std::vector<bpf_link*> links_;
  std::vector<std::string> kprobe_events_;  // tracefs kprobe events it defined
};

}  // namespace ngxwatch
