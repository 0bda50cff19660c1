// Label decoding behind one small interface (the ebpf_exporter pattern): each label the
// kernel's numbers become has its own decoder, tested on its own. A reset event and the
// kernel's per-key reset counters decode through the same decoders, so the labels of
// attributed resets and of those counted without their event always agree.
#pragma once

#include <string>
#include <vector>

#include "ngxwatch/events.h"

namespace ngxwatch {

// What the kernel says about one reset, whether from an event or a counter's key.
struct RawResetLabels {
  unsigned side = 0;
  unsigned origin = 0;
  ngxw_endpoint peer{};  // the remote end of the socket
};
RawResetLabels raw_labels(const ngxw_conn_event& e);
RawResetLabels raw_labels(const ngxw_reset_key& k);

class LabelDecoder {
 public:
  virtual ~LabelDecoder() = default;
  virtual const char* name() const = 0;  // the Prometheus label name
  virtual std::string decode(const RawResetLabels& raw) const = 0;
};

const LabelDecoder& side_decoder();    // "upstream" | "client" | "unknown"
const LabelDecoder& origin_decoder();  // "peer" | "nginx" | ""
// The upstream's "IP:PORT"; "" on the client side: client addresses are never labels.
const LabelDecoder& peer_decoder();

}  // namespace ngxwatch
