#include "nginx/config_parser.h"

#include "nginx/config_lexer.h"

namespace ngxwatch::nginx {

namespace {

using Kind = ConfigLexer::Kind;

class Parser {
 public:
  Parser(IncludeResolver& resolver, const ParseLimits& limits, ParsedConfig& out)
      : resolver_(resolver), limits_(limits), out_(out) {}

  // Parses one file's text into `into` (the level the file is included at).
  void parse_file_text(const std::string& text, const std::string& path,
                       std::vector<Directive>& into, int block_depth, int include_depth) {
    total_bytes_ += text.size();
    if (total_bytes_ > limits_.max_total_bytes) {
      throw ConfigError(path, 0, "configuration is larger than the parse limit");
    }
    out_.files.push_back(SourceFile{path, text});
    ConfigLexer lexer(text, path);
    parse_block(lexer, into, block_depth, include_depth, /*inside_block=*/false);
  }

 private:
  void parse_block(ConfigLexer& lex, std::vector<Directive>& into, int block_depth,
                   int include_depth, bool inside_block) {
    Directive d;
    bool have_name = false;
    while (true) {
      ConfigLexer::Token t = lex.next();
      switch (t.kind) {
        case Kind::kWord:
          if (!have_name) {
            d = Directive{};
            d.name = std::move(t.text);
            d.file = lex.file();
            d.line = t.line;
            have_name = true;
          } else {
            d.args.push_back(std::move(t.text));
          }
          break;
        case Kind::kSemicolon:
          if (!have_name) throw ConfigError(lex.file(), t.line, "unexpected \";\"");
          have_name = false;
          if (d.name == "include") {
            include(d, into, block_depth, include_depth);
          } else {
            add(into, std::move(d));
          }
          break;
        case Kind::kBlockOpen:
          if (!have_name) throw ConfigError(lex.file(), t.line, "unexpected \"{\"");
          if (d.name == "include") {
            throw ConfigError(lex.file(), t.line, "directive \"include\" has no opening \"{\"");
          }
          if (block_depth + 1 > limits_.max_block_depth) {
            throw ConfigError(lex.file(), t.line, "blocks nested too deeply");
          }
          have_name = false;
          d.block = true;
          parse_block(lex, d.children, block_depth + 1, include_depth, true);
          add(into, std::move(d));
          break;
        case Kind::kBlockClose:
          if (have_name || !inside_block) throw ConfigError(lex.file(), t.line, "unexpected \"}\"");
          return;
        case Kind::kEnd:
          if (have_name) {
            throw ConfigError(lex.file(), t.line,
                              "unexpected end of file, expecting \";\" or \"}\"");
          }
          if (inside_block) {
            throw ConfigError(lex.file(), t.line, "unexpected end of file, expecting \"}\"");
          }
          return;
      }
    }
  }

  void add(std::vector<Directive>& into, Directive&& d) {
    if (++directives_ > limits_.max_directives) {
      throw ConfigError(d.file, d.line, "too many directives");
    }
    into.push_back(std::move(d));
  }

  void include(const Directive& d, std::vector<Directive>& into, int block_depth,
               int include_depth) {
    if (d.args.size() != 1) {
      throw ConfigError(d.file, d.line, "invalid number of arguments in \"include\" directive");
    }
    if (include_depth + 1 > limits_.max_include_depth) {
      throw ConfigError(d.file, d.line, "includes nested too deeply (include loop?)");
    }
    std::string pattern = d.args[0];
    if (pattern.empty()) {
      throw ConfigError(d.file, d.line, "invalid number of arguments in \"include\" directive");
    }
    if (pattern[0] != '/') pattern = out_.conf_prefix + "/" + pattern;
    for (const std::string& path : resolver_.expand(pattern)) {
      if (++includes_ > limits_.max_includes) {
        throw ConfigError(d.file, d.line, "too many included files");
      }
      std::string text, error;
      if (!resolver_.read(path, text, error)) throw ConfigError(d.file, d.line, error);
      parse_file_text(text, path, into, block_depth, include_depth + 1);
    }
  }

  IncludeResolver& resolver_;
  const ParseLimits& limits_;
  ParsedConfig& out_;
  size_t total_bytes_ = 0;
  size_t directives_ = 0;
  int includes_ = 0;
};

}  // namespace

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

ParsedConfig parse_text(std::string_view text, const std::string& name, IncludeResolver& resolver,
                        const std::string& conf_prefix, const ParseLimits& limits) {
  ParsedConfig out;
  out.main_file = name;
  out.conf_prefix = conf_prefix.empty() ? dirname_of(name) : conf_prefix;
  Parser parser(resolver, limits, out);
  parser.parse_file_text(std::string(text), name, out.root, 0, 0);
  return out;
}

ParsedConfig parse_config(const std::string& path, IncludeResolver& resolver,
                          const std::string& conf_prefix, const ParseLimits& limits) {
  std::string text, error;
  if (!resolver.read(path, text, error)) throw ConfigError(path, 0, error);
  return parse_text(text, path, resolver, conf_prefix, limits);
}

ParsedConfig parse_file(const std::string& path, const ParseLimits& limits) {
  DiskResolver disk;
  return parse_config(path, disk, "", limits);
}

std::vector<SourceFile> split_nginx_T(std::string_view dump) {
  static constexpr std::string_view kHeader = "# configuration file ";
  std::vector<SourceFile> files;
  size_t pos = 0;
  SourceFile* current = nullptr;
  while (pos < dump.size()) {
    size_t eol = dump.find('\n', pos);
    size_t end = eol == std::string_view::npos ? dump.size() : eol + 1;
    std::string_view line = dump.substr(pos, end - pos);
    std::string_view body = line;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    if (body.substr(0, kHeader.size()) == kHeader && body.size() > kHeader.size() + 1 &&
        body.back() == ':') {
      std::string_view path = body.substr(kHeader.size(), body.size() - kHeader.size() - 1);
      files.push_back(SourceFile{std::string(path), {}});
      current = &files.back();
    } else if (current != nullptr) {
      current->text.append(line);
    }
    pos = end;
  }
  // nginx -T writes one extra newline after each file's contents.
  for (SourceFile& f : files) {
    if (!f.text.empty() && f.text.back() == '\n') f.text.pop_back();
  }
  return files;
}

ParsedConfig parse_nginx_T(std::string_view dump, const ParseLimits& limits) {
  std::vector<SourceFile> files = split_nginx_T(dump);
  if (files.empty()) {
    throw ConfigError("nginx -T", 0, "no \"# configuration file\" section in the dump");
  }
  std::map<std::string, std::string> by_name;
  for (const SourceFile& f : files) by_name.emplace(f.path, f.text);
  MemoryResolver memory(std::move(by_name));
  return parse_text(files.front().text, files.front().path, memory, "", limits);
}

}  // namespace ngxwatch::nginx
