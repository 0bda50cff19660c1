#include "correlate/reset_labels.h"

#include "correlate/label_decoder.h"

namespace ngxwatch {

namespace {

ResetLabels decode(const RawResetLabels& raw) {
  return {side_decoder().decode(raw), origin_decoder().decode(raw), peer_decoder().decode(raw)};
}

}  // namespace

ResetLabels reset_labels(const ngxw_conn_event& e) { return decode(raw_labels(e)); }

ResetLabels reset_labels(const ngxw_reset_key& k) { return decode(raw_labels(k)); }

}  // namespace ngxwatch
