// Package faults holds the fault tests of the platform: real processes of the
// built binary, a real Temporal dev server and real PostgreSQL, with one part
// broken at a time (the worker killed, an entity service down, PostgreSQL or
// Temporal restarted, one Idempotency-Key sent 50 times at once). Each
// scenario starts its own processes on free loopback ports and stops them by
// itself; after each, the stock and courier accounting must add up.
//
// `go test ./faults` runs the short versions (part of `make test`);
// `make test-faults` (FAULTS=long) runs the full sizes of issue 5, whose
// figures are in RELIABILITY.md.
package faults
