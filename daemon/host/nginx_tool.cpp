#include "host/nginx_tool.h"

#include "host/run_process.h"
#include "nginx/binary_info.h"

namespace ngxwatch::nginx {

namespace {

// nginx reports failures on stderr as "nginx: [emerg] message in file:line"; pick the
// most severe line so callers can show exactly what nginx said.
std::string error_line(const std::string& err) {
  // [emerg] first: run unprivileged, nginx may also [alert] that it cannot open its
  // default error log, which is not why the test failed.
  if (size_t at = err.find("[emerg]"); at != std::string::npos) {
    size_t bol = err.rfind('\n', at);
    bol = bol == std::string::npos ? 0 : bol + 1;
    return err.substr(bol, err.find('\n', at) - bol);
  }
  std::string fallback;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t eol = err.find('\n', pos);
    if (eol == std::string::npos) eol = err.size();
    std::string line = err.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.find("[emerg]") != std::string::npos || line.find("[alert]") != std::string::npos ||
        line.find("[crit]") != std::string::npos) {
      return line;
    }
    if (!line.empty() && line.find("test failed") == std::string::npos) fallback = line;
  }
  return fallback;
}

}  // namespace

NginxTResult run_nginx_T(const std::string& binary, const std::string& conf,
                         const std::string& prefix, const std::vector<std::string>& globals) {
  std::vector<std::string> argv = {binary, "-T", "-q", "-c", conf};
  for (const std::string& g : globals) {
    argv.push_back("-g");
    argv.push_back(g);
  }
  if (!prefix.empty()) {
    argv.push_back("-p");
    argv.push_back(prefix);
  }
  ProcessResult p = run_process(argv);
  NginxTResult r;
  if (!p.started) {
    r.error = p.err;
  } else if (p.timed_out) {
    r.error = binary + " -T timed out";
  } else if (p.exit_status != 0) {
    r.error = error_line(p.err);
    if (r.error.empty())
      r.error = binary + " -T exited with status " + std::to_string(p.exit_status);
  } else {
    r.ok = true;
    r.text = std::move(p.out);
  }
  return r;
}

BuildInfo build_info_of(const std::string& binary) { return read_binary_info(binary).build; }

}  // namespace ngxwatch::nginx
