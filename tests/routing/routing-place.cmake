# routing-place: the node description, hashing, the ring, bounded loads, the shard table,
# rendezvous and the strategies (docs/routing.md); and the placement
# simulation's CI batch (tri-sim placement, LABELS sim).
tri_add_test(routing_place_test
  ${CMAKE_CURRENT_LIST_DIR}/hash_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/ring_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/bounded_load_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/shard_table_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/rendezvous_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/strategy_test.cc
  LIBS tri_routing)

# The goals at CI scale: every bound checked and the goal table required.
add_test(NAME sim_placement_batch
         COMMAND tri-sim placement --seeds 1..3 --nodes 200 --keys 400000
                 --rendezvous-keys 5000 --trials 6 --require-goals)
# The checkers can fail: keys left on an overloaded ring owner break the cap
# (few vnodes, so the ring alone overloads a node), and replicas chosen
# without zones share one.
add_test(NAME sim_placement_catches_ignored_cap
         COMMAND tri-sim placement --seeds 1..3 --nodes 50 --keys 20000 --vnodes 2
                 --rendezvous-keys 100 --trials 1 --inject-bug ignore-cap
                 --expect-violation bounded-load-cap)
add_test(NAME sim_placement_catches_zone_blind_replicas
         COMMAND tri-sim placement --seeds 1..3 --nodes 50 --keys 2000 --zones 3
                 --rendezvous-keys 2000 --trials 1 --inject-bug zone-blind-replicas
                 --expect-violation replica-zones)
set_tests_properties(sim_placement_batch sim_placement_catches_ignored_cap
                     sim_placement_catches_zone_blind_replicas
                     PROPERTIES TIMEOUT 300 LABELS sim)
