#include "source/load_log.h"

namespace ngxwatch {

namespace {

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string program_named_in(const std::string& line) {
  size_t p = line.find("prog '");
  if (p == std::string::npos) return "";
  p += 6;
  size_t q = line.find('\'', p);
  return q == std::string::npos ? "" : line.substr(p, q - p);
}

void LoadLog::add(const std::string& line) {
  // libbpf prints a verifier log as one message with embedded newlines.
  size_t start = 0;
  while (start <= line.size()) {
    size_t nl = line.find('\n', start);
    std::string one = line.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (one.rfind("libbpf: ", 0) == 0) one = one.substr(8);
    if (!trimmed(one).empty()) lines_.push_back(one);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

LoadFailure LoadLog::failure(size_t lines) const {
  LoadFailure f;
  bool in_log = false;
  std::vector<std::string> log;
  for (const std::string& l : lines_) {
    if (contains(l, "-- BEGIN PROG LOAD LOG --")) {
      in_log = f.program.empty() || program_named_in(l) == f.program;
      if (f.program.empty()) f.program = program_named_in(l);
      if (in_log) log.clear();
      continue;
    }
    if (contains(l, "-- END PROG LOAD LOG --")) {
      if (in_log && !log.empty()) break;
      in_log = false;
      continue;
    }
    if (in_log && (contains(l, "failed to load") || contains(l, "load failed"))) {
      in_log = false;  // the END marker was lost; the log ended here all the same
      if (!log.empty()) break;
    }
    if (in_log) {
      // libbpf notes how many instructions the verifier went through; keep the cause.
      if (!contains(l, "processed ") || contains(l, "too large")) log.push_back(trimmed(l));
      continue;
    }
    if (f.program.empty() && (contains(l, "failed to load") || contains(l, "load failed")))
      f.program = program_named_in(l);
  }
  size_t from = log.size() > lines ? log.size() - lines : 0;
  f.verifier_tail.assign(log.begin() + static_cast<long>(from), log.end());
  return f;
}

std::string one_line(const LoadFailure& f) {
  std::string out;
  for (const std::string& l : f.verifier_tail) {
    if (!out.empty()) out += "; ";
    out += l;
  }
  return out;
}

}  // namespace ngxwatch
