package httpx

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Check collects field errors; request types use it in their Validate method.
type Check struct{ errs []FieldError }

// Errors returns the collected field errors.
func (v *Check) Errors() []FieldError { return v.errs }

// Add records that field is invalid unless ok.
func (v *Check) Add(ok bool, field, msg string, args ...any) bool {
	if !ok {
		v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	return ok
}

// Text requires a non-blank string of at most max characters.
func (v *Check) Text(field, s string, max int) bool {
	if !v.Add(strings.TrimSpace(s) != "", field, "is required") {
		return false
	}
	return v.MaxLen(field, s, max)
}

// MaxLen requires at most max characters (not bytes), and valid UTF-8
// without NUL (which PostgreSQL text cannot hold).
func (v *Check) MaxLen(field, s string, max int) bool {
	if !v.Add(utf8.ValidString(s), field, "must be valid UTF-8") {
		return false
	}
	if !v.Add(!strings.ContainsRune(s, 0), field, "must not contain NUL characters") {
		return false
	}
	return v.Add(utf8.RuneCountInString(s) <= max, field, "must be at most %d characters", max)
}

// Digits requires exactly n ASCII digits.
func (v *Check) Digits(field, s string, n int) bool {
	return v.Add(len(s) == n && allDigits(s), field, "must be exactly %d digits", n)
}

// Email requires a plain address such as name@example.com.
func (v *Check) Email(field, s string) bool {
	if !v.Text(field, s, 254) {
		return false
	}
	a, err := mail.ParseAddress(s)
	return v.Add(err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@'):], "."),
		field, "must be an email address such as name@example.com")
}

var wordChars = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Alnum requires exactly n letters or digits.
func (v *Check) Alnum(field, s string, n int) bool {
	return v.Add(len(s) == n && wordChars.MatchString(s), field, "must be exactly %d letters or digits", n)
}

// OneOf requires s to be one of the allowed values.
func (v *Check) OneOf(field, s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return v.Add(false, field, "must be one of %s", strings.Join(allowed, ", "))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
