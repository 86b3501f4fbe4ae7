// Sweep files: value lists and ranges, cartesian and listed arch axes, quant
// options dropped where a scheme ignores them, and errors that name the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lutc/explore/sweep.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc::explore {
namespace {

using V = std::vector<std::string>;

TEST(SweepValues, ListsAndRangesKeepTheirSpelling) {
  EXPECT_EQ(expand_values("k", "4, 8,16"), (V{"4", "8", "16"}));
  EXPECT_EQ(expand_values("k", "4..7"), (V{"4", "5", "6", "7"}));
  EXPECT_EQ(expand_values("k", "4..12:4"), (V{"4", "8", "12"}));
  EXPECT_EQ(expand_values("k", "8..64*2"), (V{"8", "16", "32", "64"}));
  EXPECT_EQ(expand_values("k", "0.5..1.5:0.5"), (V{"0.5", "1", "1.5"}));
  EXPECT_EQ(expand_values("k", "pair(nf4,dd4).ue4m3.b16, e2m1.ue4m3.b16"),
            (V{"pair(nf4,dd4).ue4m3.b16", "e2m1.ue4m3.b16"}));
}

TEST(SweepValues, BadRangesNameTheKey) {
  for (const char* bad : {"8..4", "1..4*1", "1..4:0", "1,,2"}) {
    try {
      expand_values("core.lanes", bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("core.lanes"), std::string::npos) << e.what();
    }
  }
}

// A long value crashed a regex-based range parser (its recursion depth grows
// with the length); a long plain value is just a value, a long range with a
// bad bound is refused by name.
TEST(SweepValues, LongValuesNeitherCrashNorMisparse) {
  const std::string longname(200000, 'x');
  EXPECT_EQ(expand_values("k", longname), (V{longname}));
  const std::string long_number = "1" + std::string(100000, '0');
  try {
    expand_values("core.lanes", "1.." + long_number + "e" + long_number);
    ADD_FAILURE() << "accepted an unreadable bound";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("core.lanes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(expand_values("k", " 2 .. 8 * 2 "), (V{"2", "4", "8"}));
}

// A small file must not expand into an unbounded list of points: refused
// with exit class 3 naming the limit, before the product is built.
TEST(Sweep, PointCountIsCappedBeforeTheProductIsBuilt) {
  const std::string head = "[sweep]\nweights = synth:64x64\n[quant]\nscheme = xfp.v2\nbits = ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + "4\n[arch]\ncore.lanes = 1..400\nlut.banks = 1..400\n", "[arch] product"},
      {head + "2, 3, 4, 5, 6, 8\n[arch]\ncore.lanes = 1..150\nlut.banks = 1..150\n", "quant x arch"},
  };
  for (const auto& [text, what] : cases) {
    try {
      parse_sweep(text, "big.ini");
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("limit is 100000"), std::string::npos) << e.what();
    }
  }
}

TEST(Sweep, CartesianProductInQuantMajorOrder) {
  const Sweep s = parse_sweep(
      "[sweep]\nweights = synth:64x64\n[quant]\nscheme = xfp.v2, int4.g128\nbits = 3, 4\n"
      "[arch]\ncore.lanes = 8, 16\nhif.mant_bits = 6..8\n",
      "t.ini");
  // int4.g128 ignores bits: the two combinations collapse into one config.
  ASSERT_EQ(s.quants.size(), 3u);
  EXPECT_EQ(s.quants[0].text(), "scheme=xfp.v2 bits=3");
  EXPECT_EQ(s.quants[1].text(), "scheme=xfp.v2 bits=4");
  EXPECT_EQ(s.quants[2].text(), "scheme=int4.g128");
  ASSERT_EQ(s.archs.size(), 6u);
  EXPECT_EQ(s.points(), 18u);
  EXPECT_EQ(s.arch_of(0).overrides, "core.lanes=8;hif.mant_bits=6");
  EXPECT_EQ(s.arch_of(5).arch.lanes, 16u);
  EXPECT_EQ(s.arch_of(5).arch.hif_mant_bits, 8u);
  EXPECT_EQ(s.quant_of(7).text(), "scheme=xfp.v2 bits=4");
  EXPECT_EQ(s.quants[0].quantize_args(), (V{"--scheme", "xfp.v2", "--bits", "3"}));
}

TEST(Sweep, ListedPointsAndZippedArchAxes) {
  const Sweep s = parse_sweep(
      "[sweep]\nweights = synth:64x64\ncombine = listed\n[quant]\npoint = scheme=sop sop_format=e2m3.ue4m4.b16\n"
      "point = scheme=xfp.v2a bits=3 floor_strict=0.99\n[arch]\ncore.lanes = 8, 16, 32\n"
      "dram.bytes_per_cycle = 4, 8, 16\nlut.ports = 2\n",
      "t.ini");
  ASSERT_EQ(s.quants.size(), 2u);
  EXPECT_EQ(s.quants[0].text(), "scheme=sop sop_format=e2m3.ue4m4.b16");
  ASSERT_EQ(s.archs.size(), 3u);
  EXPECT_EQ(s.archs[2].arch.lanes, 32u);
  EXPECT_EQ(s.archs[2].arch.dram_bytes_per_cycle, 16.0);
  EXPECT_EQ(s.archs[2].arch.lut_ports, 2u);
}

TEST(Sweep, SameSweepSameHashAndKeyOrderMatters) {
  const char* a = "[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lanes = 8, 16\n";
  const char* b = "[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lanes = 16, 8\n";
  EXPECT_EQ(parse_sweep(a, "x.ini").hash(), parse_sweep(a, "y.ini").hash());
  EXPECT_NE(parse_sweep(a, "x.ini").hash(), parse_sweep(b, "x.ini").hash());
}

TEST(Sweep, ErrorsNameFileAndKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lane = 8\n", "core.lane"},
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = int9\n", "int9"},
      {"[sweep]\nweights = synth:64x64\nfoo = 1\n[quant]\nscheme = int4.g128\n", "sweep.foo"},
      {"[sweep]\n[quant]\nscheme = int4.g128\n", "weights"},
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lanes = 0\n", "lanes"},
      {"[sweep]\nweights = synth:64x64\ncombine = listed\n[quant]\nscheme = int4.g128\n[arch]\ncore.lanes = 8,16\n"
       "lut.ports = 1,2,4\n",
       "core.lanes"},
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = sop\n", "sop_format"},
      {"[sweep]\nweights = synth:64x64\nweights = synth:32x32\n[quant]\nscheme = int4.g128\n", "twice"},
  };
  for (const auto& [text, needle] : bad) {
    try {
      parse_sweep(text, "bad.ini");
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.ini"), std::string::npos) << e.what();
    }
  }
}

