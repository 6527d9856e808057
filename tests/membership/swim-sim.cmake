# `tri-sim swim` (docs/membership-sim.md): unit tests of the simulator's pieces,
# and CI batches of the real SWIM + Lifeguard core under faults with the
# checkers (every crash seen dead by every live member; no death of a member
# that did not crash, was not partitioned and did not stall past the
# suspicion timeout). scripts/swim-goals.sh runs the goal scenarios.
tri_add_test(swim_sim_test swim_sim_test.cc LIBS tri_sim_swim)
