package customers

import (
	"context"
	"embed"
	"io/fs"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/person"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/customers/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// OpenAPIDoc is the API this service publishes at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// Migrations is the schema of the customers database.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Service is the customers service: its pool and queries.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// New returns the service on pool.
func New(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool)}
}

func (s *Service) resource() httpx.Resource[CustomerRequest, Customer] {
	return httpx.Resource[CustomerRequest, Customer]{
		Entity:  "customer",
		Path:    "/customers",
		ID:      func(c Customer) uuid.UUID { return c.ID },
		NewReq:  newCustomerRequest,
		Current: toCustomerRequest,
		Get: func(ctx context.Context, id uuid.UUID) (Customer, error) {
			c, err := s.q.GetCustomer(ctx, id)
			return toCustomer(c), pg.Error(err, "customer", id)
		},
		List: func(ctx context.Context, page httpx.Page, q httpx.Query) ([]Customer, error) {
			f := httpx.NewFilters(q)
			pf := person.ReadFilter(f)
			if err := f.Err(); err != nil {
				return nil, err
			}
			rows, err := s.q.ListCustomers(ctx, db.ListCustomersParams{
				After: page.After, Lim: page.Limit + 1,
				Q: pf.Q, NationalID: pf.NationalID, Email: pf.Email,
			})
			return httpx.Convert(rows, toCustomer), err
		},
		Create: func(ctx context.Context, r *CustomerRequest) (Customer, error) {
			c, err := s.q.CreateCustomer(ctx, db.CreateCustomerParams{
				ID: uuid.Must(uuid.NewV7()), FirstName: r.FirstName, PaternalSurname: r.PaternalSurname,
				MaternalSurname: r.MaternalSurname, NationalID: r.NationalID, Email: r.Email, Phone: r.Phone,
				Address: r.Address, BirthDate: r.BirthDate.Time(), Sex: r.Sex,
			})
			return toCustomer(c), pg.Error(err, "customer", nil)
		},
		Update: func(ctx context.Context, id uuid.UUID, r *CustomerRequest) (Customer, error) {
			c, err := s.q.UpdateCustomer(ctx, db.UpdateCustomerParams{
				ID: id, FirstName: r.FirstName, PaternalSurname: r.PaternalSurname,
				MaternalSurname: r.MaternalSurname, NationalID: r.NationalID, Email: r.Email, Phone: r.Phone,
				Address: r.Address, BirthDate: r.BirthDate.Time(), Sex: r.Sex,
			})
			return toCustomer(c), pg.Error(err, "customer", id)
		},
		Delete: func(ctx context.Context, id uuid.UUID) error {
			n, err := s.q.DeleteCustomer(ctx, id)
			if err != nil {
				return pg.Error(err, "customer", id)
			}
			if n == 0 {
				return httpx.NotFound("customer", id)
			}
			return nil
		},
	}
}

func convert[R, T any](rows []R, f func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}
