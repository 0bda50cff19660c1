// What libbpf said while loading one BPF object: which program the verifier rejected
// and the last lines of its log, so that one log line can name the program and why.
// Pure (fed with libbpf's print lines), unit-tested without a kernel.
#pragma once

#include <string>
#include <vector>

namespace ngxwatch {

struct LoadFailure {
  std::string program;                     // empty when no program was named
  std::vector<std::string> verifier_tail;  // last lines of its verifier log
};

class LoadLog {
 public:
  // One line as libbpf prints it ("libbpf: " prefix already stripped or not).
  void add(const std::string& line);
  // The first program whose load failed, with the tail of its log (at most `lines`).
  LoadFailure failure(size_t lines = 3) const;
  void clear() { lines_.clear(); }

 private:
  std::vector<std::string> lines_;
};

// "prog 'X': ..." -> X, or empty.
std::string program_named_in(const std::string& line);

// The tail joined into one line: "insn 51 ...; back-edge from insn 51 to 52".
std::string one_line(const LoadFailure& f);

}  // namespace ngxwatch
