package person

import (
	"encoding/json"
	"time"
)

// DateLayout is how a Date is written in JSON: "2006-01-02".
const DateLayout = time.DateOnly

// Date is a calendar date without a time of day, written "YYYY-MM-DD". The zero
// Date is "no date" (JSON null).
//
// A JSON value that is not a real date does not fail decoding: the Date
// remembers it was malformed and Check reports it as a field error (422 naming
// birth_date) rather than a bare 400.
type Date struct {
	t         time.Time // midnight UTC
	malformed bool
}

// NewDate returns the date y-m-d; it normalises like time.Date.
func NewDate(y int, m time.Month, d int) Date {
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	return NewDate(t.Date())
}

// ParseDate parses "YYYY-MM-DD"; impossible dates such as 2023-02-30 fail.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t: t}, nil
}

// Time is the date at midnight UTC (what a PostgreSQL date column holds).
func (d Date) Time() time.Time { return d.t }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.t.IsZero() && !d.malformed }

// Valid reports whether d is a set, well-formed date.
func (d Date) Valid() bool { return !d.t.IsZero() && !d.malformed }

// String is "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if !d.Valid() {
		return ""
	}
	return d.t.Format(DateLayout)
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if !d.Valid() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*d = Date{malformed: true}
		return nil
	}
	p, err := ParseDate(s)
	if err != nil {
		*d = Date{malformed: true}
		return nil
	}
	*d = p
	return nil
}

// Age is the number of whole years from birth to today.
func Age(birth, today Date) int {
	by, bm, bd := birth.t.Date()
	ty, tm, td := today.t.Date()
	age := ty - by
	if tm < bm || tm == bm && td < bd {
		age--
	}
	return age
}
