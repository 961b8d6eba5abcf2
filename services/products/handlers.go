package products

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/products/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// OpenAPIDoc is the API this service publishes at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// Migrations is the schema of the products database.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Service is the products service: its pool and queries.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// New returns the service on pool.
func New(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool)}
}

func (s *Service) resource() httpx.Resource[ProductRequest, Product] {
	return httpx.Resource[ProductRequest, Product]{
		Entity:  "product",
		Path:    "/products",
		ID:      func(p Product) uuid.UUID { return p.ID },
		NewReq:  newProductRequest,
		Current: toProductRequest,
		Get: func(ctx context.Context, id uuid.UUID) (Product, error) {
			p, err := s.q.GetProduct(ctx, id)
			return toProduct(p), pg.Error(err, "product", id)
		},
		List: func(ctx context.Context, page httpx.Page, q httpx.Query) ([]Product, error) {
			f := httpx.NewFilters(q)
			params := db.ListProductsParams{
				After: page.After, Lim: page.Limit + 1,
				Active: f.Bool("active"), InStock: f.Bool("in_stock"), Q: f.Text("q", 100),
			}
			if err := f.Err(); err != nil {
				return nil, err
			}
			rows, err := s.q.ListProducts(ctx, params)
			return httpx.Convert(rows, toProduct), err
		},
		Create: func(ctx context.Context, r *ProductRequest) (Product, error) {
			p, err := s.q.CreateProduct(ctx, db.CreateProductParams{
				ID: uuid.Must(uuid.NewV7()), Name: r.Name, Description: r.Description,
				Price: pg.Numeric(r.Price), Stock: r.Stock, Active: r.Active,
			})
			return toProduct(p), pg.Error(err, "product", nil)
		},
		Update: func(ctx context.Context, id uuid.UUID, r *ProductRequest) (Product, error) {
			p, err := s.q.UpdateProduct(ctx, db.UpdateProductParams{
				ID: id, Name: r.Name, Description: r.Description,
				Price: pg.Numeric(r.Price), Stock: r.Stock, Active: r.Active,
			})
			return toProduct(p), pg.Error(err, "product", id)
		},
		Delete: func(ctx context.Context, id uuid.UUID) error {
			n, err := s.q.DeleteProduct(ctx, id)
			if err != nil {
				if httpx.ErrorCode(pg.Error(err, "product", id)) == httpx.CodeConflict {
					return httpx.Errorf(httpx.CodeConflict, "product %s has reservations: deactivate it instead (active=false)", id)
				}
				return err
			}
			if n == 0 {
				return httpx.NotFound("product", id)
			}
			return nil
		},
	}
}

// Reservation refusals a caller must tell apart (the problem type suffix).
const (
	TypeReservationRefused  = "reservation-refused"
	TypeReservationReleased = "reservation-released"
	TypeReservationMismatch = "reservation-mismatch"
)

// reserve takes stock for every item of one order in one transaction: all or
// nothing. The same order id again answers the existing reservation (200)
// without taking stock twice.
func (s *Service) reserve(c *fiber.Ctx) error {
	var req ReservationRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	var out Reservation
	created := false
	err := pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		created = false
		q := s.q.WithTx(tx)
		res, err := q.CreateReservation(ctx, req.OrderID)
		if errors.Is(err, pgx.ErrNoRows) {
			out, err = s.existing(ctx, q, req)
			return err
		}
		if err != nil {
			return err
		}
		created = true
		// Lock products in id order so concurrent reservations cannot deadlock.
		items := slices.Clone(req.Items)
		slices.SortFunc(items, func(a, b ReservationItem) int { return slices.Compare(a.ProductID[:], b.ProductID[:]) })
		var refusals []httpx.FieldError
		for _, it := range items {
			price, err := q.TakeStock(ctx, db.TakeStockParams{ID: it.ProductID, Quantity: it.Quantity})
			if errors.Is(err, pgx.ErrNoRows) {
				refusals = append(refusals, httpx.FieldError{Field: itemField(req.Items, it.ProductID), Message: s.whyNot(ctx, q, it)})
				continue
			}
			if err != nil {
				return err
			}
			if err := q.AddReservationItem(ctx, db.AddReservationItemParams{
				OrderID: req.OrderID, ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: price,
			}); err != nil {
				return err
			}
		}
		if len(refusals) > 0 {
			slices.SortFunc(refusals, func(a, b httpx.FieldError) int { return cmpString(a.Field, b.Field) })
			return &httpx.Error{Code: httpx.CodeInvalid, Type: TypeReservationRefused,
				Detail: "the stock cannot be reserved", Fields: refusals}
		}
		rows, err := q.ListReservationItems(ctx, req.OrderID)
		if err != nil {
			return err
		}
		out = toReservation(res, rows)
		return nil
	})
	if err != nil {
		return err
	}
	if created {
		c.Location("/reservations/" + req.OrderID.String())
		return c.Status(fiber.StatusCreated).JSON(out)
	}
	return c.JSON(out)
}

