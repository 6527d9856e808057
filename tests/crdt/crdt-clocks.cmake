# crdt-clocks: clocks, counters, registers, the LWW map and the conflict strategies.
tri_add_test(crdt_version_vector_test version_vector_test.cc LIBS tri_crdt)
tri_add_test(crdt_hlc_test hlc_test.cc LIBS tri_crdt)
tri_add_test(crdt_dotted_version_vector_test dotted_version_vector_test.cc LIBS tri_crdt)
