// bench_wal: the WAL's group commit against the disk's own limit, on the real disk.
//
// For 256-byte records it measures
//   raw     one thread: write(256 bytes) + fdatasync, appending to a plain file
//   wal/N   N threads (1, 8, 64), each: Wal::AppendNext + Wal::Sync (group commit)
// and prints records/s, MB/s (payload), p50/p99 append-to-durable latency, the
// fdatasyncs issued, and each run's records/s relative to raw.
//
// A shared VM's fsync latency drifts by an order of magnitude over seconds, so the
// four runs are interleaved: TRI_BENCH_ROUNDS rounds (default 6), each giving every
// run an equal slice of TRI_BENCH_SECONDS (default 3) per run in total.
// Output: a table, a goals line, then one JSON object per run.
// TRI_BENCH_DIR picks the directory (default: a fresh one under $TMPDIR or /tmp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/posix_file_system.h"
#include "wal/wal.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kRecordBytes = 256;

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

struct Run {
  std::string name;
  int threads = 1;
  std::uint64_t records = 0;
  double seconds = 0;
  std::uint64_t fdatasyncs = 0;
  std::vector<double> latencies_us;

  double records_per_second() const { return records / seconds; }
  double mb_per_second() const { return records * kRecordBytes / seconds / 1e6; }
  double percentile_us(double p) {
    if (latencies_us.empty()) return 0;
    std::sort(latencies_us.begin(), latencies_us.end());
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<std::size_t>(p * latencies_us.size()))];
  }
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench_wal: %s\n", what.c_str());
  std::exit(1);
}

class RawLoop {
 public:
  explicit RawLoop(const std::string& dir) : path_(dir + "/raw.dat") {
    fd_ = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd_ < 0) Die("open " + path_);
  }
  ~RawLoop() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  void Slice(double seconds, Run& run) {
    const std::string record(kRecordBytes, 'r');
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      const auto t0 = Clock::now();
      if (::write(fd_, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
          ::fdatasync(fd_) != 0) {
        Die("raw write/fdatasync failed");
      }
      run.latencies_us.push_back(Micros(Clock::now() - t0));
      ++run.records;
      ++run.fdatasyncs;
    }
    run.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }

 private:
  const std::string path_;
  int fd_ = -1;
};

class WalLoop {
 public:
  WalLoop(const std::string& dir, int threads)
      : dir_(dir + "/wal-" + std::to_string(threads)), threads_(threads) {
    auto opened = tri::wal::Wal::Open(tri::io::PosixFileSystem::Instance(), dir_);
    if (!opened.ok()) Die("open wal: " + opened.status().ToString());
    wal_ = std::move(opened).value();
  }
  ~WalLoop() {
    wal_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Slice(double seconds, Run& run) {
    const std::uint64_t syncs_before = wal_->stats().fdatasyncs;
    const std::string record(kRecordBytes, 'w');
    std::vector<std::vector<double>> latencies(threads_);
    std::atomic<bool> go{false};
    Clock::time_point end;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads_; ++t) {
      workers.emplace_back([&, t] {
        while (!go.load(std::memory_order_acquire))
          std::this_thread::yield();
        while (Clock::now() < end) {
          const auto t0 = Clock::now();
          auto index = wal_->AppendNext(1, record);
          if (!index.ok()) Die("append: " + index.status().ToString());
          auto durable = wal_->Sync();
          if (!durable.ok()) Die("sync: " + durable.status().ToString());
          latencies[t].push_back(Micros(Clock::now() - t0));
        }
      });
    }
    const auto start = Clock::now();
    end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    go.store(true, std::memory_order_release);
    for (auto& w : workers)
      w.join();
    run.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto& l : latencies) {
      run.records += l.size();
      run.latencies_us.insert(run.latencies_us.end(), l.begin(), l.end());
    }
    run.fdatasyncs += wal_->stats().fdatasyncs - syncs_before;
  }

 private:
  const std::string dir_;
  const int threads_;
  std::unique_ptr<tri::wal::Wal> wal_;
};

double EnvDouble(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atof(v) : fallback;
}

}  // namespace

int main() {
  const double seconds = EnvDouble("TRI_BENCH_SECONDS", 3.0);
  const int rounds = std::max(1, static_cast<int>(EnvDouble("TRI_BENCH_ROUNDS", 6)));
  std::string dir;
  bool made_dir = false;
  if (const char* d = std::getenv("TRI_BENCH_DIR")) {
    dir = d;
    std::filesystem::create_directories(dir);
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/tri-bench-wal-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) Die("mkdtemp failed");
    dir = templ;
    made_dir = true;
  }

  std::vector<Run> runs(4);
  runs[0].name = "raw write+fdatasync";
  const int thread_counts[3] = {1, 8, 64};
  {
    RawLoop raw(dir);
    std::vector<std::unique_ptr<WalLoop>> wals;
    for (int i = 0; i < 3; ++i) {
      wals.push_back(std::make_unique<WalLoop>(dir, thread_counts[i]));
      runs[i + 1].name = "wal group commit";
      runs[i + 1].threads = thread_counts[i];
    }
    const double slice = seconds / rounds;
    for (int round = 0; round < rounds; ++round) {
      raw.Slice(slice, runs[0]);
      for (int i = 0; i < 3; ++i)
        wals[i]->Slice(slice, runs[i + 1]);
    }
  }
  if (made_dir) std::filesystem::remove_all(dir);

  const double raw_rate = runs[0].records_per_second();
  std::printf("bench_wal: %zu-byte records, %.1f s per run in %d interleaved rounds, in %s\n",
              kRecordBytes, seconds, rounds, dir.c_str());
  std::printf("%-22s %8s %12s %9s %10s %10s %11s %9s %8s\n", "run", "threads", "records/s", "MB/s",
              "p50 us", "p99 us", "fdatasyncs", "rec/sync", "x raw");
  for (Run& r : runs) {
    std::printf("%-22s %8d %12.0f %9.2f %10.1f %10.1f %11llu %9.1f %8.2f\n", r.name.c_str(),
                r.threads, r.records_per_second(), r.mb_per_second(), r.percentile_us(0.5),
                r.percentile_us(0.99), static_cast<unsigned long long>(r.fdatasyncs),
                r.fdatasyncs ? static_cast<double>(r.records) / r.fdatasyncs : 0.0,
                r.records_per_second() / raw_rate);
  }
  const double one = runs[1].records_per_second() / raw_rate;
  const double many = runs[3].records_per_second() / raw_rate;
  std::printf(
      "goals: 1 appender %.2fx raw (goal >= 0.90: %s), 64 appenders %.1fx raw (goal >= 20: %s)\n",
      one, one >= 0.9 ? "met" : "MISSED", many, many >= 20 ? "met" : "MISSED");
  for (Run& r : runs) {
    std::printf(
        "{\"bench\":\"wal\",\"run\":\"%s\",\"threads\":%d,\"record_bytes\":%zu,\"records\":%llu,"
        "\"seconds\":%.3f,\"records_per_second\":%.1f,\"mb_per_second\":%.3f,\"p50_us\":%.1f,"
        "\"p99_us\":%.1f,\"fdatasyncs\":%llu,\"ratio_to_raw\":%.3f}\n",
        r.name.c_str(), r.threads, kRecordBytes, static_cast<unsigned long long>(r.records),
        r.seconds, r.records_per_second(), r.mb_per_second(), r.percentile_us(0.5),
        r.percentile_us(0.99), static_cast<unsigned long long>(r.fdatasyncs),
        r.records_per_second() / raw_rate);
  }
  return 0;
}
