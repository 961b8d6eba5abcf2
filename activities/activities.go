// Package activities holds the order saga's side effects: the calls to the
// entity services (over REST, with the worker's service token) and the writes
// to the orders database. Every activity is idempotent: Temporal may run one
// more than once.
package activities

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/delivery/platform/services/orders/db"
)

// Entities named in the reasons of a rejected or cancelled order.
const (
	EntityUser        = "user"
	EntityCustomer    = "customer"
	EntityProduct     = "product"
	EntityDeliveryMan = "delivery_man"
	EntityOrder       = "order"
)

// Error types of the application errors activities return. A refusal is a
// business answer (not found, inactive, out of stock, ...): retrying cannot
// change it.
const (
	ErrRefused    = "Refused"
	ErrUnexpected = "UnexpectedResponse" // a 4xx the contract does not name: our bug or theirs
	ErrOrderGone  = "OrderNotFound"      // the order row is missing from the orders database
)

// ReasonServiceUnavailable is the reason given for an entity whose service did
// not answer within the retry window.
const ReasonServiceUnavailable = "service unavailable"

// Item is one line of an order: a product and how many.
type Item struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

// PricedItem is an order line with the product's price when it was reserved
// (a decimal string, "" until then).
type PricedItem struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
	UnitPrice string    `json:"unit_price"`
}

// Reason says why an order was rejected or cancelled: which entity, its id, why.
type Reason struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Refused is the non-retryable error of a business refusal; its details carry
// the reasons ([]Reason).
func Refused(reasons ...Reason) error {
	msgs := make([]string, len(reasons))
	for i, r := range reasons {
		msgs[i] = fmt.Sprintf("%s %s: %s", r.Entity, r.ID, r.Reason)
	}
	return temporal.NewNonRetryableApplicationError(strings.Join(msgs, "; "), ErrRefused, nil, reasons)
}

// TokenSource gives the worker's service-account access token. Invalidate
// drops a token a service refused (401), so the next Token logs in again.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate()
}

// Config is what the activities need.
type Config struct {
	UsersURL       string
	CustomersURL   string
	ProductsURL    string
	DeliveryMenURL string
	Tokens         TokenSource
	Pool           *pgxpool.Pool // the orders database
	HTTP           *http.Client  // nil: a client with a 10 s timeout
	// Delay is waited before each entity call (benchmarks only).
	Delay time.Duration
}

// Activities are the saga's activities, registered with the worker as one
// struct (each exported method is an activity named after it).
type Activities struct {
	users, customers, products, deliveryMen *service
	pool                                    *pgxpool.Pool
	q                                       *db.Queries
}

// New returns the activities of cfg.
func New(cfg Config) *Activities {
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	svc := func(name, url string) *service {
		return &service{name: name, base: strings.TrimRight(url, "/"), tokens: cfg.Tokens, http: hc, delay: cfg.Delay}
	}
	a := &Activities{
		users:       svc("users", cfg.UsersURL),
		customers:   svc("customers", cfg.CustomersURL),
		products:    svc("products", cfg.ProductsURL),
		deliveryMen: svc("delivery-men", cfg.DeliveryMenURL),
		pool:        cfg.Pool,
	}
	if cfg.Pool != nil {
		a.q = db.New(cfg.Pool)
	}
	return a
}
