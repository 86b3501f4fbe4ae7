// exit_code_of and exit_code_of_child against the exit classes of error.h:
// every exception kind main() can catch and every status a child can end with.
#include "lutc/model/exit_class.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <new>
#include <stdexcept>
#include <system_error>

#include "lutc/model/error.h"

namespace lutc {
namespace {

TEST(ExitCodeOf, AnErrorKeepsItsOwnCode) {
  for (ExitCode c :
       {ExitCode::kOk, ExitCode::kUsage, ExitCode::kBadInput, ExitCode::kIo, ExitCode::kQuality, ExitCode::kInternal}) {
    SCOPED_TRACE(int(c));
    const Error e(c, "x");
    EXPECT_EQ(exit_code_of(e), c);
    // Seen through its base class, as a catch (const std::exception&) sees it.
    const std::exception& base = e;
    EXPECT_EQ(exit_code_of(base), c);
  }
}

TEST(ExitCodeOf, FilesystemErrorsAndOutOfMemoryAreIo) {
  const std::filesystem::filesystem_error fe("cannot create", std::filesystem::path("/x"),
                                             std::make_error_code(std::errc::permission_denied));
  EXPECT_EQ(exit_code_of(fe), ExitCode::kIo);
  EXPECT_EQ(exit_code_of(std::bad_alloc()), ExitCode::kIo);
  EXPECT_EQ(exit_code_of(std::bad_array_new_length()), ExitCode::kIo);  // a bad_alloc too
}

TEST(ExitCodeOf, AnyOtherExceptionIsInternal) {
  EXPECT_EQ(exit_code_of(std::runtime_error("x")), ExitCode::kInternal);
  EXPECT_EQ(exit_code_of(std::logic_error("x")), ExitCode::kInternal);
  EXPECT_EQ(exit_code_of(std::out_of_range("x")), ExitCode::kInternal);
  EXPECT_EQ(exit_code_of(std::invalid_argument("x")), ExitCode::kInternal);
  // A system_error that is not a filesystem_error is not classed as I/O.
  EXPECT_EQ(exit_code_of(std::system_error(std::make_error_code(std::errc::io_error))), ExitCode::kInternal);
  EXPECT_EQ(exit_code_of(std::exception()), ExitCode::kInternal);
}

TEST(ExitCodeOfChild, OnlyInputIoAndQualityPassThrough) {
  EXPECT_EQ(exit_code_of_child(3), ExitCode::kBadInput);
  EXPECT_EQ(exit_code_of_child(4), ExitCode::kIo);
  EXPECT_EQ(exit_code_of_child(5), ExitCode::kQuality);
  // 0..255 and the 128 + signal range: everything else is the parent's bug.
  for (int status = -1; status < 300; ++status) {
    if (status >= 3 && status <= 5) continue;
    SCOPED_TRACE(status);
    EXPECT_EQ(exit_code_of_child(status), ExitCode::kInternal);
  }
  EXPECT_EQ(exit_code_of_child(2), ExitCode::kInternal);        // usage: the parent built the command line
  EXPECT_EQ(exit_code_of_child(128 + 9), ExitCode::kInternal);  // killed
  EXPECT_EQ(exit_code_of_child(70), ExitCode::kInternal);
}

}  // namespace
}  // namespace lutc
