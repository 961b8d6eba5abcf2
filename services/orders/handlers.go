// Package orders is the orders service: the REST side of the order saga. It
// validates and stores a new order, starts its workflow (Update-with-Start)
// and answers with the verdict; from then on the workflow is the only writer
// of the order's state and this service reads it from the orders database.
package orders

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/orders/db"
	"github.com/delivery/platform/workflows"
)

//go:embed migrations/*.sql
var migrations embed.FS

// OpenAPIDoc is the API this service publishes at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// Migrations is the schema of the orders database.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Problem types a client must tell apart.
const (
	TypeOrderRejected       = "order-rejected"
	TypeTransitionRefused   = "transition-not-allowed"
	TypeIdempotencyKeyReuse = "idempotency-key-reused"
)

// IdempotencyHeader is the optional header that makes POST /orders safe to
// repeat.
const IdempotencyHeader = "Idempotency-Key"

// Options configure the service.
type Options struct {
	Temporal  client.Client
	TaskQueue string
	// VerdictWait bounds how long POST /orders (and a transition) waits for
	// the workflow's answer before answering 202.
	VerdictWait    time.Duration
	RetryWindow    time.Duration // passed to each new workflow
	PickupDeadline time.Duration // passed to each new workflow
	// DeliveryMenURL is where a courier's delivery-man record is read
	// (GET /delivery-men/me with the courier's own token).
	DeliveryMenURL string
	HTTP           *http.Client
	Logger         *slog.Logger
}

// Service is the orders service.
type Service struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	c        client.Client
	opts     Options
	log      *slog.Logger
	couriers *courierCache
}

// New returns the service on pool.
func New(pool *pgxpool.Pool, o Options) *Service {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.VerdictWait <= 0 {
		o.VerdictWait = 5 * time.Second
	}
	return &Service{
		pool: pool, q: db.New(pool), c: o.Temporal, opts: o, log: o.Logger,
		couriers: newCourierCache(o.DeliveryMenURL, o.HTTP),
	}
}

// create stores a new order as PENDING, starts its workflow and answers with
// the verdict: 201 confirmed, 422 rejected, 202 not known yet.
func (s *Service) create(c *fiber.Ctx) error {
	key := strings.Clone(c.Get(IdempotencyHeader))
	if key != "" && !validKey(key) {
		return httpx.Invalid(httpx.FieldError{Field: IdempotencyHeader,
			Message: "must be 1 to 200 visible ASCII characters"})
	}
	var req OrderRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	p, _ := auth.FromContext(ctx)
	hash := req.hash()
	var o db.Order
	replay := false
	err := pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var keyp *string
		if key != "" {
			keyp = &key
		}
		row, err := q.CreateOrder(ctx, db.CreateOrderParams{
			ID: uuid.Must(uuid.NewV7()), UserID: p.UserID, CustomerID: req.CustomerID, DeliveryManID: req.DeliveryManID,
			Phone: req.Phone, DeliveryAddress: req.DeliveryAddress, DeliverAt: req.DeliverAt,
			IdempotencyKey: keyp, RequestHash: hash,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			// This user sent this key before: same body, same order.
			row, err = q.GetOrderByIdempotencyKey(ctx, db.GetOrderByIdempotencyKeyParams{UserID: p.UserID, IdempotencyKey: keyp})
			if err != nil {
				return err
			}
			if row.RequestHash != hash {
				return &httpx.Error{Code: httpx.CodeConflict, Type: TypeIdempotencyKeyReuse,
					Detail: fmt.Sprintf("the %s was used for another order (%s) with a different body", IdempotencyHeader, row.ID)}
			}
			o, replay = row, true
			return nil
		}
		if err != nil {
			return pg.Error(err, "order", nil)
		}
		for i, it := range req.Items {
			if err := q.AddOrderItem(ctx, db.AddOrderItemParams{OrderID: row.ID, Line: int32(i), ProductID: it.ProductID, Quantity: it.Quantity}); err != nil {
				return pg.Error(err, "order", nil)
			}
		}
		o = row
		return nil
	})
	if err != nil {
		return err
	}
	if replay {
		c.Set("Idempotent-Replayed", "true")
	}
	if o.Status == string(workflows.StatusPending) {
		items, err := s.q.ListOrderItems(ctx, []uuid.UUID{o.ID})
		if err != nil {
			return err
		}
		s.awaitVerdict(ctx, o, items)
	}
	return s.answer(c, o.ID)
}

