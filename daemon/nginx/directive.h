#pragma once

#include <string>
#include <vector>

namespace ngxwatch::nginx {

// One directive as written: `name arg...;` or `name arg... { children }`.
// Arguments are unquoted and unescaped exactly as nginx would see them.
// Directives pulled in by `include` are spliced in place of the include, but keep
// the file and line they were written in (that is where a fix must go).
struct Directive {
  std::string name;
  std::vector<std::string> args;
  std::string file;
  int line = 0;
  bool block = false;
  std::vector<Directive> children;

  // "file:line", for reports.
  std::string where() const { return file + ":" + std::to_string(line); }
};

// A configuration file read while parsing (main file and every included file).
struct SourceFile {
  std::string path;
  std::string text;
};

// The parse result: the top-level directives plus the files they came from.
struct ParsedConfig {
  std::vector<Directive> root;
  std::vector<SourceFile> files;
  std::string main_file;
  std::string conf_prefix;  // directory relative includes are resolved against
};

}  // namespace ngxwatch::nginx
