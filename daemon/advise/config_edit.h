// Text-level edits of nginx configuration files and the unified diff they make. An
// edit changes only what it must: the arguments of one directive, or one directive
// inserted into a block with the indentation of its siblings. Comments, blank lines
// and every other byte stay as written, so the diff applies to the real files.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ngxwatch::advise {

struct Edit {
  enum class Kind {
    kSet,          // give the directive `target` at file:line the arguments `value`
    kInsert,       // insert `name value;` into the block `target` opened at file:line
    kInsertAfter,  // insert `name value;` right after the directive `target` at file:line
    // insert `name value;` on a line of its own before the directive `target` at
    // file:line (the main context has no block to insert into)
    kInsertBefore,
  };
  Kind kind = Kind::kSet;
  std::string file;
  int line = 0;
  // The directive as parsed (name and arguments), to find it on its line: a line may
  // hold several directives (`location /x { proxy_read_timeout 1s; ... }`).
  std::string target_name;
  std::vector<std::string> target_args;
  std::string name;   // the directive written (kInsert); kSet keeps target_name
  std::string value;  // its arguments as nginx text: `4s`, `Connection ""`
};

// File path -> contents.
using FileSet = std::map<std::string, std::string>;

struct EditResult {
  bool ok = false;
  std::string error;  // which edit could not be placed, and why
  FileSet files;      // every input file, edited ones changed
};

// Applies `edits` to copies of `files`. Edits of one file are applied from its end
// backwards so that the lines the others name stay valid.
EditResult apply_edits(const FileSet& files, const std::vector<Edit>& edits);

// `text` with every absolute `include` argument under directory `from` moved under
// `to` (a copy of the tree must include its own files, not the originals).
std::string rewrite_includes(const std::string& text, const std::string& from,
                             const std::string& to);

// `text` with the files nginx -t opens or creates (pid, lock_file, error_log and
// access_log files, *_temp_path directories) moved to "DIR/runtime-N", N counting on
// from `first`, and the copy's own access_log, client_body_temp_path and proxy_temp_path
// first in http {} where the config sets none (else the compiled-in ones apply): the
// check runs unprivileged on a private copy and must neither need nor touch the real
// ones.
struct RuntimeRedirect {
  std::string text;
  int files = 0;     // the last N used
  bool pid = false;  // a pid directive was seen (else nginx -t needs -g "pid ...;")
};
// `movable(path)` false keeps a file where it is (verify keeps paths whose directory
// is missing on this host, so that nginx -t still says so).
RuntimeRedirect redirect_runtime_files(
    const std::string& text, const std::string& dir, int first = 0,
    const std::function<bool(const std::string&)>& movable = nullptr);

// A unified diff (`diff -u` format, `context` lines around each change) turning
// `before` into `after`, with "--- a/NAME" / "+++ b/NAME" headers; "" when equal.
std::string unified_diff(const std::string& name, const std::string& before,
                         const std::string& after, int context = 3);

}  // namespace ngxwatch::advise
