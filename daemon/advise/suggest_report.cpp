#include "advise/suggest_report.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace ngxwatch::advise {

namespace {

std::string relative(const std::string& root, const std::string& path) {
  return root == "/" ? path.substr(1) : path.substr(root.size() + 1);
}

// Every line of `text` as a '#' comment line (patch(1) skips them between files).
std::string commented(const std::string& text, const std::string& label) {
  std::string out;
  std::istringstream in(text);
  bool first = true;
  for (std::string line; std::getline(in, line); first = false)
    out += "# " + (first ? label : std::string(label.size(), ' ')) + line + "\n";
  return out;
}

std::string wrap(const std::string& text, size_t width = 92) {
  std::string out, line;
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    if (!line.empty() && line.size() + 1 + w.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  return out + line;
}

}  // namespace

bool SuggestReport::ok() const {
  if (!config_error.empty()) return false;
  for (const CheckedSuggestion& c : items)
    if (!c.refused.empty()) return false;
  return true;
}

SuggestReport check_suggestions(std::vector<Suggestion> suggestions, const FileSet& files,
                                const std::string& main_file, const ConfigCheck& check) {
  SuggestReport report;
  report.root = common_directory(files);
  // A configuration nginx rejects as it is cannot vouch for any change to it.
  VerifyResult baseline = check(files, main_file);
  if (!baseline.ok) {
    report.config_error = baseline.error;
    return report;
  }
  // Diffs chain: each is against the files with the suggestions before it applied, so
  // the text report applies as one patch. Edits name lines of the original files,
  // hence every state is the original plus all edits accepted so far.
  std::vector<Edit> accepted;
  FileSet current = files;
  for (Suggestion& s : suggestions) {
    CheckedSuggestion c{std::move(s), {}, {}};
    if (!c.suggestion.edits.empty()) {
      std::vector<Edit> with = accepted;
      with.insert(with.end(), c.suggestion.edits.begin(), c.suggestion.edits.end());
      EditResult edited = apply_edits(files, with);
      VerifyResult v;
      if (!edited.ok) {
        c.refused = "the change cannot be placed: " + edited.error;
      } else if (v = check(edited.files, main_file); !v.ok) {
        c.refused = "nginx -t rejects the change: " + v.error;
      } else {
        for (const auto& [path, text] : edited.files)
          c.diff += unified_diff(relative(report.root, path), current.at(path), text);
        accepted = std::move(with);
        current = std::move(edited.files);
      }
    }
    report.items.push_back(std::move(c));
  }
  return report;
}

SuggestReport run_suggest(const Measurements& measurements, const nginx::Config& config,
                          const ConfigCheck& check) {
  FileSet files;
  for (const nginx::SourceFile& f : config.parsed().files) files[f.path] = f.text;
  return check_suggestions(suggest(measurements, config), files, config.parsed().main_file, check);
}

std::string format_suggest_text(const SuggestReport& r) {
  std::string out;
  for (const std::string& n : r.notes) out += commented(wrap(n), "note: ");
  if (!r.config_error.empty()) {
    out += commented(wrap("cannot verify any change: the configuration as it is fails nginx -t "
                          "here: " +
                          r.config_error),
                     "refused: ");
    return out;
  }
  if (r.items.empty()) return out + "# nothing to suggest: no measured failure has a config fix\n";
  bool any_diff = false;
  for (const CheckedSuggestion& c : r.items) any_diff = any_diff || !c.diff.empty();
  if (any_diff)
    out +=
        "# verified with nginx -t on a copy; apply with: cd " + r.root + " && patch -p1 < FILE\n";
  for (const CheckedSuggestion& c : r.items) {
    const Suggestion& s = c.suggestion;
    out += "#\n# [" + s.id + "] " + s.title + "\n";
    out += commented(wrap(s.evidence), "evidence: ");
    if (!s.backend_fix.empty()) out += commented(wrap(s.backend_fix), "on the backend: ");
    if (!c.refused.empty()) out += commented(wrap(c.refused), "not shown: ");
    out += c.diff;
  }
  return out;
}

std::string format_suggest_json(const SuggestReport& r) {
  // Evidence quotes captured bytes: invalid UTF-8 is replaced, never thrown on.
  return suggest_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json suggest_json(const SuggestReport& r) {
  nlohmann::json j;
  j["root"] = r.root;
  j["verified"] = r.ok();
  j["config_error"] = r.config_error;
  j["notes"] = r.notes;
  j["suggestions"] = nlohmann::json::array();
  for (const CheckedSuggestion& c : r.items) {
    const Suggestion& s = c.suggestion;
    nlohmann::json edits = nlohmann::json::array();
    for (const Edit& e : s.edits)
      edits.push_back({{"kind", e.kind == Edit::Kind::kSet ? "set" : "insert"},
                       {"file", e.file},
                       {"line", e.line},
                       {"directive", e.kind == Edit::Kind::kSet ? e.target_name : e.name},
                       {"value", e.value}});
    j["suggestions"].push_back({{"id", s.id},
                                {"title", s.title},
                                {"server", s.server},
                                {"location", s.location},
                                {"upstream", s.upstream},
                                {"evidence", s.evidence},
                                {"file", s.file},
                                {"line", s.line},
                                {"backend_fix", s.backend_fix},
                                {"edits", edits},
                                {"diff", c.diff},
                                {"refused", c.refused}});
  }
  return j;
}

SuggestReport suggest_report_from_json(const nlohmann::json& j) {
  SuggestReport r;
  r.root = j.at("root").get<std::string>();
  r.config_error = j.at("config_error").get<std::string>();
  r.notes = j.at("notes").get<std::vector<std::string>>();
  for (const nlohmann::json& item : j.at("suggestions")) {
    CheckedSuggestion c;
    Suggestion& s = c.suggestion;
    for (auto [field, name] : {std::pair{&s.id, "id"},
                               {&s.title, "title"},
                               {&s.server, "server"},
                               {&s.location, "location"},
                               {&s.upstream, "upstream"},
                               {&s.evidence, "evidence"},
                               {&s.file, "file"},
                               {&s.backend_fix, "backend_fix"},
                               {&c.diff, "diff"},
                               {&c.refused, "refused"}})
      *field = item.at(name).get<std::string>();
    s.line = item.at("line").get<int>();
    for (const nlohmann::json& e : item.at("edits")) {
      Edit edit;
      bool set = e.at("kind").get<std::string>() == "set";
      edit.kind = set ? Edit::Kind::kSet : Edit::Kind::kInsert;
      edit.file = e.at("file").get<std::string>();
      edit.line = e.at("line").get<int>();
      (set ? edit.target_name : edit.name) = e.at("directive").get<std::string>();
      edit.value = e.at("value").get<std::string>();
      s.edits.push_back(std::move(edit));
    }
    r.items.push_back(std::move(c));
  }
  return r;
}

}  // namespace ngxwatch::advise
