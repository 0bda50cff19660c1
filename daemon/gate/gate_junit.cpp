#include "gate/gate_junit.h"

#include <sstream>

#include "correlate/http_head.h"
#include "gate/gate_output.h"

namespace ngxwatch::gate {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
size_t utf8_length(const std::string& s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  if (n == 2 && b < 0xc2) return 0;  // overlong
  return n;
}

// "METHOD TARGET": the target's query string redacted (idempotent on redacted lines).
std::string redact_request(const std::string& line) {
  size_t sp = line.find(' ');
  if (sp == std::string::npos) return redact_target(line);
  return line.substr(0, sp + 1) + redact_target(line.substr(sp + 1));
}

std::string failure_text(const LocationReport& l) {
  std::ostringstream out;
  for (const auto& f : l.failures)
    out << (f.upstream.empty() ? "-" : f.upstream) << " " << f.cause << ": " << f.count << " in "
        << f.phase << "\n  e.g. " << redact_request(f.request) << ": " << f.evidence << "\n";
  for (const auto& [status, n] : l.client_errors)
    out << "client got " << status << ": " << n << "\n";
  return out.str();
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    char c = s[i];
    if (n == 1) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        default:
          // Other C0 controls cannot appear in XML 1.0 at all, not even escaped.
          if ((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) || c == '\n' || c == '\t')
            out += c;
      }
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

std::string format_junit(const GateReport& r, const Thresholds& t,
                         const std::vector<std::string>& run_reasons) {
  bool over_client_limit = r.client_error_total() > t.max_client_errors;
  std::ostringstream cases;
  size_t tests = 1, failures = 0;
  std::string load = command_line(r.load_command);
  cases << "    <testcase classname=\"load\" name=\"" << xml_escape(load) << "\" time=\""
        << r.load_seconds << "\">\n";
  if (r.load_status != 0) {
    ++failures;
    cases << "      <failure message=\"the load command exited " << r.load_status
          << "\" type=\"load_status\"/>\n";
  }
  cases << "    </testcase>\n";
  for (const auto& l : r.locations) {
    ++tests;
    std::vector<std::string> why = location_reasons(l, t, over_client_limit);
    cases << "    <testcase classname=\"" << xml_escape(l.server.empty() ? "-" : l.server)
          << "\" name=\"" << xml_escape(l.location.empty() ? "-" : l.location)
          << "\" time=\"0\">\n";
    if (!why.empty()) {
      ++failures;
      std::string message;
      for (const auto& w : why) message += (message.empty() ? "" : "; ") + w;
      cases << "      <failure message=\"" << xml_escape(message) << "\" type=\""
            << xml_escape(l.failures.empty() ? "client_visible" : l.failures.front().cause) << "\">"
            << xml_escape(failure_text(l)) << "</failure>\n";
    }
    cases << "      <system-out>"
          << xml_escape((l.requests ? std::to_string(*l.requests) : std::string("?")) +
                        " requests, " + std::to_string(l.client_error_total()) +
                        " client-visible errors, " + std::to_string(l.resets) + " resets\n" +
                        failure_text(l))
          << "</system-out>\n";
    cases << "    </testcase>\n";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"ngxwatch gate\" tests=\"" << tests << "\" failures=\"" << failures
      << "\">\n"
      << "  <testsuite name=\"ngxwatch gate\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" time=\"" << r.load_seconds << "\">\n";
  if (!run_reasons.empty()) {
    std::string all;
    for (const auto& w : run_reasons) all += w + "\n";
    out << "    <properties><property name=\"verdict\" value=\"" << xml_escape(all)
        << "\"/></properties>\n";
  }
  out << cases.str() << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

}  // namespace ngxwatch::gate
