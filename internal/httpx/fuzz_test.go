package httpx

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// fuzzBody has a field of every kind request types use.
type fuzzBody struct {
	S   string            `json:"s"`
	N   int32             `json:"n"`
	B   bool              `json:"b"`
	P   *string           `json:"p"`
	ID  uuid.UUID         `json:"id"`
	Opt *uuid.UUID        `json:"opt"`
	D   decimal.Decimal   `json:"d"`
	T   time.Time         `json:"t"`
	L   []struct{ Q int } `json:"l"`
	M   map[string]any    `json:"m"`
}

// FuzzDecode: any body is decoded or refused with a 4xx problem; never a
// panic, never a 500.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"s":"x","n":1,"b":true,"p":null,"id":"0190a0b0-0000-7000-8000-000000000000",` +
			`"opt":null,"d":"12.50","t":"2025-01-02T15:04:05Z","l":[{"Q":1}],"m":{"k":[1,{"z":null}]}}`,
		`{"n":2147483648}`, `{"n":1.5}`, `{"d":"1e400"}`, `{"d":1e400}`, `{"id":"nope"}`, `{"t":"yesterday"}`,
		`{"unknown":1}`, `{"s":1}`, `{"l":{}}`, `{} {}`, `{}x`, `{"s":"\ud800"}`, "\xff", `[[[[[[[[]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzBody
		err := Decode(body, &dst)
		if err == nil {
			return
		}
		var he *Error
		if !errors.As(err, &he) {
			t.Fatalf("%q: %T %v is not an *Error", body, err, err)
		}
		p := toProblem(err)
		if p.Status < 400 || p.Status > 499 {
			t.Fatalf("%q: status %d", body, p.Status)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("%q: the problem does not encode: %v", body, err)
		}
		// Decoding into a map takes the same path for the other shapes.
		var m map[string]any
		if err := Decode(body, &m); err != nil && ErrorCode(err) == CodeInternal {
			t.Fatalf("%q: map: %v", body, err)
		}
	})
}
