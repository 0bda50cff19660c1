#include "advise/upload_location.h"

#include <array>
#include <cctype>
#include <string_view>

#include "nginx/units.h"

namespace ngxwatch::advise {

namespace {

// Word prefixes, so "uploads", "files" and "attachments" match but "profiles" does not.
constexpr std::array<std::string_view, 10> kUploadWords = {
    "upload", "file", "media",  "import", "attachment",
    "ingest", "blob", "backup", "video",  "asset"};

bool name_suggests_upload(const std::string& name) {
  std::string word;
  auto check = [&word]() {
    for (std::string_view w : kUploadWords) {
      if (word.compare(0, w.size(), w) == 0) return true;
    }
    return false;
  };
  for (size_t i = 0; i <= name.size(); ++i) {
    char c = i < name.size() ? name[i] : '/';
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      continue;
    }
    if (!word.empty() && check()) return true;
    word.clear();
  }
  return false;
}

}  // namespace

bool upload_named(const nginx::Location& loc) { return name_suggests_upload(loc.name); }

bool is_proxied(const nginx::Location& loc) {
  if (loc.block == nullptr) return false;
  for (const nginx::Directive& d : loc.block->children) {
    if (d.name == "proxy_pass") return true;
  }
  return false;
}

std::optional<uint64_t> max_body_size(const nginx::Config& config, const nginx::Location& loc) {
  return nginx::parse_size(config.effective(loc, "client_max_body_size").value());
}

bool bodyless_methods_only(const nginx::Location& loc) {
  if (loc.block == nullptr) return false;
  for (const nginx::Directive& d : loc.block->children) {
    if (d.name != "limit_except" || d.args.empty()) continue;
    bool only_bodyless = true;
    for (const std::string& m : d.args) {
      if (m != "GET" && m != "HEAD" && m != "OPTIONS") only_bodyless = false;
    }
    if (only_bodyless) return true;
  }
  return false;
}

std::string upload_reason(const nginx::Config& config, const nginx::Location& loc,
                          uint64_t body_threshold) {
  if (!is_proxied(loc) || bodyless_methods_only(loc)) return {};
  if (name_suggests_upload(loc.name)) return "its path suggests uploads";
  nginx::EffectiveValue size = config.effective(loc, "client_max_body_size");
  std::optional<uint64_t> bytes = nginx::parse_size(size.value());
  if (bytes && (*bytes == 0 || *bytes > body_threshold)) {
    return "it allows bodies up to " + (*bytes == 0 ? std::string("any size") : size.value()) +
           " (client_max_body_size at " + size.origin() + ")";
  }
  nginx::EffectiveValue buffering = config.effective(loc, "proxy_request_buffering");
  if (buffering.value() == "off") {
    return "it streams request bodies (proxy_request_buffering off at " + buffering.origin() + ")";
  }
  return {};
}

}  // namespace ngxwatch::advise
