package orders_test

import (
	"flag"
	"testing"
	"time"

	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/orders"
)

// fuzzOnly reports whether this run only fuzzes (go test -run '^$' -fuzz X,
// or a fuzz worker): the fuzz targets need no Temporal server, which
// TestMain would otherwise start in every worker. Call after flag.Parse.
func fuzzOnly() bool {
	get := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return get("test.fuzzworker") == "true" || (get("test.fuzz") != "" && get("test.run") == "^$")
}

// FuzzOrderRequest: POST /orders bodies through the strict decoder and the
// order validation are accepted or refused with a 4xx, never a panic or a
// 500; an accepted order respects every rule.
func FuzzOrderRequest(f *testing.F) {
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	for _, s := range append([]string{
		`{"customer_id":"0190a0b0-0000-7000-8000-000000000001","delivery_man_id":"0190a0b0-0000-7000-8000-000000000002",` +
			`"items":[{"product_id":"0190a0b0-0000-7000-8000-000000000003","quantity":2}],"phone":"987654321",` +
			`"delivery_address":"Av. Arequipa 123","deliver_at":"` + future + `"}`,
		`{"deliver_at":"2000-01-01T00:00:00Z"}`, `{"deliver_at":"0001-01-01T00:00:00Z"}`, `{"deliver_at":"9999-12-31T23:59:59+14:00"}`,
		`{"deliver_at":"2030-02-30T00:00:00Z"}`, `{"deliver_at":1700000000}`, `{"phone":"98765432١"}`, `{"phone":987654321}`,
		`{"items":[{"product_id":"0190a0b0-0000-7000-8000-000000000003","quantity":10001}]}`,
		`{"items":[{"product_id":"0190a0b0-0000-7000-8000-000000000003","quantity":1},{"product_id":"0190a0b0-0000-7000-8000-000000000003","quantity":1}]}`,
		`{"items":[{},{}],"delivery_address":"'; DELETE FROM orders; --"}`, `{"user_id":"0190a0b0-0000-7000-8000-000000000009"}`,
	}, testenv.Seeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r orders.OrderRequest
		if !testenv.CheckBind(t, body, &r) {
			return
		}
		seen := map[string]bool{}
		for _, it := range r.Items {
			if it.Quantity < 1 || it.Quantity > orders.MaxQuantity || seen[it.ProductID.String()] {
				t.Fatalf("%q accepted with line %+v", body, it)
			}
			seen[it.ProductID.String()] = true
		}
		if len(r.Items) == 0 || len(r.Items) > orders.MaxItems || len(r.Phone) != 9 || !r.DeliverAt.After(time.Now().Add(-time.Minute)) {
			t.Fatalf("%q accepted: %+v", body, r)
		}
	})
}
