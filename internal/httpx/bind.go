package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Validator is implemented by request types: it returns every invalid field.
type Validator interface {
	Validate() []FieldError
}

// Bind decodes the JSON body strictly into dst (which may already hold values,
// as PATCH uses it) and validates it. Malformed JSON, unknown fields and trailing
// data are 400, a wrong content type 415, a wrong JSON type or failed validation
// 422.
func Bind(c *fiber.Ctx, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	if err := Decode(c.Body(), dst); err != nil {
		return err
	}
	if v, ok := dst.(Validator); ok {
		if fields := v.Validate(); len(fields) > 0 {
			return Invalid(fields...)
		}
	}
	return nil
}

func requireJSON(c *fiber.Ctx) error {
	ct := c.Get(fiber.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return Errorf(CodeUnsupported, "the body must be JSON (Content-Type: application/json)")
	}
	return nil
}

// Decode decodes one JSON value strictly: unknown fields and trailing data are
// refused. The body is not retained: dst gets copies of every string.
func Decode(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Errorf(CodeBadRequest, "the request body is empty")
	}
	if err := checkShape(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(CodeBadRequest, "the body must hold exactly one JSON value")
	}
	return nil
}

// Bounds on the shape of a body, far beyond any request of the platform (an
// order has at most 50 lines). They refuse, before decoding, bodies built to
// make the decoder allocate per value (an error per unknown key or wrongly
// typed element turned 1 MiB into ~90 MiB) or to nest 10,000 levels deep.
const (
	MaxJSONDepth  = 64
	MaxJSONValues = 10_000 // commas: array elements and object members
)

// checkShape scans body once, without allocating, for nesting and size.
func checkShape(body []byte) error {
	depth, values := 0, 0
	inString, escaped := false, false
	for _, c := range body {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > MaxJSONDepth {
				return Errorf(CodeBadRequest, "the JSON is nested more than %d levels deep", MaxJSONDepth)
			}
		case ']', '}':
			depth--
		case ',':
			if values++; values > MaxJSONValues {
				return Errorf(CodeBadRequest, "the JSON holds more than %d values", MaxJSONValues)
			}
		}
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Errorf(CodeBadRequest, "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(CodeBadRequest, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return Errorf(CodeBadRequest, "the body must be a JSON object")
		}
		return Invalid(FieldError{Field: field, Message: fmt.Sprintf("must be a JSON %s", jsonKind(typ.Type.Kind().String()))})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Errorf(CodeBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	// Errors returned by a field's UnmarshalJSON (a bad decimal, date or uuid).
	return Errorf(CodeBadRequest, "invalid JSON value: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	default:
		return "number"
	}
}
