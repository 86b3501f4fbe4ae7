#pragma once
// "did you mean": the known names closest to a mistyped one, for the error
// messages of every name the user types (schemes, SOP codebooks, commands,
// file names beside a missing one).
#include <string>
#include <vector>

namespace lutc {

// Edit distance (insert, delete, substitute, swap two neighbours), case-insensitive.
size_t edit_distance(const std::string& a, const std::string& b);

// The names of `known` within a distance that scales with the word's length
// (a third of it, at least 1, at most 3), closest first, ties in the order of
// `known`; at most `max` of them. Empty when nothing is close.
std::vector<std::string> closest_names(const std::string& word, const std::vector<std::string>& known, size_t max = 3);

// " (did you mean 'a'?)" or " (did you mean 'a' or 'b'?)", or "" when no name is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known);

// For a path that does not exist: the names in its folder closest to its file
// name, as " (did you mean 'dir/a.ini'?)", or "" (the folder is missing,
// unreadable, or holds nothing close). Reads at most 4096 entries.
std::string did_you_mean_file(const std::string& path);

// The name lists suggestions are drawn from, each built from its own table
// (defined beside it): what --scheme accepts ("xfp", then every
// parse_scheme name; layer.cpp) and every SOP element codebook name
// (parse_sop_codebook; sop_codebooks.cpp).
std::vector<std::string> scheme_option_names();
std::vector<std::string> sop_codebook_names();

}  // namespace lutc
