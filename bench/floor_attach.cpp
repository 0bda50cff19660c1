// ngxwatch_bench_floor: loads capture_floor.bpf.o, attaches its programs and holds
// them until SIGTERM/SIGINT (bench/overhead.sh --floor). One line and exit 1 on error.
#include <bpf/libbpf.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <unistd.h>

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : FLOOR_OBJECT;
  libbpf_set_print(nullptr);
  bpf_object* obj = bpf_object__open_file(path, nullptr);
  if (!obj) {
    std::fprintf(stderr, "ngxwatch_bench_floor: cannot open %s\n", path);
    return 1;
  }
  if (int err = bpf_object__load(obj)) {
    std::fprintf(stderr, "ngxwatch_bench_floor: cannot load %s: %s\n", path, std::strerror(-err));
    return 1;
  }
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__attach(prog)) {
      std::fprintf(stderr, "ngxwatch_bench_floor: cannot attach %s: %s\n", bpf_program__name(prog),
                   std::strerror(errno));
      return 1;
    }
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  while (!stop) pause();
  bpf_object__close(obj);  // detaches (links are owned by the object's programs)
  return 0;
}
