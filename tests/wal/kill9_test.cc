// Real disk: a child process appends and syncs in a loop, reporting each
// acknowledged index through a pipe; the parent kill -9s it at a random moment,
// reopens the directory and checks that everything acknowledged is there.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "io/posix_file_system.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace tri::wal {
namespace {

constexpr WalOptions kOptions{.segment_size_bytes = 256 * 1024};

std::size_t SizeFor(std::uint64_t index) {
  return 16 + index % 300;
}

[[noreturn]] void ChildLoop(const std::string& dir, int report_fd) {
  auto wal = Wal::Open(io::PosixFileSystem::Instance(), dir, kOptions);
  if (!wal.ok()) ::_exit(2);
  for (std::uint64_t index = (*wal)->LastIndex() + 1;; ++index) {
    const Entry entry = testing::MakeEntry(index, 1, SizeFor(index));
    std::optional<HardState> state;
    if (index % 7 == 0) state = HardState{1, 1, index};
    auto durable = (*wal)->AppendAndSync(std::span<const Entry>(&entry, 1), state);
    if (!durable.ok()) ::_exit(3);
    const std::uint64_t acked = *durable;
    if (::write(report_fd, &acked, sizeof(acked)) != sizeof(acked)) ::_exit(4);
  }
}

TEST(WalKill9, EverythingAcknowledgedBeforeKillMinus9IsThereAfterReopen) {
  std::string templ = (std::filesystem::temp_directory_path() / "tri-wal-kill9-XXXXXX").string();
  ASSERT_NE(::mkdtemp(templ.data()), nullptr);
  const std::string dir = templ + "/wal";
  std::mt19937_64 random(std::random_device{}());
  std::uint64_t acked = 0;

  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      ChildLoop(dir, fds[1]);
    }
    ::close(fds[1]);
    std::uint64_t round_acked = 0;
    auto read_ack = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      std::uint64_t value = 0;
      if (::read(fds[0], &value, sizeof(value)) != sizeof(value)) return false;
      round_acked = std::max(round_acked, value);
      return true;
    };
    // Wait (generously: CI machines are loaded) for the child to make progress.
    if (!read_ack(20000)) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      FAIL() << "round " << round << ": the child never acknowledged";
    }
    // While the child runs, the directory is its alone.
    auto second = Wal::Open(io::PosixFileSystem::Instance(), dir, kOptions);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().message(),
              "data directory " + dir + " is in use by pid " + std::to_string(child));
    // Then kill it at a random moment.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(50 + random() % 300);
    while (std::chrono::steady_clock::now() < deadline)
      read_ack(10);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    // Acknowledgements already in the pipe count too.
    std::uint64_t value = 0;
    while (::read(fds[0], &value, sizeof(value)) == sizeof(value))
      round_acked = std::max(round_acked, value);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "child exited on its own with status " << WEXITSTATUS(status);
    EXPECT_GT(round_acked, acked) << "round " << round << " made no progress";
    acked = std::max(acked, round_acked);

    auto wal = Wal::Open(io::PosixFileSystem::Instance(), dir, kOptions);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    ASSERT_GE((*wal)->LastIndex(), acked) << "round " << round;
    auto entries = (*wal)->Read(1, (*wal)->LastIndex() + 1);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    for (const Entry& e : *entries) {
      ASSERT_EQ(e, testing::MakeEntry(e.index, 1, SizeFor(e.index))) << "round " << round;
    }
    ASSERT_TRUE((*wal)->hard_state().has_value());
    EXPECT_GE((*wal)->hard_state()->commit + 7, acked);
  }
  std::filesystem::remove_all(templ);
}

}  // namespace
}  // namespace tri::wal
