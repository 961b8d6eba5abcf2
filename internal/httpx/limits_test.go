package httpx

import (
	"runtime"
	"strings"
	"testing"
)

// hugeBodies are bodies within the 1 MiB limit built to blow up a decoder.
func hugeBodies() map[string]string {
	return map[string]string{
		"100k nested arrays":  strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000),
		"100k nested objects": strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000),
		"900 KiB string":      `{"name":"` + strings.Repeat("x", 900<<10) + `"}`,
		"50k-element array":   `{"items":[` + strings.Repeat(`{},`, 50_000-1) + `{}]}`,
		"50k numbers":         `{"items":[` + strings.Repeat(`1,`, 50_000-1) + `1]}`,
		"100k unknown keys":   `{` + strings.Repeat(`"k":1,`, 100_000) + `"name":"x"}`,
		// Just within MaxJSONValues: each element costs the decoder an error.
		"10k wrongly typed elements": `{"items":[` + strings.Repeat(`1,`, MaxJSONValues-1) + `1]}`,
		"10k unknown keys":           `{` + strings.Repeat(`"k":1,`, MaxJSONValues-1) + `"name":"x"}`,
	}
}

type hugeTarget struct {
	Name  string `json:"name"`
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
}

// allocPerDecode is the average bytes allocated by one Decode of body.
func allocPerDecode(body []byte, runs int) (uint64, error) {
	var before, after runtime.MemStats
	var err error
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		var dst hugeTarget
		err = Decode(body, &dst)
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs), err
}

// Deeply nested or huge JSON within the body limit is refused (or decoded)
// with memory bounded by a small multiple of the body: never a blow-up, never
// a 5xx.
func TestHugeJSONBoundedMemory(t *testing.T) {
	// At most 4 bytes allocated per byte of body, plus 4 MiB.
	const factor, extra = 4, 4 << 20
	for name, body := range hugeBodies() {
		if len(body) > BodyLimit {
			t.Fatalf("%s: %d bytes, over the limit", name, len(body))
		}
		alloc, err := allocPerDecode([]byte(body), 5)
		if err != nil && (ErrorCode(err) == CodeInternal || toProblem(err).Status >= 500) {
			t.Errorf("%s: %v would be a 5xx", name, err)
		}
		if alloc > factor*uint64(len(body))+extra {
			t.Errorf("%s: %d bytes allocated for a %d-byte body (over %d× + 4 MiB)", name, alloc, len(body), factor)
		}
		t.Logf("figure: %s: %d-byte body, %.1f MiB allocated per decode (%.1f× the body), %v",
			name, len(body), float64(alloc)/(1<<20), float64(alloc)/float64(len(body)), err)
	}
}
