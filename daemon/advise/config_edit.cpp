#include "advise/config_edit.h"

#include <algorithm>
#include <set>

#include "nginx/config_error.h"
#include "nginx/config_lexer.h"

namespace ngxwatch::advise {

namespace {

// nginx's own tokenizer (nginx/config_lexer.h, which the parser uses too): every
// word ends where nginx ends it, and each token carries its byte range, so an edit
// replaces exactly the arguments it means. Text that does not lex (the files were
// parsed with the same lexer, so only a line that starts inside a quoted string) ends
// the scan there.
using Token = nginx::ConfigLexer::Token;
using Kind = nginx::ConfigLexer::Kind;

class Scanner {
 public:
  Scanner(const std::string& text, size_t pos, int line) : lexer_(text, "", pos, line) {}

  Token next() {
    try {
      return lexer_.next();
    } catch (const nginx::ConfigError&) {
      return Token{};  // kEnd
    }
  }

 private:
  nginx::ConfigLexer lexer_;
};

// Byte offset where 1-based `line` starts, or npos.
size_t line_start(const std::string& text, int line) {
  size_t pos = 0;
  for (int l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return pos;
    ++pos;
  }
  return pos <= text.size() ? pos : std::string::npos;
}

std::string leading_blanks(const std::string& text, size_t line_begin) {
  size_t end = text.find_first_not_of(" \t", line_begin);
  return text.substr(line_begin, (end == std::string::npos ? text.size() : end) - line_begin);
}

// The directive `name args...` starting on `line`: its argument tokens and the
// token that ends it (`;` or `{`). False when it is not there.
bool find_directive(const std::string& text, const Edit& e, std::vector<Token>& args,
                    Token& terminator) {
  size_t start = line_start(text, e.line);
  if (start == std::string::npos) return false;
  Scanner s(text, start, e.line);
  bool statement_start = true;
  for (Token t = s.next(); t.kind != Kind::kEnd && t.line == e.line; t = s.next()) {
    if (t.kind != Kind::kWord) {
      statement_start = true;
      continue;
    }
    if (!statement_start || t.text != e.target_name) {
      statement_start = false;
      continue;
    }
    statement_start = false;
    std::vector<Token> words;
    Token u = s.next();
    for (; u.kind == Kind::kWord; u = s.next()) words.push_back(u);
    std::vector<std::string> texts;
    for (const Token& w : words) texts.push_back(w.text);
    if (texts == e.target_args && u.kind != Kind::kEnd) {
      args = std::move(words);
      terminator = u;
      return true;
    }
    statement_start = u.kind != Kind::kWord;
  }
  return false;
}

// The directive on one printable line: a quoted argument may hold newlines and any
// other byte, which an error line must not carry.
std::string describe(const Edit& e) {
  std::string d = e.target_name;
  for (const std::string& a : e.target_args) d += " " + a;
  return "\"" + nginx::printable(d) + "\" at " + e.file + ":" + std::to_string(e.line);
}

bool apply_set(std::string& text, const Edit& e, std::string& error) {
  std::vector<Token> args;
  Token end;
  if (!find_directive(text, e, args, end) || end.kind != Kind::kSemicolon) {
    error = "cannot find directive " + describe(e);
    return false;
  }
  if (args.empty()) {
    text.insert(end.begin, " " + e.value);
  } else {
    text.replace(args.front().begin, args.back().end - args.front().begin, e.value);
  }
  return true;
}

// Puts `directive` after `at` (the end of a `{` or a `;`): on a line of its own
// when nothing but a comment follows on that line, else on the same line, so that
// one line changes either way. `indent` is for a line of its own.
void insert_after(std::string& text, size_t at, const std::string& directive, std::string indent,
                  bool block_start) {
  size_t after = text.find_first_not_of(" \t\r", at);
  bool rest_of_line_empty = after == std::string::npos || text[after] == '\n' || text[after] == '#';
  if (!rest_of_line_empty) {
    text.insert(at, " " + directive);
    return;
  }
  size_t eol = text.find('\n', at);
  size_t next_line = eol == std::string::npos ? text.size() : eol + 1;
  // Inside a block, the first line with content sets the indentation (unless it
  // closes the block).
  for (size_t p = next_line; block_start && p < text.size();) {
    size_t q = text.find_first_not_of(" \t\r", p);
    if (q == std::string::npos) break;
    if (text[q] != '\n') {
      if (text[q] != '}') indent = leading_blanks(text, p);
      break;
    }
    p = q + 1;
  }
  std::string line = indent + directive + "\n";
  if (eol == std::string::npos) line = "\n" + line;
  text.insert(next_line, line);
}

bool apply_insert_before(std::string& text, const Edit& e, std::string& error) {
  std::vector<Token> args;
  Token end;
  if (!find_directive(text, e, args, end)) {
    error = "cannot find directive " + describe(e);
    return false;
  }
  // Only when the directive starts its line: otherwise the new line would split an
  // earlier statement's line in two (still one changed line, but not the one meant).
  size_t begin = line_start(text, e.line);
  std::string indent = leading_blanks(text, begin);
  if (text.compare(begin + indent.size(), e.target_name.size(), e.target_name) != 0) {
    error = "directive " + describe(e) + " does not start its line";
    return false;
  }
  text.insert(begin, indent + e.name + " " + e.value + ";\n");
  return true;
}

bool apply_insert(std::string& text, const Edit& e, std::string& error) {
  std::vector<Token> args;
  Token end;
  bool after = e.kind == Edit::Kind::kInsertAfter;
  Kind want = after ? Kind::kSemicolon : Kind::kBlockOpen;
  if (!find_directive(text, e, args, end) || end.kind != want) {
    error = std::string("cannot find ") + (after ? "directive " : "block ") + describe(e);
    return false;
  }
  std::string indent = leading_blanks(text, line_start(text, e.line));
  if (!after) indent += indent.find('\t') != std::string::npos ? "\t" : "    ";
  insert_after(text, end.end, e.name + " " + e.value + ";", indent, !after);
  return true;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string::npos ? text.size() : eol + 1;
    lines.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return lines;
}

struct DiffOp {
  char kind;  // ' ', '-', '+'
  const std::string* line;
};

// Line diff: common head and tail first (edits are local), then a longest common
// subsequence over what is left.
std::vector<DiffOp> diff_lines(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  size_t n = a.size() - head - tail, m = b.size() - head - tail;
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1
                                             : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<DiffOp> ops;
  for (size_t i = 0; i < head; ++i) ops.push_back({' ', &a[i]});
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] == b[head + j]) {
      ops.push_back({' ', &a[head + i]});
      ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', &a[head + i++]});  // removals first, as diff -u prints them
    } else {
      ops.push_back({'+', &b[head + j++]});
    }
  }
  for (size_t k = a.size() - tail; k < a.size(); ++k) ops.push_back({' ', &a[k]});
  return ops;
}

