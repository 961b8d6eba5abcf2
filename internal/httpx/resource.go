package httpx

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Page is a keyset page request: at most Limit items whose id is after After.
// Ids are UUIDv7, so id order is creation order and stable.
type Page struct {
	Limit int32
	After uuid.UUID // uuid.Nil: from the start
}

// Page limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// List is the body of every list response.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Query reads one query parameter as a copy (Fiber reuses its buffers).
type Query func(key string) string

// ParsePage reads ?limit= and ?cursor=.
func ParsePage(q Query) (Page, error) {
	p := Page{Limit: DefaultLimit}
	var fields []FieldError
	if s := q("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			fields = append(fields, FieldError{Field: "limit", Message: "must be a whole number from 1 to 100"})
		} else {
			p.Limit = int32(n)
		}
	}
	if s := q("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		id, err2 := uuid.FromBytes(b)
		if err != nil || err2 != nil {
			fields = append(fields, FieldError{Field: "cursor", Message: "is not a cursor this service returned"})
		} else {
			p.After = id
		}
	}
	if len(fields) > 0 {
		return p, Invalid(fields...)
	}
	return p, nil
}

// NewList builds a page from up to limit+1 rows: the extra row only tells that
// there is a next page.
func NewList[T any](rows []T, limit int32, id func(T) uuid.UUID) List[T] {
	l := List[T]{Items: rows}
	if l.Items == nil {
		l.Items = []T{}
	}
	if int32(len(rows)) > limit {
		l.Items = rows[:limit]
		c := base64.RawURLEncoding.EncodeToString(func() []byte { u := id(rows[limit-1]); return u[:] }())
		l.NextCursor = &c
	}
	return l
}

// Resource is the CRUD API of one entity. Each service supplies the store
// functions; the HTTP behaviour (binding, status codes, Location, PATCH as a
// merge onto the current state, pagination) is the same for every entity.
type Resource[Req any, Resp any] struct {
	Entity string // "product", used in messages
	Path   string // "/products"
	ID     func(Resp) uuid.UUID

	Get    func(ctx context.Context, id uuid.UUID) (Resp, error)
	List   func(ctx context.Context, page Page, q Query) ([]Resp, error) // up to page.Limit+1 rows
	Create func(ctx context.Context, req *Req) (Resp, error)
	Update func(ctx context.Context, id uuid.UUID, req *Req) (Resp, error)
	Delete func(ctx context.Context, id uuid.UUID) error
	// Current returns a stored record as a full request, onto which a PATCH
	// body is merged before it is validated like a PUT.
	Current func(Resp) Req
	// NewReq returns an empty create/replace request (defaults filled in).
	NewReq func() Req
}

// Mount registers the routes; read and write guard them (role checks).
func (r Resource[Req, Resp]) Mount(router fiber.Router, read, write fiber.Handler) {
	router.Get(r.Path, read, r.list)
	router.Get(r.Path+"/:id", read, r.get)
	router.Post(r.Path, write, r.create)
	router.Put(r.Path+"/:id", write, r.put)
	router.Patch(r.Path+"/:id", write, r.patch)
	router.Delete(r.Path+"/:id", write, r.delete)
}

// PathID parses the :id route parameter; a malformed id is a 404 (no such
// resource) rather than a 500.
func PathID(c *fiber.Ctx, entity string) (uuid.UUID, error) {
	raw := c.Params("id")
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, NotFound(entity, strconv.Quote(strings.Clone(raw)))
	}
	return id, nil
}

// QueryOf returns a Query reading c's query string as copies.
func QueryOf(c *fiber.Ctx) Query {
	return func(key string) string { return strings.Clone(c.Query(key)) }
}

func (r Resource[Req, Resp]) list(c *fiber.Ctx) error {
	q := QueryOf(c)
	page, err := ParsePage(q)
	if err != nil {
		return err
	}
	rows, err := r.List(c.UserContext(), page, q)
	if err != nil {
		return err
	}
	return c.JSON(NewList(rows, page.Limit, r.ID))
}