// Relative paths in a sweep resolve beside the sweep file, whatever the
// working directory; a copy whose neighbour is missing names both absolute
// paths it tried and the folders they are relative to (exit class 4).
// A name the OS refuses (here a component longer than NAME_MAX) is a missing
// path with its reason, exit 3, not an uncaught filesystem_error (a fuzz find).
TEST(Sweep, APathTheOsRefusesIsAMissingPathWithItsReason) {
  const std::string name(300 + lutc::testing::fresh_seed() % 200, 'w');
  const std::string text = "[sweep]\nweights = " + name + "/model.safetensors\n[quant]\nscheme = int4.g128\n";
  try {
    parse_sweep(text, (std::filesystem::path(lutc::testing::temp_dir()) / "s.ini").string());
    ADD_FAILURE() << "a path the OS refuses was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kIo) << m;
    EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
    EXPECT_NE(m.find("File name too long"), std::string::npos) << m;
  }
}

TEST(Sweep, RelativePathsResolveBesideTheSweepFileAndAMissingOneNamesWhatWasTried) {
  namespace fs = std::filesystem;
  const fs::path root = lutc::testing::temp_dir();
  const std::string lanes = std::to_string(8 * (1 + lutc::testing::fresh_seed() % 16));
  fs::create_directories(root / "a" / "arch");
  std::ofstream(root / "a" / "arch" / "small.ini") << "[core]\nlanes = " << lanes << "\n";
  const std::string text =
      "[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\nfile = arch/small.ini\n";
  std::ofstream(root / "a" / "s.ini") << text;
  fs::create_directories(root / "b");
  std::ofstream(root / "b" / "s.ini") << text;
  const fs::path was = fs::current_path();
  fs::current_path(root);  // arch/small.ini is neither here nor beside b/s.ini
  const Sweep s = load_sweep("a/s.ini");
  EXPECT_EQ(std::to_string(s.archs.at(0).arch.lanes), lanes);
  try {
    load_sweep("b/s.ini");
    ADD_FAILURE() << "a copy without its arch file loaded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kIo) << m;
    EXPECT_NE(m.find("[arch] file 'arch/small.ini'"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + (root / "b" / "arch" / "small.ini").lexically_normal().string() + "'"), std::string::npos)
        << m;
    EXPECT_NE(m.find("sweep file's folder '" + (root / "b").lexically_normal().string() + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + (root / "arch" / "small.ini").lexically_normal().string() +
                     "' (relative to the working directory"),
              std::string::npos)
        << m;
  }
  fs::current_path(was);
}

// A mistyped scheme, quant key or arch key names the closest known one.
TEST(Sweep, MistypedNamesGetADidYouMean) {
  const std::pair<const char*, const char*> bad[] = {
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g182\n", "did you mean 'int4.g128'?"},
      {"[sweep]\nweights = synth:64x64\n[quant]\npoint = scheme=xfp.v2 bitz=4\n", "did you mean 'bits'?"},
      {"[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lane = 8\n",
       "did you mean 'core.lanes'?"},
  };
  for (const auto& [text, needle] : bad) {
    try {
      parse_sweep(text, "typo.ini");
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lutc::explore