// awaitVerdict starts the order's workflow (or joins the running one) and
// waits, within the verdict budget, until it has decided. Any failure here
// leaves a PENDING order that the workflow (or the reconciler) completes: the
// client gets 202.
func (s *Service) awaitVerdict(ctx context.Context, o db.Order, items []db.OrderItem) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.VerdictWait)
	defer cancel()
	start := s.c.NewWithStartWorkflowOperation(
		s.startOptions(o, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE), workflows.WorkflowName, s.workflowInput(o, items))
	h, err := s.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: workflows.VerdictUpdateID, UpdateName: workflows.UpdateVerdict,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		var st workflows.OrderState
		err = h.Get(ctx, &st)
	}
	if err != nil && ctx.Err() == nil && !isAlreadyStarted(err) {
		s.log.WarnContext(ctx, "order workflow: no verdict", "order_id", o.ID, "err", err)
	}
}

func isAlreadyStarted(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &started)
}

// startOptions starts the workflow of order o. A running workflow is joined,
// never duplicated; reuse says whether a closed one may run again.
func (s *Service) startOptions(o db.Order, reuse enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       workflows.OrderWorkflowID(o.ID),
		TaskQueue:                s.opts.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    reuse,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.OrderStatusKey.ValueSet(string(workflows.StatusPending)),
			workflows.CustomerIDKey.ValueSet(o.CustomerID.String()),
			workflows.DeliveryManIDKey.ValueSet(o.DeliveryManID.String()),
		),
		StaticSummary: "Order " + o.ID.String(),
		StaticDetails: fmt.Sprintf("customer %s, delivery man %s, placed by user %s", o.CustomerID, o.DeliveryManID, o.UserID),
	}
}

