package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			http.Error(w, `{"postgres":"down"}`, http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	if err := check(srv.URL+"/readyz", time.Second); err != nil {
		t.Errorf("ready service: %v", err)
	}
	if err := check(srv.URL+"/down", time.Second); err == nil {
		t.Error("a 503 passed the health check")
	}
	if err := check(srv.URL+"/slow", 50*time.Millisecond); err == nil {
		t.Error("a response slower than the timeout passed the health check")
	}
	if err := check("http://127.0.0.1:1/readyz", time.Second); err == nil {
		t.Error("a closed port passed the health check")
	}
}
