#pragma once

// The logic of `tri wal check DIR` and `tri wal dump DIR [--from N]`: offline
// inspection of a WAL directory with the same scanner recovery uses, so they print
// the same diagnosis Wal::Open would act on. Read-only; they take no lock.

#include <cstdint>
#include <ostream>
#include <string>

#include "io/file_system.h"

namespace tri::wal {

// Exit codes of the inspect commands.
inline constexpr int kInspectOk = 0;          // intact (a torn tail is reported; open repairs it)
inline constexpr int kInspectCorrupt = 1;     // Wal::Open would refuse this log
inline constexpr int kInspectUnreadable = 2;  // the directory or a file could not be read

// Prints one line per segment, the log's range and hard state, and the verdict.
int RunWalCheck(io::FileSystem& fs, const std::string& dir, std::ostream& out);

// Prints every record (entries with index >= from_index, every hard state), then
// the verdict as RunWalCheck does.
int RunWalDump(io::FileSystem& fs, const std::string& dir, std::uint64_t from_index,
               std::ostream& out);

}  // namespace tri::wal