// answer reads the order and answers POST /orders with it: 201 when it was
// confirmed (also when it moved on since), 422 when it was rejected or
// cancelled before confirmation, 202 while it is checked.
func (s *Service) answer(c *fiber.Ctx, id uuid.UUID) error {
	o, err := s.read(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Location("/orders/" + id.String())
	switch o.status {
	case workflows.StatusPending:
		return c.Status(fiber.StatusAccepted).JSON(o.Order)
	case workflows.StatusRejected:
		return rejected(o)
	case workflows.StatusCancelled:
		if o.confirmed {
			break
		}
		return rejected(o)
	}
	return c.Status(fiber.StatusCreated).JSON(o.Order)
}

// rejected is the 422 of a refused order: one field error per failing
// entity, and the order's reasons with the entity ids.
func rejected(o stored) error {
	fields := make([]httpx.FieldError, len(o.Reasons))
	for i, r := range o.Reasons {
		msg := r.Reason
		if r.Entity == "product" {
			msg = "product " + r.ID + ": " + r.Reason
		}
		fields[i] = httpx.FieldError{Field: r.Entity, Message: msg}
	}
	return &httpx.Error{
		Code: httpx.CodeInvalid, Type: TypeOrderRejected, Fields: fields,
		Detail:     fmt.Sprintf("order %s was %s", o.ID, strings.ToLower(o.Status)),
		Extensions: map[string]any{"order_id": o.ID, "order_status": o.Status, "reasons": o.Reasons},
	}
}

// stored is an order read from the database.
type stored struct {
	Order
	status    workflows.Status
	confirmed bool
}

func (s *Service) read(ctx context.Context, id uuid.UUID) (stored, error) {
	o, err := s.q.GetOrder(ctx, id)
	if err != nil {
		return stored{}, pg.Error(err, "order", id)
	}
	items, err := s.q.ListOrderItems(ctx, []uuid.UUID{id})
	if err != nil {
		return stored{}, err
	}
	return stored{Order: toOrder(o, items), status: workflows.Status(o.Status), confirmed: o.ConfirmedAt != nil}, nil
}

// visible reads an order the caller may see: a courier sees only the orders
// assigned to them (any other is 404).
func (s *Service) visible(c *fiber.Ctx) (stored, error) {
	id, err := httpx.PathID(c, "order")
	if err != nil {
		return stored{}, err
	}
	o, err := s.read(c.UserContext(), id)
	if err != nil {
		return stored{}, err
	}
	if dm, ok, err := s.courierScope(c); err != nil {
		return stored{}, err
	} else if ok && dm != o.DeliveryManID {
		return stored{}, httpx.NotFound("order", id)
	}
	return o, nil
}

// courierScope returns, for a courier, the delivery man they are (uuid.Nil
// when they are none); ok is false for every other role.
func (s *Service) courierScope(c *fiber.Ctx) (uuid.UUID, bool, error) {
	p, _ := auth.FromContext(c.UserContext())
	if p.Role != auth.RoleCourier {
		return uuid.Nil, false, nil
	}
	dm, err := s.couriers.lookup(c.UserContext(), p.UserID, strings.Clone(c.Get(fiber.HeaderAuthorization)))
	return dm, true, err
}

func (s *Service) get(c *fiber.Ctx) error {
	o, err := s.visible(c)
	if err != nil {
		return err
	}
	return c.JSON(o.Order)
}

func (s *Service) list(c *fiber.Ctx) error {
	q := httpx.QueryOf(c)
	page, err := httpx.ParsePage(q)
	if err != nil {
		return err
	}
	f := httpx.NewFilters(q)
	statuses := make([]string, len(workflows.Statuses))
	for i, st := range workflows.Statuses {
		statuses[i] = string(st)
	}
	params := db.ListOrdersParams{
		After: page.After, Lim: page.Limit + 1,
		Status: f.OneOf("status", statuses...), CustomerID: f.UUID("customer_id"), DeliveryManID: f.UUID("delivery_man_id"),
		CreatedAfter: f.Time("created_after"), CreatedBefore: f.Time("created_before"), Late: f.Bool("late"),
	}
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	if dm, ok, err := s.courierScope(c); err != nil {
		return err
	} else if ok {
		if dm == uuid.Nil || (params.DeliveryManID != nil && *params.DeliveryManID != dm) {
			return c.JSON(httpx.NewList([]Order{}, page.Limit, func(o Order) uuid.UUID { return o.ID }))
		}
		params.DeliveryManID = &dm
	}
	rows, err := s.q.ListOrders(ctx, params)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	items, err := s.q.ListOrderItems(ctx, ids)
	if err != nil {
		return err
	}
	byOrder := map[uuid.UUID][]db.OrderItem{}
	for _, it := range items {
		byOrder[it.OrderID] = append(byOrder[it.OrderID], it)
	}
	out := make([]Order, len(rows))
	for i, r := range rows {
		out[i] = toOrder(r, byOrder[r.ID])
	}
	return c.JSON(httpx.NewList(out, page.Limit, func(o Order) uuid.UUID { return o.ID }))
}

// transition sends pickup, deliver or cancel to the order's workflow, which
// decides (its validator refuses a transition that is not allowed: 409), and
// answers with the order once the workflow carried it out (202 if that takes
// longer than the verdict budget).
func (s *Service) transition(update string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := s.visible(c)
		if err != nil {
			return err
		}
		if o.status.Final() {
			return refusedTransition(o, update)
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.opts.VerdictWait)
		defer cancel()
		p, _ := auth.FromContext(ctx)
		h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflows.OrderWorkflowID(o.ID), UpdateName: update,
			Args:         []any{workflows.TransitionRequest{By: p.UserID}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			var st workflows.OrderState
			err = h.Get(ctx, &st)
		}
		c.Location("/orders/" + o.ID.String())
		if err != nil {
			var appErr *temporal.ApplicationError
			var notFound *serviceerror.NotFound
			switch {
			case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTransitionNotAllowed:
				return &httpx.Error{Code: httpx.CodeConflict, Type: TypeTransitionRefused, Detail: appErr.Message()}
			case errors.As(err, &notFound):
				// The workflow is closed: the order is final.
				if o, rerr := s.read(c.UserContext(), o.ID); rerr == nil {
					return refusedTransition(o, update)
				}
				return err
			case ctx.Err() != nil:
				now, rerr := s.read(c.UserContext(), o.ID)
				if rerr != nil {
					return rerr
				}
				return c.Status(fiber.StatusAccepted).JSON(now.Order)
			}
			s.log.WarnContext(ctx, "order workflow update failed", "order_id", o.ID, "update", update, "err", err)
			return httpx.Errorf(httpx.CodeUnavailable, "the order could not be %s now: try again", pastTense(update))
		}
		now, err := s.read(c.UserContext(), o.ID)
		if err != nil {
			return err
		}
		return c.JSON(now.Order)
	}
}

func refusedTransition(o stored, update string) error {
	return &httpx.Error{Code: httpx.CodeConflict, Type: TypeTransitionRefused,
		Detail: fmt.Sprintf("order %s is %s and cannot be %s", o.ID, o.status, pastTense(update))}
}

func pastTense(update string) string {
	switch update {
	case workflows.UpdatePickup:
		return "picked up"
	case workflows.UpdateDeliver:
		return "delivered"
	}
	return "cancelled"
}

func validKey(k string) bool {
	if len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
