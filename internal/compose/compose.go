// Package compose holds the checks of docker-compose.yml and the Dockerfile
// against the code (compose_test.go): every service the code has runs in
// compose on the port its configuration expects, with a health check, reads
// only environment variables that internal/config knows, and starts after
// what it needs. The stack cannot be run without a Docker engine, so `go
// test ./...` is where a mismatch shows.
package compose
