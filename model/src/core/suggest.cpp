#include "lutc/model/suggest.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace lutc {

size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment distance over three rolling rows.
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  auto eq = [](char x, char y) { return std::tolower((unsigned char)x) == std::tolower((unsigned char)y); };
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (eq(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && eq(a[i - 1], b[j - 2]) && eq(a[i - 2], b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::vector<std::string> closest_names(const std::string& word, const std::vector<std::string>& known, size_t max) {
  const size_t limit = std::min<size_t>(3, std::max<size_t>(1, word.size() / 3));
  std::vector<std::pair<size_t, size_t>> hits;  // (distance, index in known)
  for (size_t i = 0; i < known.size(); ++i) {
    if (known[i] == word) continue;
    const size_t d = edit_distance(word, known[i]);
    if (d <= limit) hits.emplace_back(d, i);
  }
  std::stable_sort(hits.begin(), hits.end());
  std::vector<std::string> out;
  for (const auto& h : hits) {
    if (out.size() == max) break;
    if (std::find(out.begin(), out.end(), known[h.second]) == out.end()) out.push_back(known[h.second]);
  }
  return out;
}

namespace {

std::string phrase(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string s = " (did you mean ";
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + ("'" + names[i] + "'");
  return s + "?)";
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  return phrase(closest_names(word, known));
}

std::string did_you_mean_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (fs::exists(p, ec)) return "";
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end && names.size() < 4096; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());  // the listing order is the file system's; the answer must not be
  std::vector<std::string> close = closest_names(p.filename().string(), names);
  if (p.has_parent_path())
    for (auto& n : close) n = (dir / n).string();
  return phrase(close);
}

}  // namespace lutc
