package users_test

import (
	"testing"

	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/users"
)

func seed(f *testing.F, valid ...string) {
	for _, s := range append(valid, testenv.Seeds...) {
		f.Add([]byte(s))
	}
}

// FuzzUserRequest: POST/PUT bodies, and PATCH bodies merged onto a stored
// user, are accepted or refused with a 4xx, never a panic or a 500.
func FuzzUserRequest(f *testing.F) {
	seed(f, `{"email":"ana@example.com","name":"Ana","role":"operator","active":true,"password":"0123456789"}`,
		`{"email":"a@b","name":"x","role":"root"}`, `{"email":"Ana <ana@example.com>","name":"x","role":"admin"}`,
		`{"email":"o'brien@example.com","name":"x","role":"courier","password":"short"}`, `{"role":null}`,
		`{"password":"`+string(make([]byte, 80))+`"}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r users.UserRequest
		if testenv.CheckBind(t, body, &r) && !r.Role.Valid() {
			t.Fatalf("%q accepted with role %q", body, r.Role)
		}
		patch := users.UserRequest{Email: "ana@example.com", Name: "Ana", Role: "courier", Active: true}
		testenv.CheckBind(t, body, &patch)
	})
}

// FuzzLoginRequest: POST /auth/login bodies.
func FuzzLoginRequest(f *testing.F) {
	seed(f, `{"email":"admin@delivery.local","password":"admin-dev-password"}`, `{"email":"","password":""}`,
		`{"email":"a@b.co","password":null}`, `{"email":["a"],"password":"x"}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r users.LoginRequest
		testenv.CheckBind(t, body, &r)
	})
}

// FuzzMeRequest: PATCH /users/me bodies.
func FuzzMeRequest(f *testing.F) {
	seed(f, `{"name":"New"}`, `{"password":"new-password-1","current_password":"old-password-1"}`,
		`{"password":"new-password-1"}`, `{"password":"","current_password":null}`, `{"role":"admin"}`,
		`{"active":false,"email":"x@y.zz"}`, `{"name":null,"password":null}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var r users.MeRequest
		if testenv.CheckBind(t, body, &r) && r.Password != nil && *r.Password != "" && (r.CurrentPassword == nil || *r.CurrentPassword == "") {
			t.Fatalf("%q accepted: a new password without the current one", body)
		}
	})
}
