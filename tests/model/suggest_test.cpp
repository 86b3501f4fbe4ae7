// "did you mean": a name one typo away from a known one is suggested, a
// name far from every known one is not, and the closest comes first.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "lutc/model/layer.h"
#include "lutc/model/sop.h"
#include "lutc/model/suggest.h"
#include "test_data.h"

namespace lutc {
namespace {

using V = std::vector<std::string>;

TEST(Suggest, EditDistanceCountsOneForEachKindOfTypo) {
  EXPECT_EQ(edit_distance("xfp.v2", "xfp.v2"), 0u);
  EXPECT_EQ(edit_distance("xfp.v3", "xfp.v2"), 1u);         // substitute
  EXPECT_EQ(edit_distance("xfp.2", "xfp.v2"), 1u);          // insert
  EXPECT_EQ(edit_distance("int4.gg128", "int4.g128"), 1u);  // delete
  EXPECT_EQ(edit_distance("nf4.b46", "nf4.b64"), 1u);       // swap of neighbours
  EXPECT_EQ(edit_distance("XFP.V2A", "xfp.v2a"), 0u);       // case-insensitive
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

// Every known scheme, with one random typo of each kind, is suggested back.
TEST(Suggest, OneRandomTypoInEverySchemeNameIsSuggestedBack) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  const V known = scheme_option_names();
  for (const std::string& name : known) {
    if (name.size() < 3) continue;  // too short for a typo to stay unambiguous
    const size_t at = 1 + rng() % (name.size() - 2);
    const std::string typos[] = {name.substr(0, at) + name.substr(at + 1),                                 // dropped
                                 name.substr(0, at) + "q" + name.substr(at),                               // inserted
                                 name.substr(0, at - 1) + name[at] + name[at - 1] + name.substr(at + 1)};  // swapped
    for (const std::string& typo : typos) {
      if (typo == name) continue;
      const V close = closest_names(typo, known);
      EXPECT_NE(std::find(close.begin(), close.end(), name), close.end()) << typo << " seed " << seed;
      EXPECT_NE(did_you_mean(typo, known).find("'" + name + "'"), std::string::npos) << typo << " seed " << seed;
    }
  }
}

TEST(Suggest, FarNamesGetNoSuggestionAndTheClosestComesFirst) {
  EXPECT_EQ(did_you_mean("llama", scheme_option_names()), "");
  EXPECT_EQ(did_you_mean("zz", sop_codebook_names()), "");
  EXPECT_EQ(closest_names("int5", sop_codebook_names()).at(0), "int4");
  EXPECT_EQ(did_you_mean("spilt87", sop_codebook_names()), " (did you mean 'split87'?)");
  EXPECT_EQ(did_you_mean("int5", V{"int4", "int6"}), " (did you mean 'int4' or 'int6'?)");
}

// A missing file gets the closest names in its folder, with the folder.
TEST(Suggest, AMissingFileSuggestsItsNeighbours) {
  namespace fs = std::filesystem;
  const fs::path dir = testing::temp_dir();
  std::ofstream(dir / "default.ini") << "[core]\n";
  std::ofstream(dir / "unrelated.txt") << "x\n";
  EXPECT_EQ(did_you_mean_file((dir / "defualt.ini").string()),
            " (did you mean '" + (dir / "default.ini").string() + "'?)");
  EXPECT_EQ(did_you_mean_file((dir / "zzzzzzzz.bin").string()), "");
  EXPECT_EQ(did_you_mean_file((dir / "default.ini").string()), "");  // it exists: nothing to suggest
  EXPECT_EQ(did_you_mean_file((dir / "no_such_folder" / "default.ini").string()), "");
}

}  // namespace
}  // namespace lutc
