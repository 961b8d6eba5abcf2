package customers_test

import (
	"testing"

	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/customers"
)

// FuzzCustomerRequest: POST/PUT bodies, and PATCH bodies merged onto a stored
// customer, are accepted or refused with a 4xx, never a panic or a 500.
func FuzzCustomerRequest(f *testing.F) {
	valid := `{"first_name":"Ana","paternal_surname":"Quispe","maternal_surname":"Mamani","national_id":"12345678",` +
		`"email":"ana@example.com","phone":"987654321","address":"Av. Arequipa 123","birth_date":"1990-05-04","sex":"female"}`
	for _, s := range append([]string{valid,
		`{"birth_date":"1990-02-30"}`, `{"birth_date":"0000-01-01"}`, `{"birth_date":"99999-01-01"}`, `{"birth_date":19900504}`,
		`{"national_id":"1234567a","email":"a@","phone":"+51987654321","sex":"F"}`, `{"first_name":"O'Brien\"; --"}`,
		`{"address":"\u202e\u0000"}`}, testenv.Seeds...) {
		f.Add([]byte(s))
	}
	var base customers.CustomerRequest
	if !testenv.CheckBind(f, []byte(valid), &base) {
		f.Fatal("the valid seed is refused")
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r customers.CustomerRequest
		testenv.CheckBind(t, body, &r)
		patch := base
		testenv.CheckBind(t, body, &patch)
	})
}
