// Package httpx is the HTTP platform every service shares: the Fiber app with its
// error handler, strict body binding, validation, pagination and the generic
// resource handlers.
package httpx

import (
	"errors"
	"fmt"
)

// Code is the kind of an error; one map turns it into an HTTP status and a
// problem type, so every service answers the same way.
type Code string

const (
	CodeInvalid         Code = "validation-failed"   // 422
	CodeBadRequest      Code = "bad-request"         // 400
	CodeNotFound        Code = "not-found"           // 404
	CodeConflict        Code = "conflict"            // 409
	CodeUnauthorized    Code = "unauthorized"        // 401
	CodeForbidden       Code = "forbidden"           // 403
	CodeTooLarge        Code = "payload-too-large"   // 413
	CodeUnsupported     Code = "unsupported-media"   // 415
	CodeTooManyRequests Code = "too-many-requests"   // 429
	CodeUnavailable     Code = "service-unavailable" // 503
	CodeInternal        Code = "internal"            // 500
)

var codeStatus = map[Code]int{
	CodeInvalid:         422,
	CodeBadRequest:      400,
	CodeNotFound:        404,
	CodeConflict:        409,
	CodeUnauthorized:    401,
	CodeForbidden:       403,
	CodeTooLarge:        413,
	CodeUnsupported:     415,
	CodeTooManyRequests: 429,
	CodeUnavailable:     503,
	CodeInternal:        500,
}

var codeTitle = map[Code]string{
	CodeInvalid:         "Validation failed",
	CodeBadRequest:      "Bad request",
	CodeNotFound:        "Not found",
	CodeConflict:        "Conflict",
	CodeUnauthorized:    "Unauthorized",
	CodeForbidden:       "Forbidden",
	CodeTooLarge:        "Payload too large",
	CodeUnsupported:     "Unsupported media type",
	CodeTooManyRequests: "Too many requests",
	CodeUnavailable:     "Service unavailable",
	CodeInternal:        "Internal server error",
}

// Status is the HTTP status of a code.
func (c Code) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return 500
}

// FieldError names one invalid field of a request and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error a client may see. Anything that is not an *Error reaches the
// client as a bare 500.
type Error struct {
	Code   Code
	Detail string
	// Type overrides the problem type for refusals a client must tell apart
	// (e.g. "insufficient-stock" under a 422); empty means the code.
	Type   string
	Fields []FieldError
	// Extensions are extra members of the problem document (RFC 9457 §3.2),
	// e.g. the reasons of a rejected order. They must not reuse a standard name.
	Extensions map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s %v", e.Code, e.Detail, e.Fields)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

// Errorf builds an *Error with a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// NotFound says that the named entity with this id does not exist.
func NotFound(entity string, id any) *Error {
	return Errorf(CodeNotFound, "%s %v not found", entity, id)
}

// Invalid is a validation failure with one or more field errors.
func Invalid(fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Detail: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of err, or CodeInternal when err is not ours.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
