#pragma once

// The JSON form of trinity.v1.Sagas messages (sagas.proto): what the HTTP API
// answers and what `tri saga ... -w json` prints, so the two read alike. Field
// names are the proto's (snake_case); numbers are JSON numbers (unix times in
// milliseconds, `*_ms`); every field is present, zero values included.

#include <nlohmann/json.hpp>

#include "trinity/v1/sagas.pb.h"

namespace tri::client {

nlohmann::json SagaToJson(const trinity::v1::Saga& saga);
nlohmann::json SagaEventToJson(const trinity::v1::SagaEvent& event);
nlohmann::json DefineSagaResponseToJson(const trinity::v1::DefineSagaResponse& response);
nlohmann::json StartSagaResponseToJson(const trinity::v1::StartSagaResponse& response);
nlohmann::json ListSagasResponseToJson(const trinity::v1::ListSagasResponse& response);

// `json.dump()` that never throws on invalid UTF-8 (step outputs and messages
// carry whatever an action printed): bad bytes become U+FFFD.
std::string DumpJson(const nlohmann::json& json, int indent = -1);

}  // namespace tri::client
