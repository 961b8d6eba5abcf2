package products_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/products"
)

func seed(f *testing.F, valid ...string) {
	for _, s := range append(valid, testenv.Seeds...) {
		f.Add([]byte(s))
	}
}

// FuzzProductRequest: POST/PUT bodies, and PATCH bodies merged onto a stored
// product, are accepted or refused with a 4xx, never a panic or a 500.
func FuzzProductRequest(f *testing.F) {
	seed(f, `{"name":"Tea","description":"green","price":"12.50","stock":3,"active":true}`,
		`{"name":"Tea","price":12.5}`, `{"name":"Tea","price":"0.001"}`, `{"name":"Tea","price":"-1"}`,
		`{"name":"Tea","price":"9999999999.99"}`, `{"name":"Tea","price":"1e10"}`, `{"name":"Tea","price":"1e-400"}`,
		`{"name":"Tea","price":"NaN"}`, `{"name":"Tea","price":"12.50","stock":-1}`, `{"name":"Tea","price":"1","stock":2147483648}`,
		`{"name":"","price":"1"}`, `{"name":"x'; DROP TABLE products;--","price":"1"}`, `{"price":null}`, `{"stock":1.5}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r products.ProductRequest
		if testenv.CheckBind(t, body, &r) && (!r.Price.IsPositive() || r.Stock < 0 || r.Price.GreaterThanOrEqual(decimal.New(1, 10))) {
			t.Fatalf("%q accepted with price %s stock %d", body, r.Price, r.Stock)
		}
		patch := products.ProductRequest{Name: "Tea", Price: decimal.RequireFromString("1.50"), Stock: 1, Active: true}
		testenv.CheckBind(t, body, &patch)
	})
}

// FuzzReservationRequest: POST /reservations bodies.
func FuzzReservationRequest(f *testing.F) {
	seed(f, `{"order_id":"0190a0b0-0000-7000-8000-000000000001","items":[{"product_id":"0190a0b0-0000-7000-8000-000000000002","quantity":2}]}`,
		`{"order_id":"0190a0b0-0000-7000-8000-000000000001","items":[]}`,
		`{"order_id":"00000000-0000-0000-0000-000000000000","items":[{"product_id":"x","quantity":0}]}`,
		`{"order_id":"0190a0b0-0000-7000-8000-000000000001","items":[{"product_id":"0190a0b0-0000-7000-8000-000000000002","quantity":1},{"product_id":"0190a0b0-0000-7000-8000-000000000002","quantity":1}]}`,
		`{"items":[{},{},{}]}`, `{"items":null}`, `{"items":[{"quantity":-2147483648}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r products.ReservationRequest
		if testenv.CheckBind(t, body, &r) && (len(r.Items) == 0 || len(r.Items) > products.MaxItems) {
			t.Fatalf("%q accepted with %d items", body, len(r.Items))
		}
	})
}
