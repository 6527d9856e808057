#pragma once

// Renderings that match etcdctl 3.4 byte for byte, so that people can diff
// `tri kv get -w json` against `etcdctl get -w json`:
//  - GoJson: a protobuf message as etcdctl's json printer writes it (Go's
//    encoding/json over the gogo-generated structs): proto field names as keys,
//    zero values and unset messages omitted, bytes in base64, 64-bit integers
//    and enums as numbers, oneofs as {"Oneof":{"FieldName":...}}, <>& escaped.
//  - RenderTable: etcdctl's -w table (olekukonko/tablewriter, right-aligned).
//  - HumanizeBytes, GoDuration: the strings of go-humanize and time.Duration.

#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "etcdserverpb/rpc.pb.h"

namespace tri::client {

std::string GoJson(const google::protobuf::Message& message);

// A JSON string literal as Go's encoding/json writes it.
std::string GoJsonString(const std::string& text);

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// go-humanize's Bytes: SI units, "20 kB", "1.5 MB", "7 B".
std::string HumanizeBytes(std::uint64_t bytes);

// Go's time.Duration.String(): "863.985µs", "2.907606ms", "1.5s".
std::string GoDuration(std::chrono::nanoseconds duration);

// Lowercase hex without leading zeros (Go's %x), as member ids are printed.
std::string HexId(std::uint64_t id);

// Rows of `etcdctl member list` and `etcdctl endpoint status`.
std::vector<std::string> MemberListHeader();
std::vector<std::vector<std::string>> MemberListRows(const etcdserverpb::MemberListResponse& r);
std::vector<std::string> EndpointStatusHeader();
std::vector<std::string> EndpointStatusRow(const std::string& endpoint,
                                           const etcdserverpb::StatusResponse& r);

}  // namespace tri::client
