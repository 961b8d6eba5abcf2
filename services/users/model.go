package users

import (
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/services/users/db"
)

// Password length rules, in bytes: bcrypt reads at most 72.
const (
	MinPassword = 10
	MaxPassword = 72
)

var roleNames = func() []string {
	out := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		out[i] = string(r)
	}
	return out
}()

// checkPassword records whether pw is an acceptable password.
func checkPassword(v *httpx.Check, field, pw string) bool {
	return v.Add(len(pw) >= MinPassword && len(pw) <= MaxPassword, field,
		"must be %d to %d bytes long", MinPassword, MaxPassword)
}

// UserRequest is the body of POST, PUT and (merged onto the current state)
// PATCH /users. Password is write-only: required on POST; empty or absent on
// PUT/PATCH keeps the current one.
type UserRequest struct {
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Active   bool      `json:"active"`
	Password string    `json:"password"`
}

func newUserRequest() UserRequest { return UserRequest{Active: true} }

// Validate implements httpx.Validator.
func (r *UserRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Email("email", r.Email)
	v.Text("name", r.Name, 100)
	v.OneOf("role", string(r.Role), roleNames...)
	if r.Password != "" {
		checkPassword(&v, "password", r.Password)
	}
	return v.Errors()
}

// User is an account as clients see it; the password hash never leaves the
// service.
type User struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toUser(u db.User) User {
	return User{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: auth.Role(u.Role), Active: u.Active,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func toUserRequest(u User) UserRequest {
	return UserRequest{Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active}
}

// MeRequest is the body of PATCH /users/me: a user changes their own name and
// password. Role, active and email are the admins' to change: naming them with
// another value than the current one is refused (403). A new password needs
// the current one.
type MeRequest struct {
	Name            *string    `json:"name"`
	Password        *string    `json:"password"`
	CurrentPassword *string    `json:"current_password"`
	Email           *string    `json:"email"`
	Role            *auth.Role `json:"role"`
	Active          *bool      `json:"active"`
}

// Validate implements httpx.Validator.
func (r *MeRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	if r.Name != nil {
		v.Text("name", *r.Name, 100)
	}
	if r.Password != nil && *r.Password != "" {
		checkPassword(&v, "password", *r.Password)
		v.Add(r.CurrentPassword != nil && *r.CurrentPassword != "", "current_password", "is required to change the password")
	}
	return v.Errors()
}

// LoginRequest is the body of POST /auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate implements httpx.Validator. Only presence is checked: a password
// that breaks the rules is simply a wrong password (401).
func (r *LoginRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Text("email", r.Email, 254)
	v.Add(r.Password != "", "password", "is required")
	return v.Errors()
}

// LoginResponse is an OAuth 2.0-style bearer token answer.
type LoginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}
