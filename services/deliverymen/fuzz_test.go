package deliverymen_test

import (
	"testing"

	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/deliverymen"
)

// FuzzDeliveryManRequest: POST/PUT bodies, and PATCH bodies merged onto a
// stored delivery man, are accepted or refused with a 4xx, never a panic or
// a 500.
func FuzzDeliveryManRequest(f *testing.F) {
	valid := `{"first_name":"Jorge","paternal_surname":"Huamán","maternal_surname":"Torres","national_id":"20000001",` +
		`"email":"jorge@example.com","phone":"955555555","address":"Jr. Cusco 456","birth_date":"1995-08-20","sex":"male",` +
		`"driver_license":"q12345678","available":true,"user_id":null,"capacity":3}`
	for _, s := range append([]string{valid,
		`{"user_id":"00000000-0000-0000-0000-000000000000"}`, `{"user_id":"nope"}`, `{"capacity":0}`, `{"capacity":21}`,
		`{"capacity":-2147483649}`, `{"driver_license":" q1234567 "}`, `{"driver_license":"ǅ12345678"}`, `{"birth_date":"2020-01-01"}`},
		testenv.Seeds...) {
		f.Add([]byte(s))
	}
	var base deliverymen.DeliveryManRequest
	if !testenv.CheckBind(f, []byte(valid), &base) {
		f.Fatal("the valid seed is refused")
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r deliverymen.DeliveryManRequest
		if testenv.CheckBind(t, body, &r) && (r.Capacity < 1 || r.Capacity > deliverymen.MaxCapacity || len(r.DriverLicense) != 9) {
			t.Fatalf("%q accepted with capacity %d licence %q", body, r.Capacity, r.DriverLicense)
		}
		patch := base
		testenv.CheckBind(t, body, &patch)
	})
}

// FuzzAssignmentRequest: POST /assignments bodies.
func FuzzAssignmentRequest(f *testing.F) {
	for _, s := range append([]string{
		`{"order_id":"0190a0b0-0000-7000-8000-000000000001","delivery_man_id":"0190a0b0-0000-7000-8000-000000000002"}`,
		`{"order_id":"0190a0b0-0000-7000-8000-000000000001"}`, `{"order_id":"{0190a0b0-0000-7000-8000-000000000001}"}`,
		`{"order_id":"urn:uuid:0190a0b0-0000-7000-8000-000000000001"}`, `{"delivery_man_id":1}`}, testenv.Seeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r deliverymen.AssignmentRequest
		testenv.CheckBind(t, body, &r)
	})
}
