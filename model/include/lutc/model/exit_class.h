#pragma once
// Which exit class (error.h) a failure belongs to, where it does not arrive
// as an Error: an exception from the standard library, or the exit status of
// a lutc child process. main() and `lutc explore` both decide with these.
#include <exception>

#include "lutc/model/error.h"

namespace lutc {

// An Error's own code; a filesystem_error (a folder that cannot be made or
// listed: permissions, a read-only or full disk, a name too long) or
// bad_alloc: kIo; anything else: kInternal (a bug).
ExitCode exit_code_of(const std::exception& e);

// The class a run passes on when a lutc child it ran exited `status` (128 +
// signal when killed): 3, 4 and 5 are the child's findings about its input,
// the disk or quality; a usage error (the parent built the command line), a
// crash or a signal is kInternal.
ExitCode exit_code_of_child(int status);

}  // namespace lutc
