// Fuzzes the text-level config edits `suggest` writes into real files (whose text is
// whatever the admin, or a package, wrote): every directive the parser finds is set,
// and has one inserted into, after or before it, through the public entry points only
// (apply_edits, unified_diff, rewrite_includes, redirect_runtime_files). An edit
// either lands and leaves a file that still parses, or says why it cannot.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "advise/config_edit.h"
#include "nginx/config_parser.h"

namespace {

using namespace ngxwatch;
using advise::Edit;

constexpr const char* kFile = "/fuzz/nginx.conf";
constexpr size_t kMaxEdits = 24;  // directives edited per input (one parse each)

// Every include reads as an empty file: edits, not includes, are under test.
class EmptyIncludes : public nginx::IncludeResolver {
 public:
  explicit EmptyIncludes(std::string main) : main_(std::move(main)) {}
  std::vector<std::string> expand(const std::string& pattern) override { return {pattern}; }
  bool read(const std::string& path, std::string& out, std::string&) override {
    out = path == kFile ? main_ : "";
    return true;
  }

 private:
  std::string main_;
};

// Says what broke before the crash libFuzzer reports.
[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_config_edit: %s:\n%s\n", what, detail.c_str());
  __builtin_trap();
}

bool parses(const std::string& text) {
  EmptyIncludes files(text);
  nginx::ParseLimits limits;
  limits.max_includes = 64;
  try {
    (void)nginx::parse_text(text, kFile, files, "/fuzz", limits);
    return true;
  } catch (const nginx::ConfigError&) {
    return false;
  }
}

void collect(const std::vector<nginx::Directive>& ds, std::vector<const nginx::Directive*>& out) {
  for (const nginx::Directive& d : ds) {
    if (out.size() >= kMaxEdits) return;
    if (d.file == kFile) out.push_back(&d);
    collect(d.children, out);
  }
}

// One edit of `d`: the kind follows the directive (a block takes an insert into it)
// and `pick`, so that every kind is tried across inputs.
Edit edit_of(const nginx::Directive& d, unsigned pick) {
  Edit e;
  e.file = kFile;
  e.line = d.line;
  e.target_name = d.name;
  e.target_args = d.args;
  e.name = "proxy_read_timeout";
  e.value = pick & 4 ? "Connection \"\"" : "4s";
  static const Edit::Kind kLeaf[] = {Edit::Kind::kSet, Edit::Kind::kInsertAfter,
                                     Edit::Kind::kInsertBefore};
  e.kind = d.block ? (pick & 1 ? Edit::Kind::kInsert : Edit::Kind::kInsertBefore) : kLeaf[pick % 3];
  return e;
}

void check_edits(const std::string& text, const nginx::ParsedConfig& parsed) {
  std::vector<const nginx::Directive*> ds;
  collect(parsed.root, ds);
  advise::FileSet files{{kFile, text}};
  std::vector<Edit> all;
  unsigned pick = static_cast<unsigned>(text.size());
  for (const nginx::Directive* d : ds) {
    Edit e = edit_of(*d, pick++);
    advise::EditResult r = advise::apply_edits(files, {e});
    if (!r.ok) {
      if (r.error.empty() || r.error.find('\n') != std::string::npos) fail("error line", r.error);
      continue;
    }
    const std::string& after = r.files.at(kFile);
    if (!parses(after)) fail("a landed edit broke the file", after);
    if ((after != text) == advise::unified_diff("nginx.conf", text, after).empty())
      fail("diff disagrees with the edit", after);
    all.push_back(std::move(e));
  }
  // Several edits of one file at once (applied from its end backwards).
  advise::EditResult r = advise::apply_edits(files, all);
  if (r.ok) (void)advise::unified_diff("nginx.conf", text, r.files.at(kFile), 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  bool ok = false;
  try {
    EmptyIncludes files(text);
    nginx::ParseLimits limits;
    limits.max_includes = 64;
    nginx::ParsedConfig parsed = nginx::parse_text(text, kFile, files, "/fuzz", limits);
    ok = true;
    check_edits(text, parsed);
  } catch (const nginx::ConfigError&) {
  }
  // The copy nginx -t checks: its includes and runtime files moved, still parsing.
  std::string moved = advise::rewrite_includes(text, "/fuzz", "/copy");
  advise::RuntimeRedirect rr = advise::redirect_runtime_files(moved, "/copy");
  if (ok && !parses(rr.text)) fail("the redirected copy does not parse", rr.text);
  (void)advise::redirect_runtime_files(text, "/copy", 3,
                                       [](const std::string& p) { return p.size() % 2 == 0; });
  return 0;
}
