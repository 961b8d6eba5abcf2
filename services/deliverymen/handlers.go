package deliverymen

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/person"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/deliverymen/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// OpenAPIDoc is the API this service publishes at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// Migrations is the schema of the delivery men database.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Service is the delivery men service: its pool and queries.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// New returns the service on pool.
func New(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool)}
}

const entity = "delivery man"

// courier returns the caller's user id when the caller is a courier, who may
// see only the delivery man linked to that account.
func courier(ctx context.Context) (uuid.UUID, bool) {
	p, ok := auth.FromContext(ctx)
	if ok && p.Role == auth.RoleCourier {
		return p.UserID, true
	}
	return uuid.Nil, false
}

func (s *Service) resource() httpx.Resource[DeliveryManRequest, DeliveryMan] {
	return httpx.Resource[DeliveryManRequest, DeliveryMan]{
		Entity:  entity,
		Path:    "/delivery-men",
		ID:      func(d DeliveryMan) uuid.UUID { return d.ID },
		NewReq:  newDeliveryManRequest,
		Current: toDeliveryManRequest,
		Get: func(ctx context.Context, id uuid.UUID) (DeliveryMan, error) {
			d, err := s.q.GetDeliveryMan(ctx, id)
			if err != nil {
				return DeliveryMan{}, pg.Error(err, entity, id)
			}
			// Someone else's record does not exist for a courier.
			if user, ok := courier(ctx); ok && (d.UserID == nil || *d.UserID != user) {
				return DeliveryMan{}, httpx.NotFound(entity, id)
			}
			return toDeliveryMan(d), nil
		},
		List: func(ctx context.Context, page httpx.Page, q httpx.Query) ([]DeliveryMan, error) {
			f := httpx.NewFilters(q)
			pf := person.ReadFilter(f)
			params := db.ListDeliveryMenParams{
				After: page.After, Lim: page.Limit + 1,
				Q: pf.Q, NationalID: pf.NationalID, Email: pf.Email,
				DriverLicense: upper(f.String("driver_license")), Available: f.Bool("available"), UserID: f.UUID("user_id"),
			}
			if err := f.Err(); err != nil {
				return nil, err
			}
			if user, ok := courier(ctx); ok {
				params.UserID = &user
			}
			rows, err := s.q.ListDeliveryMen(ctx, params)
			return httpx.Convert(rows, toDeliveryMan), err
		},
		Create: func(ctx context.Context, r *DeliveryManRequest) (DeliveryMan, error) {
			d, err := s.q.CreateDeliveryMan(ctx, db.CreateDeliveryManParams{
				ID: uuid.Must(uuid.NewV7()), FirstName: r.FirstName, PaternalSurname: r.PaternalSurname,
				MaternalSurname: r.MaternalSurname, NationalID: r.NationalID, Email: r.Email, Phone: r.Phone,
				Address: r.Address, BirthDate: r.BirthDate.Time(), Sex: r.Sex,
				DriverLicense: r.DriverLicense, Available: r.Available, UserID: r.UserID, Capacity: r.Capacity,
			})
			return toDeliveryMan(d), pg.Error(err, entity, nil)
		},
		Update: func(ctx context.Context, id uuid.UUID, r *DeliveryManRequest) (DeliveryMan, error) {
			d, err := s.q.UpdateDeliveryMan(ctx, db.UpdateDeliveryManParams{
				ID: id, FirstName: r.FirstName, PaternalSurname: r.PaternalSurname,
				MaternalSurname: r.MaternalSurname, NationalID: r.NationalID, Email: r.Email, Phone: r.Phone,
				Address: r.Address, BirthDate: r.BirthDate.Time(), Sex: r.Sex,
				DriverLicense: r.DriverLicense, Available: r.Available, UserID: r.UserID, Capacity: r.Capacity,
			})
			return toDeliveryMan(d), pg.Error(err, entity, id)
		},
		Delete: func(ctx context.Context, id uuid.UUID) error {
			n, err := s.q.DeleteIdleDeliveryMan(ctx, id)
			if err != nil {
				return pg.Error(err, entity, id)
			}
			if n > 0 {
				return nil
			}
			d, err := s.q.GetDeliveryMan(ctx, id)
			if err != nil {
				return pg.Error(err, entity, id)
			}
			return httpx.Errorf(httpx.CodeConflict,
				"delivery man %s has %d active orders: release them first, or set available=false to stop new ones", id, d.ActiveOrders)
		},
	}
}

// me answers the delivery man linked to the calling courier's account.
func (s *Service) me(c *fiber.Ctx) error {
	p, _ := auth.FromContext(c.UserContext())
	d, err := s.q.GetDeliveryManByUser(c.UserContext(), &p.UserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return httpx.Errorf(httpx.CodeNotFound, "no delivery man is linked to user %s", p.UserID)
	}
	if err != nil {
		return err
	}
	return c.JSON(toDeliveryMan(d))
}

