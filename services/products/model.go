package products

import (
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/products/db"
)

// maxPrice is the first price numeric(12,2) cannot hold.
var maxPrice = decimal.New(1, 10)

// ProductRequest is the body of POST, PUT and (merged onto the current state)
// PATCH /products.
type ProductRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Price       decimal.Decimal `json:"price"`
	Stock       int32           `json:"stock"`
	Active      bool            `json:"active"`
}

func newProductRequest() ProductRequest { return ProductRequest{Active: true} }

// Validate implements httpx.Validator.
func (r *ProductRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Text("name", r.Name, 100)
	v.MaxLen("description", r.Description, 500)
	v.Add(r.Price.IsPositive(), "price", "must be greater than 0")
	v.Add(r.Price.Exponent() >= -2 || r.Price.Equal(r.Price.Round(2)), "price", "must have at most 2 decimal places")
	v.Add(r.Price.LessThan(maxPrice), "price", "must be less than 10000000000")
	v.Add(r.Stock >= 0, "stock", "must be 0 or more")
	return v.Errors()
}

// Product is a product as clients see it. Price is a decimal string ("12.50").
type Product struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Price       string    `json:"price"`
	Stock       int32     `json:"stock"`
	Reserved    int32     `json:"reserved"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toProduct(p db.Product) Product {
	return Product{
		ID:          p.ID,
		Name:        p.Name,
		Description: p.Description,
		Price:       pg.Decimal(p.Price).StringFixed(2),
		Stock:       p.Stock,
		Reserved:    p.Reserved,
		Active:      p.Active,
		CreatedAt:   p.CreatedAt,
		UpdatedAt:   p.UpdatedAt,
	}
}

func toProductRequest(p Product) ProductRequest {
	price, _ := decimal.NewFromString(p.Price)
	return ProductRequest{Name: p.Name, Description: p.Description, Price: price, Stock: p.Stock, Active: p.Active}
}

// ReservationRequest reserves stock for every item of one order, all or
// nothing. The order id is the idempotency key.
type ReservationRequest struct {
	OrderID uuid.UUID         `json:"order_id"`
	Items   []ReservationItem `json:"items"`
}

// ReservationItem is one line of a reservation.
type ReservationItem struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

// MaxItems bounds the lines of one reservation (and of one order).
const MaxItems = 50

// Validate implements httpx.Validator.
func (r *ReservationRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Add(r.OrderID != uuid.Nil, "order_id", "is required")
	if v.Add(len(r.Items) > 0, "items", "must hold at least one item") {
		v.Add(len(r.Items) <= MaxItems, "items", "must hold at most %d items", MaxItems)
	}
	seen := map[uuid.UUID]bool{}
	for i, it := range r.Items {
		f := func(name string) string { return "items[" + strconv.Itoa(i) + "]." + name }
		v.Add(it.ProductID != uuid.Nil, f("product_id"), "is required")
		v.Add(!seen[it.ProductID], f("product_id"), "appears twice: put the whole quantity on one line")
		v.Add(it.Quantity > 0 && it.Quantity <= 10000, f("quantity"), "must be from 1 to 10000")
		seen[it.ProductID] = true
	}
	return v.Errors()
}

// Reservation is the answer to a reservation: the items with the unit price
// each product had when it was reserved, and the total.
type Reservation struct {
	OrderID   uuid.UUID      `json:"order_id"`
	Status    string         `json:"status"`
	Items     []ReservedItem `json:"items"`
	Total     string         `json:"total"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ReservedItem is one reserved line with its price snapshot.
type ReservedItem struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
	UnitPrice string    `json:"unit_price"`
}

func toReservation(r db.Reservation, items []db.ReservationItem) Reservation {
	out := Reservation{OrderID: r.OrderID, Status: r.Status, Items: []ReservedItem{}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	total := decimal.Zero
	for _, it := range items {
		price := pg.Decimal(it.UnitPrice)
		total = total.Add(price.Mul(decimal.NewFromInt32(it.Quantity)))
		out.Items = append(out.Items, ReservedItem{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: price.StringFixed(2)})
	}
	out.Total = total.StringFixed(2)
	return out
}
