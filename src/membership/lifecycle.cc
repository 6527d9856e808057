#include "membership/lifecycle.h"

namespace tri::membership {

Lifecycle DeriveLifecycle(State state, bool joining, const Metadata& metadata) {
  switch (state) {
    case State::kDead:
      return Lifecycle::kFailed;
    case State::kLeft:
      return Lifecycle::kLeaving;
    case State::kSuspect:
      return Lifecycle::kDegraded;
    case State::kAlive:
      break;
  }
  if (joining) return Lifecycle::kJoining;
  if (metadata.syncing) return Lifecycle::kSyncing;
  return Lifecycle::kActive;
}

std::string_view LifecycleName(Lifecycle lifecycle) {
  switch (lifecycle) {
    case Lifecycle::kJoining:
      return "joining";
    case Lifecycle::kActive:
      return "active";
    case Lifecycle::kSyncing:
      return "syncing";
    case Lifecycle::kDegraded:
      return "degraded";
    case Lifecycle::kLeaving:
      return "leaving";
    case Lifecycle::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view StateName(State state) {
  switch (state) {
    case State::kAlive:
      return "alive";
    case State::kSuspect:
      return "suspect";
    case State::kDead:
      return "dead";
    case State::kLeft:
      return "left";
  }
  return "unknown";
}

}  // namespace tri::membership
