#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nginx/config_error.h"
#include "nginx/directive.h"

namespace ngxwatch::nginx {

// Bounds that keep hostile or runaway configurations (include loops, deep nesting,
// huge files) from exhausting the daemon. nginx itself has no such limits, but no
// real configuration comes near them.
struct ParseLimits {
  int max_block_depth = 64;
  int max_include_depth = 16;
  int max_includes = 4096;
  size_t max_total_bytes = 64u << 20;
  size_t max_directives = 1u << 20;
};

// Where `include` finds its files: the disk, an `nginx -T` dump, or a test buffer.
class IncludeResolver {
 public:
  virtual ~IncludeResolver() = default;
  // Files matching an absolute pattern, in glob(3) order. A pattern with no glob
  // characters is returned as is (the read reports a missing file).
  virtual std::vector<std::string> expand(const std::string& pattern) = 0;
  // Reads one file; on failure sets `error` (nginx-style, e.g. `open() "/x" failed
  // (2: No such file or directory)`) and returns false.
  virtual bool read(const std::string& path, std::string& out, std::string& error) = 0;
};

// Reads files with open(2) and expands globs with glob(3).
class DiskResolver : public IncludeResolver {
 public:
  std::vector<std::string> expand(const std::string& pattern) override;
  bool read(const std::string& path, std::string& out, std::string& error) override;
};

// Serves files from memory (an `nginx -T` dump or a test); globs use fnmatch(3).
class MemoryResolver : public IncludeResolver {
 public:
  explicit MemoryResolver(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  std::vector<std::string> expand(const std::string& pattern) override;
  bool read(const std::string& path, std::string& out, std::string& error) override;

 private:
  std::map<std::string, std::string> files_;
};

bool has_glob_chars(std::string_view pattern);

// Parses the main file `path` (read through `resolver`); relative includes are
// resolved against `conf_prefix`, or the main file's directory when empty.
// Throws ConfigError ("file:line: message").
ParsedConfig parse_config(const std::string& path, IncludeResolver& resolver,
                          const std::string& conf_prefix = "", const ParseLimits& limits = {});

// Convenience: parse a file on disk.
ParsedConfig parse_file(const std::string& path, const ParseLimits& limits = {});

// Parses `text` as if it were the file `name`; includes go through `resolver`.
ParsedConfig parse_text(std::string_view text, const std::string& name, IncludeResolver& resolver,
                        const std::string& conf_prefix = "", const ParseLimits& limits = {});

// Splits `nginx -T` output into its files (in dump order; the first is the main
// file). Lines before the first "# configuration file PATH:" are ignored.
std::vector<SourceFile> split_nginx_T(std::string_view dump);

// Parses `nginx -T` output, keeping real file names and line numbers.
ParsedConfig parse_nginx_T(std::string_view dump, const ParseLimits& limits = {});

std::string dirname_of(const std::string& path);

}  // namespace ngxwatch::nginx
