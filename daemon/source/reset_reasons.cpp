#include "source/reset_reasons.h"

#include <charconv>

#include "ngxwatch/events.h"

namespace ngxwatch {

std::map<unsigned, std::string> parse_print_symbolic(std::string_view format,
                                                     std::string_view field) {
  std::map<unsigned, std::string> out;
  std::string needle = "__print_symbolic(REC->" + std::string(field) + ",";
  size_t pos = format.find(needle);
  if (pos == std::string_view::npos) return out;
  pos += needle.size();
  // Entries look like `{ 12, "TCP_ABORT_ON_LINGER" }`; the table ends at the `)`.
  while (pos < format.size()) {
    size_t open = format.find_first_of("{)", pos);
    if (open == std::string_view::npos || format[open] == ')') break;
    size_t comma = format.find(',', open);
    size_t q1 = format.find('"', comma == std::string_view::npos ? open : comma);
    size_t q2 = q1 == std::string_view::npos ? q1 : format.find('"', q1 + 1);
    size_t close = q2 == std::string_view::npos ? q2 : format.find('}', q2);
    if (comma == std::string_view::npos || close == std::string_view::npos) break;
    std::string_view num = format.substr(open + 1, comma - open - 1);
    while (!num.empty() && num.front() == ' ') num.remove_prefix(1);
    unsigned value;
    auto r = std::from_chars(num.data(), num.data() + num.size(), value);
    if (r.ec == std::errc()) out[value] = std::string(format.substr(q1 + 1, q2 - q1 - 1));
    pos = close + 1;
  }
  return out;
}

std::string ResetReasons::name(unsigned reason) const {
  if (reason == NGXW_REASON_NONE) return "";
  auto it = names_.find(reason);
  return it != names_.end() ? it->second : "reason_" + std::to_string(reason);
}

}  // namespace ngxwatch
