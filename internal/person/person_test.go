package person_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/person"
)

func TestDateJSON(t *testing.T) {
	var v struct {
		D person.Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2000-02-29"}`), &v); err != nil || v.D.String() != "2000-02-29" || !v.D.Valid() {
		t.Fatalf("leap day: %v %q", err, v.D)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"2000-02-29"}` {
		t.Errorf("marshal = %s", b)
	}
	for _, in := range []string{`"2001-02-29"`, `"2001-13-01"`, `"01-01-2001"`, `"2001-1-1"`, `"2001-01-01T00:00:00Z"`, `20010101`, `true`, `{}`} {
		var v struct {
			D person.Date `json:"d"`
		}
		if err := json.Unmarshal([]byte(`{"d":`+in+`}`), &v); err != nil {
			t.Errorf("%s: decoding must not fail (Check reports it): %v", in, err)
		}
		if v.D.Valid() || v.D.IsZero() {
			t.Errorf("%s: want malformed, got valid=%v zero=%v", in, v.D.Valid(), v.D.IsZero())
		}
	}
	var n struct {
		D person.Date `json:"d"`
	}
	n.D = person.NewDate(2000, 1, 1)
	if err := json.Unmarshal([]byte(`{"d":null}`), &n); err != nil || !n.D.IsZero() {
		t.Errorf("null must clear the date: %v %v", err, n.D)
	}
	if b, _ := json.Marshal(n); string(b) != `{"d":null}` {
		t.Errorf("zero date marshals as %s", b)
	}
}

func TestAge(t *testing.T) {
	today := person.NewDate(2026, time.March, 10)
	for _, c := range []struct {
		birth person.Date
		want  int
	}{
		{person.NewDate(2008, time.March, 10), 18},
		{person.NewDate(2008, time.March, 11), 17},
		{person.NewDate(2008, time.February, 29), 18},
		{person.NewDate(1906, time.March, 11), 119},
	} {
		if got := person.Age(c.birth, today); got != c.want {
			t.Errorf("Age(%s) = %d, want %d", c.birth, got, c.want)
		}
	}
}

func valid() person.Request {
	return person.Request{
		FirstName: " Ana ", PaternalSurname: "Quispe", MaternalSurname: "Mamani", NationalID: "12345678",
		Email: " Ana.Quispe@Example.COM ", Phone: "987654321", Address: "Av. Arequipa 123",
		BirthDate: person.NewDate(1990, time.May, 4), Sex: person.SexFemale,
	}
}

func fields(errs []httpx.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestCheck(t *testing.T) {
	today := person.NewDate(2026, time.March, 10)
	r := valid()
	var v httpx.Check
	r.Check(&v, person.MinAge, today)
	if len(v.Errors()) != 0 {
		t.Fatalf("valid request refused: %v", v.Errors())
	}
	if r.Email != "ana.quispe@example.com" || r.FirstName != "Ana" {
		t.Errorf("not normalised: %q %q", r.Email, r.FirstName)
	}

	bad := person.Request{
		FirstName: " ", MaternalSurname: string(make([]rune, 101)), NationalID: "1234567a", Email: "not-an-email",
		Phone: "98765432", Address: string(slices.Repeat([]byte("x"), 101)), BirthDate: person.NewDate(2026, time.March, 10), Sex: "f",
	}
	v = httpx.Check{}
	bad.Check(&v, person.MinAge, today)
	want := []string{"first_name", "paternal_surname", "maternal_surname", "national_id", "email", "phone", "address", "birth_date", "sex"}
	if got := fields(v.Errors()); !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}

	for _, c := range []struct {
		birth  person.Date
		minAge int
		ok     bool
	}{
		{person.NewDate(2010, time.March, 10), person.MinAge, true},          // 16 today
		{person.NewDate(2010, time.March, 11), person.MinAge, false},         // 15
		{person.NewDate(2010, time.March, 10), person.MinAgeEmployee, false}, // 16 < 18
		{person.NewDate(2008, time.March, 10), person.MinAgeEmployee, true},
		{person.NewDate(1905, time.March, 10), person.MinAge, false}, // 121
		{person.NewDate(2030, time.January, 1), person.MinAge, false},
		{person.Date{}, person.MinAge, false},
	} {
		r := valid()
		r.BirthDate = c.birth
		var v httpx.Check
		r.Check(&v, c.minAge, today)
		if ok := len(v.Errors()) == 0; ok != c.ok {
			t.Errorf("birth %q min %d: ok=%v, errors %v", c.birth, c.minAge, ok, v.Errors())
		}
	}
}
