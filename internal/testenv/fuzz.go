package testenv

import (
	"errors"
	"testing"

	"github.com/delivery/platform/internal/httpx"
)

// CheckBind runs body through what httpx.Bind does to a request (strict
// decode into dst, then its Validate) and fails unless the outcome is
// success or an *httpx.Error a client may see with a 4xx status: never a
// panic, never an error that would become a 500. It reports whether the body
// was accepted.
func CheckBind(t testing.TB, body []byte, dst any) bool {
	t.Helper()
	err := httpx.Decode(body, dst)
	if err == nil {
		if v, ok := dst.(httpx.Validator); ok {
			if fields := v.Validate(); len(fields) > 0 {
				err = httpx.Invalid(fields...)
			}
		}
	}
	if err == nil {
		return true
	}
	var he *httpx.Error
	if !errors.As(err, &he) {
		t.Fatalf("%q: %T %v is not an *httpx.Error: it would be a 500", body, err, err)
	}
	if s := he.Code.Status(); s < 400 || s > 499 {
		t.Fatalf("%q: status %d (%v), want 4xx", body, s, err)
	}
	return false
}

// Seeds are bodies every request fuzz target starts from, beside its own
// valid examples: the shapes that broke JSON decoders before.
var Seeds = []string{
	``, ` `, `null`, `{}`, `[]`, `""`, `0`, `true`, `{"a":1}`, `{} {}`, `{}x`, `{"`, `{"a"`, `{"a":}`,
	`[[[[[[[[[[]]]]]]]]]]`, `{"a":{"b":{"c":{}}}}`, "\xff\xfe", "{\"\xff\":1}", `{"\u0000":1}`,
	`{"x":1e999}`, `{"x":-0}`, `{"x":"\ud800"}`, `{"x":123456789012345678901234567890}`,
}