func upper(s *string) *string {
	if s == nil {
		return nil
	}
	u := strings.ToUpper(*s)
	return &u
}

// Assignment refusals a caller (the order saga) must tell apart: the problem
// type suffix. The first three are 422, the last two 409.
const (
	TypeNotFound    = "delivery-man-not-found"
	TypeUnavailable = "delivery-man-unavailable"
	TypeAtCapacity  = "delivery-man-at-capacity"
	TypeReleased    = "assignment-released"
	TypeMismatch    = "assignment-mismatch"
)

// assign gives an order to a delivery man in one transaction that holds his
// row lock, so concurrent assignments cannot overbook him. The same order and
// delivery man again answer the existing assignment (200).
func (s *Service) assign(c *fiber.Ctx) error {
	var req AssignmentRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	var out Assignment
	created := false
	err := pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// A retry is answered from the stored assignment, whatever became of
		// the delivery man since.
		a, err := q.GetAssignment(ctx, req.OrderID)
		if err == nil {
			out, err = existing(a, req)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		d, err := q.GetDeliveryManForUpdate(ctx, req.DeliveryManID)
		if errors.Is(err, pgx.ErrNoRows) {
			return refuse(TypeNotFound, "delivery man %s not found", req.DeliveryManID)
		}
		if err != nil {
			return err
		}
		if !d.Available {
			return refuse(TypeUnavailable, "delivery man %s is not available", d.ID)
		}
		if d.ActiveOrders >= d.Capacity {
			return refuse(TypeAtCapacity, "delivery man %s is at capacity (%d active orders)", d.ID, d.ActiveOrders)
		}
		a, err = q.CreateAssignment(ctx, db.CreateAssignmentParams{OrderID: req.OrderID, DeliveryManID: &d.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			// The same order was assigned (or released) meanwhile.
			if a, err = q.GetAssignment(ctx, req.OrderID); err != nil {
				return err
			}
			out, err = existing(a, req)
			return err
		}
		if err != nil {
			return err
		}
		if err := q.AddActiveOrders(ctx, db.AddActiveOrdersParams{ID: d.ID, Delta: 1}); err != nil {
			return err
		}
		created, out = true, toAssignment(a)
		return nil
	})
	if err != nil {
		return err
	}
	if created {
		c.Location("/assignments/" + req.OrderID.String())
		return c.Status(fiber.StatusCreated).JSON(out)
	}
	return c.JSON(out)
}

func refuse(typ, format string, args ...any) error {
	return &httpx.Error{Code: httpx.CodeInvalid, Type: typ, Detail: fmt.Sprintf(format, args...)}
}

// existing answers an assignment request for an order that already has one.
func existing(a db.Assignment, req AssignmentRequest) (Assignment, error) {
	switch {
	case a.Status == StatusReleased:
		return Assignment{}, &httpx.Error{Code: httpx.CodeConflict, Type: TypeReleased,
			Detail: fmt.Sprintf("the assignment of order %s was released and cannot be made again", req.OrderID)}
	case a.DeliveryManID == nil || *a.DeliveryManID != req.DeliveryManID:
		return Assignment{}, &httpx.Error{Code: httpx.CodeConflict, Type: TypeMismatch,
			Detail: fmt.Sprintf("order %s is already assigned to another delivery man", req.OrderID)}
	}
	return toAssignment(a), nil
}

func (s *Service) getAssignment(c *fiber.Ctx) error {
	id, err := httpx.PathID(c, "assignment")
	if err != nil {
		return err
	}
	a, err := s.q.GetAssignment(c.UserContext(), id)
	if err != nil {
		return pg.Error(err, "assignment", id)
	}
	return c.JSON(toAssignment(a))
}

// release frees the delivery man of an order. Releasing twice, or releasing an
// order that was never assigned, is a success (204); the latter leaves a
// tombstone so that a late assignment is refused instead of taking capacity.
func (s *Service) release(c *fiber.Ctx) error {
	id, err := httpx.PathID(c, "assignment")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		for {
			a, err := q.GetAssignment(ctx, id)
			if errors.Is(err, pgx.ErrNoRows) {
				var n int64
				if n, err = q.ReleasedTombstone(ctx, id); err != nil || n == 1 {
					return err
				}
				continue // an assignment was committed meanwhile: release it
			}
			if err != nil || a.Status == StatusReleased {
				return err
			}
			// Lock the delivery man before the assignment, in the order assign
			// takes them: the other order deadlocked against a concurrent
			// assign whose uniqueness check waited on this release.
			if _, err := q.GetDeliveryManForUpdate(ctx, *a.DeliveryManID); err != nil {
				return err
			}
			if a, err = q.GetAssignmentForUpdate(ctx, id); err != nil || a.Status == StatusReleased {
				return err
			}
			if err := q.ReleaseAssignment(ctx, id); err != nil {
				return err
			}
			return q.AddActiveOrders(ctx, db.AddActiveOrdersParams{ID: *a.DeliveryManID, Delta: -1})
		}
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