std::string range(size_t start, size_t len) {
  // diff -u names the line before an empty range.
  return std::to_string(len == 0 ? start : start + 1) + "," + std::to_string(len);
}

}  // namespace

EditResult apply_edits(const FileSet& files, const std::vector<Edit>& edits) {
  EditResult r;
  r.files = files;
  std::vector<const Edit*> order;
  for (const Edit& e : edits) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Edit* x, const Edit* y) {
    return x->file != y->file ? x->file < y->file : x->line > y->line;
  });
  for (const Edit* e : order) {
    auto it = r.files.find(e->file);
    if (it == r.files.end()) {
      r.error = "file " + e->file + " is not part of the configuration";
      return r;
    }
    bool ok = e->kind == Edit::Kind::kSet            ? apply_set(it->second, *e, r.error)
              : e->kind == Edit::Kind::kInsertBefore ? apply_insert_before(it->second, *e, r.error)
                                                     : apply_insert(it->second, *e, r.error);
    if (!ok) return r;
  }
  r.ok = true;
  return r;
}

std::string rewrite_includes(const std::string& text, const std::string& from,
                             const std::string& to) {
  std::string dir = from.empty() || from.back() != '/' ? from + "/" : from;
  std::string out;
  size_t copied = 0;
  Scanner s(text, 0, 1);
  bool statement_start = true, in_include = false;
  for (Token t = s.next(); t.kind != Kind::kEnd; t = s.next()) {
    if (t.kind != Kind::kWord) {
      statement_start = true;
      in_include = false;
      continue;
    }
    size_t b = t.begin + (text[t.begin] == '"' || text[t.begin] == '\'' ? 1 : 0);
    if (in_include && t.text.starts_with(dir) && text.compare(b, dir.size(), dir) == 0) {
      out.append(text, copied, b - copied);
      out += to + "/";
      copied = b + dir.size();
    }
    in_include = statement_start ? t.text == "include" : in_include;
    statement_start = false;
  }
  return out + text.substr(copied);
}

