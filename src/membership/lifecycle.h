#pragma once

// A member's lifecycle derived from its SWIM state and gossiped hints
// (docs/membership.md, "Lifecycle"). First match wins:
//   dead -> failed; left -> leaving; suspect -> degraded;
//   alive and still joining -> joining; alive and metadata.syncing -> syncing;
//   alive -> active.

#include <string_view>

#include "membership/types.h"

namespace tri::membership {

Lifecycle DeriveLifecycle(State state, bool joining, const Metadata& metadata);

std::string_view LifecycleName(Lifecycle lifecycle);
std::string_view StateName(State state);

}  // namespace tri::membership
