#include "datadriven/datadriven.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tri::datadriven {
namespace {

std::vector<std::string> ReadLines(const std::string& path, bool& ok) {
  std::ifstream in(path);
  ok = static_cast<bool>(in);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word)
    words.push_back(word);
  return words;
}

}  // namespace

Command ParseCommand(const std::string& line, int line_number) {
  Command cmd;
  cmd.line = line_number;
  cmd.text = line;
  const std::vector<std::string> words = Words(line);
  if (words.empty()) return cmd;
  cmd.name = words[0];
  for (std::size_t i = 1; i < words.size(); ++i) {
    const auto eq = words[i].find('=');
    if (eq != std::string::npos) {
      cmd.options[words[i].substr(0, eq)] = words[i].substr(eq + 1);
    } else {
      cmd.args.push_back(words[i]);
    }
  }
  return cmd;
}

ScriptResult RunScript(const std::string& path, const Handler& handler, bool rewrite) {
  ScriptResult result;
  bool readable = false;
  const std::vector<std::string> lines = ReadLines(path, readable);
  if (!readable) {
    result.failures.push_back(path + ": cannot read the script");
    return result;
  }
  std::string rewritten;
  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      rewritten += line + "\n";
      ++i;
      continue;
    }
    const int line_number = static_cast<int>(i + 1);
    const std::string where = path + ":" + std::to_string(line_number) + ": ";
    const Command cmd = ParseCommand(line, line_number);
    ++i;
    if (i >= lines.size() || lines[i] != "----") {
      result.failures.push_back(where + "expected ---- after the command '" + line + "'");
      return result;
    }
    ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty())
      expected += lines[i++] + "\n";
    std::string actual;
    try {
      actual = handler(cmd);
    } catch (const std::exception& e) {
      result.failures.push_back(where + line + ": " + e.what());
      return result;
    }
    if (actual.find("\n\n") != std::string::npos || actual.rfind('\n', 0) == 0) {
      result.failures.push_back(where + line + ": the output has a blank line");
      return result;
    }
    if (!actual.empty() && actual.back() != '\n') actual += '\n';
    rewritten += line + "\n----\n" + actual;
    if (!rewrite && expected != actual) {
      result.failures.push_back(where + line + "\n--- expected\n" + expected + "--- actual\n" +
                                actual);
      return result;
    }
  }
  if (rewrite) {
    // Drop the trailing blank lines the loop re-adds after the last block.
    while (rewritten.size() > 1 && rewritten.back() == '\n' &&
           rewritten[rewritten.size() - 2] == '\n') {
      rewritten.pop_back();
    }
    std::ofstream out(path, std::ios::trunc);
    out << rewritten;
    if (!out) {
      result.failures.push_back(path + ": cannot rewrite the script");
      return result;
    }
    result.rewritten = true;
  }
  return result;
}

bool RewriteRequested() {
  return std::getenv("TRI_REWRITE") != nullptr;
}

std::vector<std::string> ScriptFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestNameOf(const std::string& file) {
  std::string name =
      file.size() > 4 && file.ends_with(".txt") ? file.substr(0, file.size() - 4) : file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace tri::datadriven
