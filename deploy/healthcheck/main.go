// Command healthcheck is the Docker health check of the delivery image:
//
//	healthcheck http://127.0.0.1:8081/readyz
//
// It exits 0 when the URL answers 200 within two seconds, 1 otherwise. The
// final image is distroless (no shell, no wget or curl), so the health check
// is this tiny static binary copied next to delivery; it keeps the service
// binary free of an operations-only subcommand.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: healthcheck <url>")
		os.Exit(2)
	}
	if err := check(os.Args[1], 2*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
}

func check(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, body)
	}
	return nil
}
