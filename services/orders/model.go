package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/orders/db"
	"github.com/delivery/platform/workflows"
)

// MaxItems bounds the lines of one order (the products service's limit).
const MaxItems = 50

// MaxQuantity bounds one line's quantity (the products service's limit).
const MaxQuantity = 10000

// OrderRequest is the body of POST /orders. The user who places the order is
// the token's subject, not a body field.
type OrderRequest struct {
	CustomerID      uuid.UUID   `json:"customer_id"`
	DeliveryManID   uuid.UUID   `json:"delivery_man_id"`
	Items           []OrderLine `json:"items"`
	Phone           string      `json:"phone"`
	DeliveryAddress string      `json:"delivery_address"`
	DeliverAt       time.Time   `json:"deliver_at"`
}

// OrderLine is one requested line.
type OrderLine struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

// now is the clock Validate uses (deliver_at must be in the future).
var now = time.Now

// Validate implements httpx.Validator.
func (r *OrderRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Add(r.CustomerID != uuid.Nil, "customer_id", "is required")
	v.Add(r.DeliveryManID != uuid.Nil, "delivery_man_id", "is required")
	if v.Add(len(r.Items) > 0, "items", "must hold at least one item") {
		v.Add(len(r.Items) <= MaxItems, "items", "must hold at most %d items", MaxItems)
	}
	seen := map[uuid.UUID]bool{}
	for i, it := range r.Items {
		f := func(name string) string { return "items[" + strconv.Itoa(i) + "]." + name }
		if v.Add(it.ProductID != uuid.Nil, f("product_id"), "is required") {
			v.Add(!seen[it.ProductID], f("product_id"), "appears twice: put the whole quantity on one line")
		}
		v.Add(it.Quantity > 0 && it.Quantity <= MaxQuantity, f("quantity"), "must be from 1 to %d", MaxQuantity)
		seen[it.ProductID] = true
	}
	v.Digits("phone", r.Phone, 9)
	v.Text("delivery_address", r.DeliveryAddress, 100)
	if v.Add(!r.DeliverAt.IsZero(), "deliver_at", "is required") {
		v.Add(r.DeliverAt.After(now()), "deliver_at", "must be in the future")
	}
	return v.Errors()
}

// hash identifies the content of a request, so that an Idempotency-Key sent
// again with another body is recognised. It hashes the decoded request, so
// formatting and key order do not matter.
func (r *OrderRequest) hash() string {
	norm := *r
	norm.DeliverAt = r.DeliverAt.UTC()
	b, _ := json.Marshal(norm)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Order is an order as clients see it. Money is a decimal string; unit_price
// and total are null until the order is confirmed.
type Order struct {
	ID              uuid.UUID           `json:"id"`
	Status          string              `json:"status"`
	CustomerID      uuid.UUID           `json:"customer_id"`
	DeliveryManID   uuid.UUID           `json:"delivery_man_id"`
	UserID          uuid.UUID           `json:"user_id"`
	Items           []Item              `json:"items"`
	Total           *string             `json:"total"`
	Phone           string              `json:"phone"`
	DeliveryAddress string              `json:"delivery_address"`
	DeliverAt       time.Time           `json:"deliver_at"`
	Reasons         []activities.Reason `json:"reasons"`
	Late            bool                `json:"late"`
	CreatedAt       time.Time           `json:"created_at"`
	UpdatedAt       time.Time           `json:"updated_at"`
}

// Item is one line of an order with its price snapshot.
type Item struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
	UnitPrice *string   `json:"unit_price"`
}

func toOrder(o db.Order, items []db.OrderItem) Order {
	out := Order{
		ID: o.ID, Status: o.Status, CustomerID: o.CustomerID, DeliveryManID: o.DeliveryManID, UserID: o.UserID,
		Items: []Item{}, Phone: o.Phone, DeliveryAddress: o.DeliveryAddress, DeliverAt: o.DeliverAt.UTC(),
		Reasons: []activities.Reason{}, Late: o.Late, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
	if o.Total.Valid {
		s := pg.Decimal(o.Total).StringFixed(2)
		out.Total = &s
	}
	for _, it := range items {
		line := Item{ProductID: it.ProductID, Quantity: it.Quantity}
		if it.UnitPrice.Valid {
			s := pg.Decimal(it.UnitPrice).StringFixed(2)
			line.UnitPrice = &s
		}
		out.Items = append(out.Items, line)
	}
	_ = json.Unmarshal(o.Reasons, &out.Reasons)
	if out.Reasons == nil {
		out.Reasons = []activities.Reason{}
	}
	return out
}

// workflowInput is the workflow's input for a stored order: ids only.
func (s *Service) workflowInput(o db.Order, items []db.OrderItem) workflows.OrderInput {
	in := workflows.OrderInput{
		OrderID: o.ID, UserID: o.UserID, CustomerID: o.CustomerID, DeliveryManID: o.DeliveryManID,
		RetryWindow: s.opts.RetryWindow, PickupDeadline: s.opts.PickupDeadline,
	}
	for _, it := range items {
		in.Items = append(in.Items, workflows.Item{ProductID: it.ProductID, Quantity: it.Quantity})
	}
	return in
}