// existing answers a repeated reservation: the same items get the stored
// reservation; different items or a released one are a conflict.
func (s *Service) existing(ctx context.Context, q *db.Queries, req ReservationRequest) (Reservation, error) {
	res, err := q.GetReservation(ctx, req.OrderID)
	if err != nil {
		return Reservation{}, err
	}
	if res.Status == "released" {
		return Reservation{}, &httpx.Error{Code: httpx.CodeConflict, Type: TypeReservationReleased,
			Detail: fmt.Sprintf("the reservation of order %s was released and cannot be made again", req.OrderID)}
	}
	rows, err := q.ListReservationItems(ctx, req.OrderID)
	if err != nil {
		return Reservation{}, err
	}
	if !sameItems(rows, req.Items) {
		return Reservation{}, &httpx.Error{Code: httpx.CodeConflict, Type: TypeReservationMismatch,
			Detail: fmt.Sprintf("order %s already has a reservation with other items", req.OrderID)}
	}
	return toReservation(res, rows), nil
}

func sameItems(rows []db.ReservationItem, items []ReservationItem) bool {
	if len(rows) != len(items) {
		return false
	}
	want := map[uuid.UUID]int32{}
	for _, it := range items {
		want[it.ProductID] = it.Quantity
	}
	for _, r := range rows {
		if want[r.ProductID] != r.Quantity {
			return false
		}
	}
	return true
}

// whyNot explains why TakeStock refused an item.
func (s *Service) whyNot(ctx context.Context, q *db.Queries, it ReservationItem) string {
	p, err := q.GetProduct(ctx, it.ProductID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "product not found"
	case err != nil:
		return "product could not be read"
	case !p.Active:
		return "product is inactive"
	default:
		return fmt.Sprintf("insufficient stock: %d requested, %d available", it.Quantity, p.Stock)
	}
}

func itemField(items []ReservationItem, id uuid.UUID) string {
	for i, it := range items {
		if it.ProductID == id {
			return fmt.Sprintf("items[%d]", i)
		}
	}
	return "items"
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Service) getReservation(c *fiber.Ctx) error {
	id, err := httpx.PathID(c, "reservation")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	res, err := s.q.GetReservation(ctx, id)
	if err != nil {
		return pg.Error(err, "reservation", id)
	}
	rows, err := s.q.ListReservationItems(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(toReservation(res, rows))
}

// release gives the stock of an active reservation back. Releasing twice, or
// releasing an order that has no reservation yet, is a success (204); the
// latter leaves a tombstone so a late reservation is refused.
func (s *Service) release(c *fiber.Ctx) error {
	return s.transition(c, "released", func(ctx context.Context, q *db.Queries, it db.ReservationItem) error {
		return q.ReturnStock(ctx, db.ReturnStockParams{ID: it.ProductID, Quantity: it.Quantity})
	})
}

// fulfill marks the reserved stock as gone with the order (picked up): it is
// no longer reserved and will not come back.
func (s *Service) fulfill(c *fiber.Ctx) error {
	return s.transition(c, "fulfilled", func(ctx context.Context, q *db.Queries, it db.ReservationItem) error {
		return q.ConsumeReserved(ctx, db.ConsumeReservedParams{ID: it.ProductID, Quantity: it.Quantity})
	})
}

func (s *Service) transition(c *fiber.Ctx, to string, apply func(context.Context, *db.Queries, db.ReservationItem) error) error {
	id, err := httpx.PathID(c, "reservation")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		res, err := q.GetReservationForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			if to != "released" {
				return httpx.NotFound("reservation", id)
			}
			// The tombstone insert waits for a reservation of this order that
			// is still being committed; when one lands, release it instead.
			var n int64
			if n, err = q.ReleasedTombstone(ctx, id); err != nil || n == 1 {
				return err
			}
			res, err = q.GetReservationForUpdate(ctx, id)
		}
		if err != nil {
			return err
		}
		switch {
		case res.Status == to:
			return nil
		case res.Status != "active":
			return httpx.Errorf(httpx.CodeConflict, "the reservation of order %s is %s and cannot be %s", id, res.Status, to)
		}
		rows, err := q.ListReservationItems(ctx, id)
		if err != nil {
			return err
		}
		for _, it := range rows {
			if err := apply(ctx, q, it); err != nil {
				return err
			}
		}
		return q.SetReservationStatus(ctx, db.SetReservationStatusParams{OrderID: id, Status: to})
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
