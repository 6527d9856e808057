#include "cli/etcd_flags.h"

#include <charconv>

#include "cli/command.h"
#include "client/endpoints.h"

namespace tri::cli {

void AddEtcdFlags(CLI::App* command, EtcdFlags* flags, bool with_write_out) {
  command->add_option("--endpoints", flags->endpoints, "gRPC endpoints, comma separated")
      ->capture_default_str();
  if (with_write_out)
    command->add_option("-w,--write-out", flags->write_out, "output format: simple, json or table")
        ->capture_default_str();
  command->add_option("--dial-timeout", flags->dial_timeout, "dial timeout for client connections")
      ->capture_default_str();
  command
      ->add_option("--command-timeout", flags->command_timeout,
                   "timeout for one request (excluding dial timeout)")
      ->capture_default_str();
  AddTlsFlags(command, flags);
}

void AddTlsFlags(CLI::App* command, EtcdFlags* flags) {
  command->add_option("--cacert", flags->cacert,
                      "verify the servers' TLS certificates with this CA bundle");
  command->add_option("--cert", flags->cert, "TLS client certificate (for --client-cert-auth)");
  command->add_option("--key", flags->key, "TLS client key");
  command->add_flag("--insecure-skip-tls-verify", flags->insecure_skip_tls_verify,
                    "do not verify the servers' certificates (encrypted, not authenticated)");
}

client::ClientTls ClientTlsOrExit(const EtcdFlags& flags) {
  auto tls =
      client::LoadClientTls(flags.cacert, flags.cert, flags.key, flags.insecure_skip_tls_verify);
  if (!tls.ok()) ExitWithError(kExitUsage, "Error: " + tls.status().message());
  return std::move(*tls);
}

std::chrono::milliseconds ParseDurationOrExit(const std::string& flag, const std::string& text) {
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [unit, ec] = std::from_chars(begin, end, value);
  const std::string suffix(unit, end);
  double ms_per_unit = 0;
  if (suffix == "ms")
    ms_per_unit = 1;
  else if (suffix == "s")
    ms_per_unit = 1000;
  else if (suffix == "m")
    ms_per_unit = 60000;
  if (ec != std::errc() || unit == begin || ms_per_unit == 0 || value < 0 || value > 86400000)
    ExitWithError(kExitUsage, "Error: " + flag + ": bad duration '" + text +
                                  "' (use a number with ms, s or m, e.g. 500ms, 2s)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * ms_per_unit));
}

OutputFormat OutputFormatOrExit(const EtcdFlags& flags) {
  if (flags.write_out == "simple") return OutputFormat::kSimple;
  if (flags.write_out == "json") return OutputFormat::kJson;
  if (flags.write_out == "table") return OutputFormat::kTable;
  ExitWithError(kExitUsage, "Error: unknown output format '" + flags.write_out +
                                "' (use simple, json or table)");
}

client::ClientOptions ClientOptionsOrExit(const EtcdFlags& flags) {
  auto endpoints = client::ParseEndpoints(flags.endpoints);
  if (!endpoints.ok()) ExitWithError(kExitUsage, "Error: " + endpoints.status().message());
  client::ClientOptions options;
  options.endpoints = std::move(*endpoints);
  options.tls = ClientTlsOrExit(flags);
  options.dial_timeout = ParseDurationOrExit("--dial-timeout", flags.dial_timeout);
  options.command_timeout = ParseDurationOrExit("--command-timeout", flags.command_timeout);
  return options;
}

std::unique_ptr<client::EtcdClient> ConnectOrExit(const EtcdFlags& flags) {
  auto client = client::EtcdClient::Connect(ClientOptionsOrExit(flags));
  if (!client.ok()) ExitWithStatus(client.status());
  return std::move(*client);
}

void ExitWithStatus(const Status& status, int exit_code) {
  ExitWithError(exit_code, "Error: " + status.message());
}

}  // namespace tri::cli
