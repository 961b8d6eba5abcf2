// Package workflows is the order saga: one workflow per order that checks and
// reserves everything the order needs in parallel, commits or compensates,
// and then follows the order until it is delivered or cancelled. Workflow code
// only: deterministic, no I/O (that lives in package activities).
package workflows

import (
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/delivery/platform/activities"
)

// WorkflowName is the registered type of the order workflow.
const WorkflowName = "OrderWorkflow"

// The workflow's query and updates.
const (
	QueryStatus   = "status"  // → OrderState
	UpdateVerdict = "verdict" // waits until the order is confirmed or refused → OrderState
	UpdatePickup  = "pickup"  // TransitionRequest → OrderState
	UpdateDeliver = "deliver" // TransitionRequest → OrderState
	UpdateCancel  = "cancel"  // TransitionRequest → OrderState
)

// VerdictUpdateID is the one id of the verdict update: every submission of an
// order (idempotent repeats included) waits on the same update.
const VerdictUpdateID = "verdict"

// ErrTransitionNotAllowed is the error type of a refused update.
const ErrTransitionNotAllowed = "TransitionNotAllowed"

// Status is an order's status; the same words as the OrderStatus search
// attribute and the orders database.
type Status string

const (
	StatusPending   Status = "PENDING"
	StatusConfirmed Status = "CONFIRMED"
	StatusRejected  Status = "REJECTED"
	StatusPickedUp  Status = "PICKED_UP"
	StatusDelivered Status = "DELIVERED"
	StatusCancelled Status = "CANCELLED"
)

// Statuses lists every status.
var Statuses = []Status{StatusPending, StatusConfirmed, StatusRejected, StatusPickedUp, StatusDelivered, StatusCancelled}

// Final reports whether no transition leaves s.
func (s Status) Final() bool {
	return s == StatusRejected || s == StatusDelivered || s == StatusCancelled
}

// Search attributes kept current at every transition (Keyword), so operators
// can filter orders: OrderStatus="CONFIRMED".
var (
	OrderStatusKey   = temporal.NewSearchAttributeKeyKeyword("OrderStatus")
	CustomerIDKey    = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	DeliveryManIDKey = temporal.NewSearchAttributeKeyKeyword("DeliveryManId")
)

// SearchAttributes lists the custom search attributes the workflow needs.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{OrderStatusKey, CustomerIDKey, DeliveryManIDKey}
}

// Type aliases so that callers need not import activities for the shapes.
type (
	Item       = activities.Item
	PricedItem = activities.PricedItem
	Reason     = activities.Reason
)

// OrderInput starts the workflow of one order: ids only, no personal data
// (phone and address stay in the orders database).
type OrderInput struct {
	OrderID       uuid.UUID `json:"order_id"`
	UserID        uuid.UUID `json:"user_id"`
	CustomerID    uuid.UUID `json:"customer_id"`
	DeliveryManID uuid.UUID `json:"delivery_man_id"`
	Items         []Item    `json:"items"`
	// RetryWindow is how long an unavailable service is retried before the
	// order is rejected as "service unavailable".
	RetryWindow time.Duration `json:"retry_window"`
	// PickupDeadline after confirmation flags the order late; 0 disables it.
	PickupDeadline time.Duration `json:"pickup_deadline"`
}

// OrderState is the order as the workflow knows it (the status query and the
// result of every update).
type OrderState struct {
	OrderID       uuid.UUID    `json:"order_id"`
	Status        Status       `json:"status"`
	UserID        uuid.UUID    `json:"user_id"`
	CustomerID    uuid.UUID    `json:"customer_id"`
	DeliveryManID uuid.UUID    `json:"delivery_man_id"`
	Items         []PricedItem `json:"items"`
	Total         string       `json:"total,omitempty"`
	Reasons       []Reason     `json:"reasons"`
	Late          bool         `json:"late"`
}

// TransitionRequest is the argument of pickup, deliver and cancel: who asks.
type TransitionRequest struct {
	By uuid.UUID `json:"by"`
}

// OrderWorkflowID is the workflow id of an order.
func OrderWorkflowID(orderID uuid.UUID) string {
	return "order-" + orderID.String()
}

// Register registers the workflow and the activities a with a worker (or a
// test environment). a may be nil when the activities are mocked.
func Register(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(OrderWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	if a == nil {
		a = &activities.Activities{}
	}
	r.RegisterActivity(a)
}
