# `tri-sim swim` (docs/membership.md): unit tests of the simulator's pieces,
# and CI batches of the real SWIM + Lifeguard core under faults with the
# checkers (every crash seen dead by every live member; no death of a member
# that did not crash, was not partitioned and did not stall past the
# suspicion timeout). scripts/swim-goals.sh runs the goal scenarios.
tri_add_test(swim_sim_test swim_sim_test.cc LIBS tri_sim_swim)
# CI batches: the real core under each fault, with the checkers on (each a few
# seconds on the 2-core VM).
add_test(NAME sim_swim_batch_crash_loss
         COMMAND tri-sim swim --nodes 100 --seeds 1..5 --loss 0.01 --crashes 5
                 --duration-ms 60000 --quiet)
add_test(NAME sim_swim_batch_stall_partition
         COMMAND tri-sim swim --nodes 50 --seeds 1..5 --loss 0.02 --crashes 2
                 --stall-fraction 0.1 --stall-gap-ms 10000 --long-stalls 2 --partitions 1
                 --duration-ms 120000 --quiet)
add_test(NAME sim_swim_batch_200_mixed
         COMMAND tri-sim swim --nodes 200 --seeds 1..2 --loss 0.05 --crashes 3
                 --stall-fraction 0.1 --stall-gap-ms 10000 --partitions 1 --updates 5
                 --duration-ms 60000 --quiet)
add_test(NAME sim_swim_batch_plain_swim_packets_first
         COMMAND tri-sim swim --nodes 100 --seeds 1..3 --loss 0.02 --crashes 3
                 --stall-fraction 0.1 --stall-gap-ms 10000 --no-lifeguard
                 --stall-resume packets-first --duration-ms 60000 --quiet)
# Each deliberate driver bug must be caught by its check.
add_test(NAME sim_swim_catches_zombie_crash
         COMMAND tri-sim swim --nodes 50 --seeds 1..5 --crashes 2 --duration-ms 30000 --quiet
                 --inject-bug zombie-crash --expect-violation "crash detected by every member")
add_test(NAME sim_swim_catches_mute_after_stall
         COMMAND tri-sim swim --nodes 50 --seeds 1..5 --stall-fraction 0.2 --stall-gap-ms 5000
                 --duration-ms 60000 --quiet
                 --inject-bug mute-after-stall --expect-violation "no false positive")
set_tests_properties(sim_swim_batch_crash_loss sim_swim_batch_stall_partition
                     sim_swim_batch_200_mixed sim_swim_batch_plain_swim_packets_first
                     sim_swim_catches_zombie_crash sim_swim_catches_mute_after_stall
                     PROPERTIES TIMEOUT 120 LABELS sim)