namespace {

bool is_temp_path_directive(const std::string& name) {
  return name == "client_body_temp_path" || name == "proxy_temp_path" ||
         name == "fastcgi_temp_path" || name == "uwsgi_temp_path" || name == "scgi_temp_path";
}

// The names of the statements directly inside http {} in `text`.
std::set<std::string> http_level_names(const std::string& text) {
  std::set<std::string> names;
  Scanner s(text, 0, 1);
  std::string name;
  bool statement_start = true, in_http = false;
  int depth = 0;
  for (Token t = s.next(); t.kind != Kind::kEnd; t = s.next()) {
    if (t.kind == Kind::kWord) {
      if (statement_start && in_http && depth == 1) names.insert(t.text);
      if (statement_start) name = t.text;
      statement_start = false;
      continue;
    }
    if (t.kind == Kind::kBlockOpen && depth++ == 0) in_http = name == "http";
    if (t.kind == Kind::kBlockClose && --depth == 0) in_http = false;
    statement_start = true;
  }
  return names;
}

}  // namespace

RuntimeRedirect redirect_runtime_files(const std::string& text, const std::string& dir, int first,
                                       const std::function<bool(const std::string&)>& movable) {
  RuntimeRedirect r{"", first, false};
  auto fresh_name = [&] { return "\"" + dir + "/runtime-" + std::to_string(++r.files) + "\""; };
  std::set<std::string> at_http = http_level_names(text);
  std::string out;
  size_t copied = 0;
  Scanner s(text, 0, 1);
  std::string name;       // the statement's name
  std::string directive;  // the same, while its first argument is ahead
  bool statement_start = true;
  int depth = 0;
  for (Token t = s.next(); t.kind != Kind::kEnd; t = s.next()) {
    if (t.kind != Kind::kWord) {
      if (t.kind == Kind::kBlockOpen && depth++ == 0 && name == "http") {
        // What http {} does not set takes the compiled-in paths, which nginx -t would
        // open or create: the copy's own are set at http level instead (access_log may
        // repeat; the temp paths only where the config has none).
        out.append(text, copied, t.end - copied);
        out += " access_log " + fresh_name() + ";";
        for (const char* d : {"client_body_temp_path", "proxy_temp_path"})
          if (!at_http.count(d)) out += std::string(" ") + d + " " + fresh_name() + ";";
        copied = t.end;
      }
      if (t.kind == Kind::kBlockClose) --depth;
      statement_start = true;
      directive.clear();
      continue;
    }
    if (statement_start) {
      statement_start = false;
      name = directive = t.text;
      continue;
    }
    bool file_arg = directive == "pid" || directive == "lock_file" ||
                    is_temp_path_directive(directive) ||
                    ((directive == "error_log" || directive == "access_log") && t.text != "off" &&
                     t.text != "stderr" && !t.text.starts_with("syslog:") &&
                     !t.text.starts_with("memory:") && t.text.find('$') == std::string::npos);
    r.pid = r.pid || directive == "pid";
    directive.clear();  // only the first argument names the file
    if (!file_arg || (movable && !movable(t.text))) continue;
    out.append(text, copied, t.begin - copied);
    out += fresh_name();
    copied = t.end;
  }
  r.text = out + text.substr(copied);
  return r;
}

std::string unified_diff(const std::string& name, const std::string& before,
                         const std::string& after, int context) {
  if (before == after) return "";
  std::vector<std::string> a = split_lines(before), b = split_lines(after);
  std::vector<DiffOp> ops = diff_lines(a, b);
  size_t ctx = static_cast<size_t>(std::max(context, 0));
  std::string out = "--- a/" + name + "\n+++ b/" + name + "\n";
  size_t k = 0, a_line = 0, b_line = 0;  // lines of a and b before ops[k]
  while (k < ops.size()) {
    size_t first = k;
    while (first < ops.size() && ops[first].kind == ' ') ++first;
    if (first == ops.size()) break;
    // The hunk runs until a stretch of more than 2*ctx unchanged lines (or the end).
    size_t last = first, run = 0;
    for (size_t x = first; x < ops.size(); ++x) {
      if (ops[x].kind != ' ') {
        last = x;
        run = 0;
      } else if (++run > 2 * ctx) {
        break;
      }
    }
    size_t start = first - std::min(ctx, first - k);
    size_t stop = std::min(ops.size(), last + 1 + ctx);
    for (size_t x = k; x < start; ++x) ++a_line, ++b_line;
    size_t a_len = 0, b_len = 0;
    std::string body;
    for (size_t x = start; x < stop; ++x) {
      const std::string& l = *ops[x].line;
      body += ops[x].kind + l;
      if (l.empty() || l.back() != '\n') body += "\n\\ No newline at end of file\n";
      a_len += ops[x].kind != '+';
      b_len += ops[x].kind != '-';
    }
    out += "@@ -" + range(a_line, a_len) + " +" + range(b_line, b_len) + " @@\n" + body;
    a_line += a_len;
    b_line += b_len;
    k = stop;
  }
  return out;
}

}  // namespace ngxwatch::advise
