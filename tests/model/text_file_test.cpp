// read_text_file and check_utf8 against RFC 3629: fixed vectors at every
// boundary of the encoding, random text from an independent encoder, and
// random bytes judged by an independent decoder.
#include "lutc/model/text_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

// The exit code check_utf8 ends with: kOk when it accepts the text.
ExitCode utf8_verdict(const std::string& text) {
  try {
    check_utf8(text, "t.ini", "arch config");
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

// The message check_utf8 refuses `text` with ("" when it accepts it).
std::string utf8_message(const std::string& text) {
  try {
    check_utf8(text, "dir/t.ini", "arch config");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// RFC 3629 section 3: code point -> bytes, the shortest form.
std::string encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// An independent validator: decode each sequence by its lead byte's length,
// then refuse what RFC 3629 forbids by value (overlong forms, surrogates,
// code points past U+10FFFF) rather than by byte ranges.
bool valid_by_decoding(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = cp << 6 | (t & 0x3F);
    }
    const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

TEST(CheckUtf8, AcceptsEveryBoundaryCodePoint) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    SCOPED_TRACE(cp);
    EXPECT_EQ(utf8_verdict("a" + encode(cp) + "b"), ExitCode::kOk);
  }
  EXPECT_EQ(utf8_verdict(""), ExitCode::kOk);
  EXPECT_EQ(utf8_verdict("name = caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E\n"), ExitCode::kOk);
}

TEST(CheckUtf8, RefusesWhatRfc3629Forbids) {
  const char* bad[] = {
      "\x80",              // a continuation byte with no lead
      "\xBF",              //
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong U+007F
      "\xE0\x80\x80",      // overlong 3-byte
      "\xE0\x9F\xBF",      // overlong U+07FF
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // lead byte past U+10FFFF
      "\xF8\x88\x80\x80\x80",
      "\xFE",
      "\xFF",
      "\xC3",          // truncated at the end of the text
      "\xE2\x82",      //
      "\xF0\x9D\x84",  //
      "\xC3"
      "A",  // truncated, followed by ASCII
      "\xE2\x82"
      "A",  //
  };
  for (const char* b : bad) {
    SCOPED_TRACE(::testing::PrintToString(std::string(b)));
    EXPECT_EQ(utf8_verdict(std::string("ok ") + b), ExitCode::kBadInput);
  }
}

TEST(CheckUtf8, MessageNamesWhatFileLineColumnAndByte) {
  // Line 3, the bad byte is the fifth byte of that line.
  const std::string msg = utf8_message("a = 1\nb = 2\nc = \xFF\n");
  EXPECT_NE(msg.find("arch config 'dir/t.ini'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3, column 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0xff"), std::string::npos) << msg;
  EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
  // The first bad byte is the one named, on line 1, column 1.
  const std::string first = utf8_message("\xC0\x80\n\xFF");
  EXPECT_NE(first.find("line 1, column 1"), std::string::npos) << first;
  EXPECT_NE(first.find("0xc0"), std::string::npos) << first;
}

TEST(CheckUtf8, RandomTextFromAnEncoderIsAccepted) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    std::string s;
    for (int i = 0; i < 40; ++i) {
      uint32_t cp;
      do {
        // Mostly short code points, some from every length.
        const unsigned width = unsigned(rng() % 4);
        const uint32_t top[4] = {0x80, 0x800, 0x10000, 0x110000};
        cp = uint32_t(rng() % top[width]);
      } while (cp >= 0xD800 && cp <= 0xDFFF);
      s += encode(cp);
    }
    ASSERT_EQ(utf8_verdict(s), ExitCode::kOk) << ::testing::PrintToString(s);
  }
}

TEST(CheckUtf8, RandomBytesAgreeWithAnIndependentDecoder) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int valid = 0, invalid = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string s;
    const size_t n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i) {
      // Bias toward lead and continuation bytes, where the rules live.
      const unsigned pick = unsigned(rng() % 4);
      s += char(pick == 0 ? rng() % 0x80 : pick == 1 ? 0x80 + rng() % 0x40 : 0xC0 + rng() % 0x40);
    }
    const bool expect = valid_by_decoding(s);
    (expect ? valid : invalid)++;
    ASSERT_EQ(utf8_verdict(s), expect ? ExitCode::kOk : ExitCode::kBadInput) << ::testing::PrintToString(s);
  }
  // Both outcomes were exercised.
  EXPECT_GT(valid, 100);
  EXPECT_GT(invalid, 100);
}

TEST(ReadTextFile, ReturnsTheBytesOfAUtf8File) {
  const std::string path = temp_dir() + "/arch.ini";
  const std::string text = std::string("# caf\xC3\xA9\nrows = 4\n\0tail", 22);
  std::ofstream(path, std::ios::binary) << text;
  EXPECT_EQ(read_text_file(path, "arch config"), text);
  const std::string empty = temp_dir() + "/empty.ini";
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_EQ(read_text_file(empty, "arch config"), "");
}

TEST(ReadTextFile, NotUtf8IsBadInput) {
  const std::string path = temp_dir() + "/latin1.ini";
  std::ofstream(path, std::ios::binary) << "name = caf\xE9\n";
  try {
    read_text_file(path, "sweep file");
    FAIL() << "accepted Latin-1";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("sweep file '" + path + "', line 1, column 11"), std::string::npos)
        << e.what();
  }
}

TEST(ReadTextFile, MissingFileIsIoAndSuggestsANeighbour) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/sweep.ini") << "x = 1\n";
  try {
    read_text_file(dir + "/swep.ini", "sweep file");
    FAIL() << "read a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cannot open sweep file '" + dir + "/swep.ini'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean '" + dir + "/sweep.ini'"), std::string::npos) << msg;
  }
}

// A folder opens as a stream and reads as nothing; it must not come back as an
// empty text (an empty arch config or sweep would parse).
TEST(ReadTextFile, AFolderIsAnIoErrorNamingIt) {
  const std::string dir = testing::temp_dir() + "/a_folder";
  std::filesystem::create_directories(dir);
  try {
    const std::string got = read_text_file(dir, "arch config");
    FAIL() << "read a folder as the text '" << got << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lutc
