// Fuzzes `top`'s reader of the daemon's snapshot reply (whatever listens on the API
// socket answers it, and its strings carry captured request text): the JSON parse, the
// snapshot model, sorting, filtering and selection, and the plain-text table and
// detail lines it prints. A reply that is not a snapshot is an error line, never a
// crash.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "top/top_format.h"
#include "top/top_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch;
  std::string_view reply(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return 0;  // as TopClient::get refuses it
  std::string error;
  auto snap = parse_snapshot(j, &error);
  if (!snap) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  TopModel model;
  model.update(std::move(*snap));
  for (int width : {20, 80, 200}) {
    (void)plain_table(model, width);
    (void)header_lines(model.snapshot(), width);
  }
  for (int i = 0; i < 5; ++i) {
    model.cycle_sort();
    model.move(i % 2 ? 3 : -1);
    if (const TopRow* row = model.selected()) (void)detail_lines(*row, 80);
  }
  model.set_filter("app");
  (void)plain_table(model, 80);
  return 0;
}
