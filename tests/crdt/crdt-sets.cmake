# crdt-sets: the shared convergence harness (convergence.h) and its own test.
tri_add_test(crdt_harness_test convergence_test.cc LIBS tri_base)
