// Package person holds the fields of a person that the customers and delivery
// men services share: the request body, its validation and normalisation, the
// response fields and the list filters. Each service embeds these in its own
// request and response types, so the rules are written once.
package person

import (
	"strings"
	"time"

	"github.com/delivery/platform/internal/httpx"
)

// Sex values. "other" covers every answer that is neither, without asking more.
const (
	SexFemale = "female"
	SexMale   = "male"
	SexOther  = "other"
)

// Sexes lists the accepted sex values.
var Sexes = []string{SexFemale, SexMale, SexOther}

// Age limits. A customer may be 16 (a delivery app account for a teenager);
// a delivery man must be an adult who can hold a driving licence.
const (
	MinAge         = 16
	MinAgeEmployee = 18
	MaxAge         = 120
)

// Field limits.
const (
	MaxName          = 100
	MaxAddress       = 100
	MaxEmail         = 254
	NationalIDDigits = 8
	PhoneDigits      = 9
)

// Request is the person part of a create/replace request. Services embed it;
// encoding/json flattens the fields into the body.
type Request struct {
	FirstName       string `json:"first_name"`
	PaternalSurname string `json:"paternal_surname"`
	MaternalSurname string `json:"maternal_surname"`
	NationalID      string `json:"national_id"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
	Address         string `json:"address"`
	BirthDate       Date   `json:"birth_date"`
	Sex             string `json:"sex"`
}

// Normalize trims surrounding spaces and lower-cases the email, so that the
// stored value is the one uniqueness is checked against.
func (r *Request) Normalize() {
	for _, s := range []*string{&r.FirstName, &r.PaternalSurname, &r.MaternalSurname, &r.NationalID, &r.Phone, &r.Address, &r.Sex} {
		*s = strings.TrimSpace(*s)
	}
	r.Email = strings.ToLower(strings.TrimSpace(r.Email))
}

// Check normalises r and records every invalid field in v. minAge is the
// youngest age accepted (MinAge, MinAgeEmployee); today is the date ages are
// counted at.
func (r *Request) Check(v *httpx.Check, minAge int, today Date) {
	r.Normalize()
	v.Text("first_name", r.FirstName, MaxName)
	v.Text("paternal_surname", r.PaternalSurname, MaxName)
	v.Text("maternal_surname", r.MaternalSurname, MaxName)
	v.Digits("national_id", r.NationalID, NationalIDDigits)
	v.Email("email", r.Email)
	v.Digits("phone", r.Phone, PhoneDigits)
	v.MaxLen("address", r.Address, MaxAddress)
	checkBirthDate(v, r.BirthDate, minAge, today)
	v.OneOf("sex", r.Sex, Sexes...)
}

func checkBirthDate(v *httpx.Check, d Date, minAge int, today Date) {
	switch {
	case d.IsZero():
		v.Add(false, "birth_date", "is required")
	case !d.Valid():
		v.Add(false, "birth_date", "must be a real date written YYYY-MM-DD")
	case !d.Time().Before(today.Time()):
		v.Add(false, "birth_date", "must be in the past")
	default:
		age := Age(d, today)
		v.Add(age >= minAge && age <= MaxAge, "birth_date", "must give an age from %d to %d years (got %d)", minAge, MaxAge, age)
	}
}

// Today is the current date in UTC, the date ages are counted at.
func Today() Date { return DateOf(time.Now().UTC()) }

// Person is the person part of a response. Services embed it.
type Person struct {
	FirstName       string `json:"first_name"`
	PaternalSurname string `json:"paternal_surname"`
	MaternalSurname string `json:"maternal_surname"`
	NationalID      string `json:"national_id"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
	Address         string `json:"address"`
	BirthDate       Date   `json:"birth_date"`
	Sex             string `json:"sex"`
}

// Request returns p as a full request, the base a PATCH body is merged onto.
func (p Person) Request() Request {
	return Request(p)
}

// Filter is the person part of a list request.
type Filter struct {
	Q          *string // name search, escaped for LIKE
	NationalID *string // exact
	Email      *string // exact, case-insensitive (lower-cased)
}

// ReadFilter reads ?q= (searched in the full name), ?national_id= and ?email=.
// Malformed values are collected in f; the caller answers f.Err().
func ReadFilter(f *httpx.Filters) Filter {
	out := Filter{Q: f.Text("q", MaxName), NationalID: f.String("national_id"), Email: f.String("email")}
	if out.Email != nil {
		e := strings.ToLower(strings.TrimSpace(*out.Email))
		out.Email = &e
	}
	return out
}
