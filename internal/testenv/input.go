package testenv

import (
	"encoding/json"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/delivery/platform/internal/httpx"
)

// Meta is text made of SQL, LIKE and shell metacharacters: stored and
// returned literally, never interpreted.
const Meta = `O'Brien"; DROP TABLE x; -- /* 100% _ \ $1 ${x} ' OR '1'='1`

// CheckLiteral creates a record with body at path (POST), reads it back and
// wants every field of want returned exactly, then lists path?filter=value for
// each filter and wants the record found (LIKE wildcards match literally).
// It returns how many fields and filters it checked.
func CheckLiteral(t *testing.T, api *API, token, path string, body map[string]any, want []string, filters map[string]string) int {
	t.Helper()
	r := api.Do(t, "POST", path, token, body)
	if r.Status != 201 {
		t.Fatalf("POST %s with metacharacters: %d %s", path, r.Status, r.Body)
	}
	var created map[string]any
	r.JSON(t, &created)
	id, _ := created["id"].(string)
	r = api.Do(t, "GET", path+"/"+id, token, nil)
	var got map[string]any
	r.JSON(t, &got)
	n := 0
	for _, f := range want {
		n++
		if got[f] != body[f] {
			t.Errorf("%s %s: stored %q, came back %q", path, f, body[f], got[f])
		}
	}
	for k, v := range filters {
		n++
		r := api.Do(t, "GET", path+"?"+k+"="+url.QueryEscape(v), token, nil)
		var l struct{ Items []map[string]any }
		r.JSON(t, &l)
		found := false
		for _, it := range l.Items {
			found = found || it["id"] == id
		}
		if r.Status != 200 || !found {
			t.Errorf("%s?%s=%q: %d, found %v: %s", path, k, v, r.Status, found, r.Body)
		}
	}
	return n
}

// CheckBadText sends text fields holding a NUL (which PostgreSQL text cannot
// store) and list filters holding NUL or invalid UTF-8: each must be a 4xx
// (it was a 500). It returns how many it checked.
func CheckBadText(t *testing.T, api *API, token, path string, body map[string]any, fields, filters []string) int {
	t.Helper()
	n := 0
	for _, f := range fields {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		b[f] = "a\x00b"
		raw, _ := json.Marshal(b)
		n++
		if r := api.Do(t, "POST", path, token, raw); r.Status != 422 {
			t.Errorf("POST %s with a NUL in %s: %d, want 422: %s", path, f, r.Status, r.Body)
		}
	}
	for _, f := range filters {
		for _, v := range []string{"%00", "%ff%fe", "a%00b"} {
			n++
			if r := api.Do(t, "GET", path+"?"+f+"="+v, token, nil); r.Status != 422 {
				t.Errorf("GET %s?%s=%s: %d, want 422: %s", path, f, v, r.Status, r.Body)
			}
		}
	}
	return n
}

// HugeBodies are bodies within the 1 MiB limit built to blow up a decoder.
func HugeBodies() map[string]string {
	return map[string]string{
		"100k nested arrays": strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000),
		"900 KiB string":     `{"name":"` + strings.Repeat("x", 900<<10) + `"}`,
		"50k-element array":  `{"items":[` + strings.Repeat(`{},`, 50_000-1) + `{}]}`,
		"100k unknown keys":  `{` + strings.Repeat(`"k":1,`, 100_000) + `"name":"x"}`,
		"10k wrong elements": `{"items":[` + strings.Repeat(`1,`, httpx.MaxJSONValues-1) + `1]}`,
	}
}

// CheckHugeBodies posts each of HugeBodies to url (a served app, over a real
// connection) and wants a 4xx, with the whole process allocating at most
// 4 bytes per byte of body plus 8 MiB for the request. It returns the largest
// allocation measured.
func CheckHugeBodies(t *testing.T, url, token string) (maxAlloc uint64) {
	t.Helper()
	for name, body := range HugeBodies() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := Send(t, "POST", url, token, []byte(body))
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		maxAlloc = max(maxAlloc, alloc)
		if r.Status < 400 || r.Status > 499 {
			t.Errorf("%s: %d, want a 4xx: %.200s", name, r.Status, r.Body)
		}
		if bound := 4*uint64(len(body)) + 8<<20; alloc > bound {
			t.Errorf("%s: %d bytes allocated for a %d-byte body (bound %d)", name, alloc, len(body), bound)
		}
		t.Logf("figure: %s → %s: %d, %.1f MiB allocated by the process", name, url, r.Status, float64(alloc)/(1<<20))
	}
	return maxAlloc
}
