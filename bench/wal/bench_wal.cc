// bench_wal: the WAL's group commit against the disk's own limit, on the real disk.
//
// For 256-byte records it measures, for a fixed time each:
//   raw     one thread: write(256 bytes) + fdatasync, appending to a plain file
//   wal/N   N threads (1, 8, 64), each: Wal::AppendNext + Wal::Sync (group commit)
// and prints records/s, MB/s (payload), p50/p99 append-to-durable latency, the
// fdatasyncs the WAL issued, and each WAL run's records/s relative to raw.
// Output: a table on stdout, then one JSON object per run.
//
// Environment: TRI_BENCH_DIR (default: a fresh directory under $TMPDIR or /tmp),
// TRI_BENCH_SECONDS (per run, default 2).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/posix_file_system.h"
#include "wal/wal.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kRecordBytes = 256;

struct RunResult {
  std::string name;
  int threads = 1;
  std::uint64_t records = 0;
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::uint64_t fdatasyncs = 0;
  double records_per_second() const { return records / seconds; }
  double mb_per_second() const { return records * kRecordBytes / seconds / 1e6; }
};

void Summarize(RunResult& r, std::vector<double>& latencies_us) {
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<std::size_t>(p * latencies_us.size()))];
  };
  r.p50_us = pct(0.50);
  r.p99_us = pct(0.99);
}

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

RunResult RunRaw(const std::string& dir, double seconds) {
  const std::string path = dir + "/raw.dat";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("open raw");
    std::exit(1);
  }
  const std::string record(kRecordBytes, 'r');
  RunResult r{"raw write+fdatasync", 1};
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("raw write/fdatasync");
      std::exit(1);
    }
    latencies.push_back(Micros(Clock::now() - t0));
    ++r.records;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.fdatasyncs = r.records;
  ::close(fd);
  ::unlink(path.c_str());
  Summarize(r, latencies);
  return r;
}

RunResult RunWal(const std::string& dir, int threads, double seconds) {
  const std::string wal_dir = dir + "/wal-" + std::to_string(threads);
  auto opened = tri::wal::Wal::Open(tri::io::PosixFileSystem::Instance(), wal_dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "open wal: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  tri::wal::Wal& wal = **opened;
  const std::uint64_t syncs_before = wal.stats().fdatasyncs;
  const std::string record(kRecordBytes, 'w');
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::uint64_t> counts(threads, 0);
  std::atomic<bool> go{false};
  const auto end_after = std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  Clock::time_point start;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
      const auto end = start + end_after;
      latencies[t].reserve(1 << 16);
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        auto index = wal.AppendNext(1, record);
        auto durable = index.ok() ? wal.Sync() : tri::Result<std::uint64_t>(index.status());
        if (!durable.ok()) {
          std::fprintf(stderr, "wal: %s\n", durable.status().ToString().c_str());
          std::exit(1);
        }
        latencies[t].push_back(Micros(Clock::now() - t0));
        ++counts[t];
      }
    });
  }
  start = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& w : workers)
    w.join();
  RunResult r{"wal group commit", threads};
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (int t = 0; t < threads; ++t) {
    r.records += counts[t];
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
  }
  r.fdatasyncs = wal.stats().fdatasyncs - syncs_before;
  Summarize(r, all);
  opened.value().reset();
  std::filesystem::remove_all(wal_dir);
  return r;
}

}  // namespace

int main() {
  const char* seconds_env = std::getenv("TRI_BENCH_SECONDS");
  const double seconds = seconds_env != nullptr ? std::atof(seconds_env) : 2.0;
  std::string dir;
  bool made_dir = false;
  if (const char* d = std::getenv("TRI_BENCH_DIR")) {
    dir = d;
    std::filesystem::create_directories(dir);
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/tri-bench-wal-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = templ;
    made_dir = true;
  }

  std::vector<RunResult> runs;
  runs.push_back(RunRaw(dir, seconds));
  for (int threads : {1, 8, 64})
    runs.push_back(RunWal(dir, threads, seconds));
  const double raw_rate = runs[0].records_per_second();

  std::printf("bench_wal: %zu-byte records, %.1f s per run, directory %s\n", kRecordBytes, seconds,
              dir.c_str());
  std::printf("%-22s %8s %12s %9s %10s %10s %11s %9s %8s\n", "run", "threads", "records/s", "MB/s",
              "p50 us", "p99 us", "fdatasyncs", "rec/sync", "x raw");
  for (const RunResult& r : runs) {
    std::printf("%-22s %8d %12.0f %9.2f %10.1f %10.1f %11llu %9.1f %8.2f\n", r.name.c_str(),
                r.threads, r.records_per_second(), r.mb_per_second(), r.p50_us, r.p99_us,
                static_cast<unsigned long long>(r.fdatasyncs),
                r.fdatasyncs ? static_cast<double>(r.records) / r.fdatasyncs : 0.0,
                r.records_per_second() / raw_rate);
  }
  const double one = runs[1].records_per_second() / raw_rate;
  const double many = runs[3].records_per_second() / raw_rate;
  std::printf(
      "goals: 1 appender %.2fx raw (goal >= 0.90: %s), 64 appenders %.1fx raw (goal >= 20: %s)\n",
      one, one >= 0.9 ? "met" : "MISSED", many, many >= 20 ? "met" : "MISSED");
  for (const RunResult& r : runs) {
    std::printf(
        "{\"bench\":\"wal\",\"run\":\"%s\",\"threads\":%d,\"record_bytes\":%zu,\"records\":%llu,"
        "\"seconds\":%.3f,\"records_per_second\":%.1f,\"mb_per_second\":%.3f,\"p50_us\":%.1f,"
        "\"p99_us\":%.1f,\"fdatasyncs\":%llu,\"ratio_to_raw\":%.3f}\n",
        r.name.c_str(), r.threads, kRecordBytes, static_cast<unsigned long long>(r.records),
        r.seconds, r.records_per_second(), r.mb_per_second(), r.p50_us, r.p99_us,
        static_cast<unsigned long long>(r.fdatasyncs), r.records_per_second() / raw_rate);
  }
  if (made_dir) std::filesystem::remove_all(dir);
  return 0;
}