func (r Resource[Req, Resp]) get(c *fiber.Ctx) error {
	id, err := PathID(c, r.Entity)
	if err != nil {
		return err
	}
	out, err := r.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (r Resource[Req, Resp]) create(c *fiber.Ctx) error {
	req := r.NewReq()
	if err := Bind(c, &req); err != nil {
		return err
	}
	out, err := r.Create(c.UserContext(), &req)
	if err != nil {
		return err
	}
	c.Location(r.Path + "/" + r.ID(out).String())
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (r Resource[Req, Resp]) put(c *fiber.Ctx) error {
	id, err := PathID(c, r.Entity)
	if err != nil {
		return err
	}
	req := r.NewReq()
	if err := Bind(c, &req); err != nil {
		return err
	}
	out, err := r.Update(c.UserContext(), id, &req)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (r Resource[Req, Resp]) patch(c *fiber.Ctx) error {
	id, err := PathID(c, r.Entity)
	if err != nil {
		return err
	}
	cur, err := r.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	req := r.Current(cur)
	if err := Bind(c, &req); err != nil {
		return err
	}
	out, err := r.Update(c.UserContext(), id, &req)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (r Resource[Req, Resp]) delete(c *fiber.Ctx) error {
	id, err := PathID(c, r.Entity)
	if err != nil {
		return err
	}
	if err := r.Delete(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Filters parses the optional filter parameters of a list request, collecting
// every malformed one into a single 422.
type Filters struct {
	q    Query
	errs []FieldError
}

// NewFilters reads filters from q. A parameter that is not valid UTF-8 or
// holds a NUL is refused here, for every filter: PostgreSQL cannot compare
// text with such a value (it would be a 500).
func NewFilters(q Query) *Filters {
	f := &Filters{}
	f.q = func(key string) string {
		s := q(key)
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			f.errs = append(f.errs, FieldError{Field: key, Message: "must be valid UTF-8 text without NUL characters"})
			return ""
		}
		return s
	}
	return f
}

// Bool reads an optional true/false parameter.
func (f *Filters) Bool(key string) *bool {
	switch f.q(key) {
	case "":
		return nil
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	f.errs = append(f.errs, FieldError{Field: key, Message: "must be true or false"})
	return nil
}

// Text reads an optional search text, escaped for use in LIKE patterns.
func (f *Filters) Text(key string, max int) *string {
	s := strings.TrimSpace(f.q(key))
	if s == "" {
		return nil
	}
	if len([]rune(s)) > max {
		f.errs = append(f.errs, FieldError{Field: key, Message: "is too long"})
		return nil
	}
	s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
	return &s
}

// String reads an optional exact-match parameter.
func (f *Filters) String(key string) *string {
	s := f.q(key)
	if s == "" {
		return nil
	}
	return &s
}

// UUID reads an optional id parameter.
func (f *Filters) UUID(key string) *uuid.UUID {
	s := f.q(key)
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		f.errs = append(f.errs, FieldError{Field: key, Message: "must be a UUID"})
		return nil
	}
	return &id
}

// Time reads an optional RFC 3339 timestamp.
func (f *Filters) Time(key string) *time.Time {
	s := f.q(key)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		f.errs = append(f.errs, FieldError{Field: key, Message: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"})
		return nil
	}
	return &t
}

// OneOf reads an optional parameter restricted to allowed values.
func (f *Filters) OneOf(key string, allowed ...string) *string {
	s := f.q(key)
	if s == "" {
		return nil
	}
	for _, a := range allowed {
		if s == a {
			return &s
		}
	}
	f.errs = append(f.errs, FieldError{Field: key, Message: "must be one of " + strings.Join(allowed, ", ")})
	return nil
}

// Err is the 422 for every malformed filter, or nil.
func (f *Filters) Err() error {
	if len(f.errs) > 0 {
		return Invalid(f.errs...)
	}
	return nil
}

// Convert maps stored rows to the records clients see, with a service's
// named converter (e.g. toProduct).
func Convert[R, T any](rows []R, f func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}
