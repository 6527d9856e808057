#pragma once

// What every etcd-facing command (`tri kv`, `tri member`, `tri endpoint`,
// `tri bench`, `tri saga`) shares, with etcdctl's names and defaults: --endpoints,
// -w/--write-out, --dial-timeout, --command-timeout, the TLS flags --cacert,
// --cert, --key, --insecure-skip-tls-verify; connecting; and the exit
// convention: 0 ok, 1 a server or request error ("Error: <server's message>"
// on stderr, as etcdctl prints it), 2 a usage error.

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "client/etcd_client.h"

namespace tri::cli {

inline constexpr int kExitRequestError = 1;
inline constexpr int kExitUsage = 2;

enum class OutputFormat { kSimple, kJson, kTable };

struct EtcdFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string write_out = "simple";
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  // TLS (client/client_tls.h): any of the files makes bare host:port endpoints TLS.
  std::string cacert;
  std::string cert;
  std::string key;
  bool insecure_skip_tls_verify = false;
};

// Adds the shared flags to `command`; `with_write_out` false leaves out -w.
void AddEtcdFlags(CLI::App* command, EtcdFlags* flags, bool with_write_out = true);

// Adds only the TLS flags (AddEtcdFlags adds them too).
void AddTlsFlags(CLI::App* command, EtcdFlags* flags);

// The TLS settings of `flags`; exits 2 naming the flag and file that cannot be read.
client::ClientTls ClientTlsOrExit(const EtcdFlags& flags);

// Parses a Go-style duration ("500ms", "2s", "1m"); exits 2 on a bad one.
std::chrono::milliseconds ParseDurationOrExit(const std::string& flag, const std::string& text);

// -w as a format; exits 2 for anything but simple, json or table.
OutputFormat OutputFormatOrExit(const EtcdFlags& flags);

// The client options of `flags`; exits 2 on a bad endpoint list, duration or TLS file.
client::ClientOptions ClientOptionsOrExit(const EtcdFlags& flags);

// Connects, or exits 1 with "Error: context deadline exceeded ...".
std::unique_ptr<client::EtcdClient> ConnectOrExit(const EtcdFlags& flags);

// Prints "Error: <message>" and exits with `exit_code` (1 by default: errors
// that come back from a request, whatever their code).
[[noreturn]] void ExitWithStatus(const Status& status, int exit_code = kExitRequestError);

}  // namespace tri::cli
