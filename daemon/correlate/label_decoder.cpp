#include "correlate/label_decoder.h"

#include <cstring>

#include "common/net_format.h"

namespace ngxwatch {

namespace {

const char* side_text(unsigned side) {
  switch (side) {
    case NGXW_SIDE_UPSTREAM:
      return "upstream";
    case NGXW_SIDE_CLIENT:
      return "client";
    default:
      return "unknown";
  }
}

const char* origin_text(unsigned origin) {
  switch (origin) {
    case NGXW_ORIGIN_PEER:
      return "peer";
    case NGXW_ORIGIN_NGINX:
      return "nginx";
    default:
      return "";
  }
}

class SideDecoder : public LabelDecoder {
 public:
  const char* name() const override { return "side"; }
  std::string decode(const RawResetLabels& raw) const override { return side_text(raw.side); }
};

class OriginDecoder : public LabelDecoder {
 public:
  const char* name() const override { return "origin"; }
  std::string decode(const RawResetLabels& raw) const override { return origin_text(raw.origin); }
};

class PeerDecoder : public LabelDecoder {
 public:
  const char* name() const override { return "peer"; }
  std::string decode(const RawResetLabels& raw) const override {
    return raw.side == NGXW_SIDE_UPSTREAM ? format_endpoint(raw.peer) : "";
  }
};

}  // namespace

RawResetLabels raw_labels(const ngxw_conn_event& e) { return {e.side, e.origin, e.remote}; }

RawResetLabels raw_labels(const ngxw_reset_key& k) {
  RawResetLabels raw{k.side, k.origin, {}};
  std::memcpy(raw.peer.addr, k.addr, sizeof(raw.peer.addr));
  raw.peer.port = k.port;
  raw.peer.family = k.family;
  return raw;
}

const LabelDecoder& side_decoder() {
  static const SideDecoder d;
  return d;
}

const LabelDecoder& origin_decoder() {
  static const OriginDecoder d;
  return d;
}

const LabelDecoder& peer_decoder() {
  static const PeerDecoder d;
  return d;
}

}  // namespace ngxwatch
