package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/orders/db"
)

// ConfirmInput commits a checked order.
type ConfirmInput struct {
	OrderID uuid.UUID    `json:"order_id"`
	Items   []PricedItem `json:"items"`
	Total   string       `json:"total"`
}

// ConfirmOrder writes CONFIRMED with each item's unit price and the total, in
// one transaction. Writing the same values again changes nothing.
func (a *Activities) ConfirmOrder(ctx context.Context, in ConfirmInput) error {
	total, err := decimal.NewFromString(in.Total)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad total "+in.Total, ErrUnexpected, err)
	}
	return pg.Tx(ctx, a.pool, func(tx pgx.Tx) error {
		q := a.q.WithTx(tx)
		for _, it := range in.Items {
			price, err := decimal.NewFromString(it.UnitPrice)
			if err != nil {
				return temporal.NewNonRetryableApplicationError("bad unit price "+it.UnitPrice, ErrUnexpected, err)
			}
			n, err := q.SetItemPrice(ctx, db.SetItemPriceParams{OrderID: in.OrderID, ProductID: it.ProductID, UnitPrice: pg.Numeric(price)})
			if err != nil {
				return err
			}
			if n == 0 {
				return temporal.NewNonRetryableApplicationError(
					fmt.Sprintf("order %s has no line for product %s", in.OrderID, it.ProductID), ErrOrderGone, nil)
			}
		}
		n, err := q.ConfirmOrder(ctx, db.ConfirmOrderParams{ID: in.OrderID, Total: pg.Numeric(total)})
		if err != nil {
			return err
		}
		if n == 0 {
			return a.missing(ctx, q, in.OrderID, "confirmed")
		}
		return nil
	})
}

// StatusInput records a new status (and the reasons of a rejected or
// cancelled order).
type StatusInput struct {
	OrderID uuid.UUID `json:"order_id"`
	Status  string    `json:"status"`
	Reasons []Reason  `json:"reasons,omitempty"`
}

// SetStatus writes the order's status. Writing the same status again changes
// nothing.
func (a *Activities) SetStatus(ctx context.Context, in StatusInput) error {
	reasons := in.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	b, err := json.Marshal(reasons)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("encode reasons", ErrUnexpected, err)
	}
	n, err := a.q.SetOrderStatus(ctx, db.SetOrderStatusParams{ID: in.OrderID, Status: in.Status, Reasons: b})
	if err != nil {
		return err
	}
	if n == 0 {
		return a.missing(ctx, a.q, in.OrderID, in.Status)
	}
	return nil
}

// MarkLate flags an order whose pickup deadline passed.
func (a *Activities) MarkLate(ctx context.Context, orderID uuid.UUID) error {
	n, err := a.q.MarkOrderLate(ctx, orderID)
	if err != nil || n > 0 {
		return err
	}
	_, err = a.q.GetOrder(ctx, orderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("order %s not found", orderID), ErrOrderGone, nil)
	}
	return err // already late
}

func (a *Activities) missing(ctx context.Context, q *db.Queries, id uuid.UUID, what string) error {
	o, err := q.GetOrder(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("order %s not found", id), ErrOrderGone, nil)
	}
	if err != nil {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("order %s is %s and cannot be %s", id, o.Status, what), ErrUnexpected, nil)
}
