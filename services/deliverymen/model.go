package deliverymen

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/person"
	"github.com/delivery/platform/services/deliverymen/db"
)

// Capacity limits: how many active orders a delivery man may carry at once.
const (
	DefaultCapacity = 3
	MaxCapacity     = 20
)

// DeliveryManRequest is the body of POST, PUT and (merged onto the current
// state) PATCH /delivery-men: the person fields plus the work fields.
type DeliveryManRequest struct {
	person.Request
	DriverLicense string `json:"driver_license"`
	Available     bool   `json:"available"`
	// UserID is the courier user account that is this delivery man; a PATCH
	// with "user_id": null unlinks it.
	UserID   *uuid.UUID `json:"user_id"`
	Capacity int32      `json:"capacity"`
}

func newDeliveryManRequest() DeliveryManRequest {
	return DeliveryManRequest{Available: true, Capacity: DefaultCapacity}
}

// Validate implements httpx.Validator. The licence is stored upper-case, so
// that its uniqueness ignores case.
func (r *DeliveryManRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	r.Check(&v, person.MinAgeEmployee, person.Today())
	r.DriverLicense = strings.ToUpper(strings.TrimSpace(r.DriverLicense))
	v.Alnum("driver_license", r.DriverLicense, 9)
	v.Add(r.UserID == nil || *r.UserID != uuid.Nil, "user_id", "must be a user id or null")
	v.Add(r.Capacity >= 1 && r.Capacity <= MaxCapacity, "capacity", "must be from 1 to %d", MaxCapacity)
	return v.Errors()
}

// DeliveryMan is a delivery man as clients see it. ActiveOrders is read-only:
// the assignments he carries now.
type DeliveryMan struct {
	ID uuid.UUID `json:"id"`
	person.Person
	DriverLicense string     `json:"driver_license"`
	Available     bool       `json:"available"`
	UserID        *uuid.UUID `json:"user_id"`
	Capacity      int32      `json:"capacity"`
	ActiveOrders  int32      `json:"active_orders"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func toDeliveryMan(d db.DeliveryMan) DeliveryMan {
	return DeliveryMan{
		ID: d.ID,
		Person: person.Person{
			FirstName:       d.FirstName,
			PaternalSurname: d.PaternalSurname,
			MaternalSurname: d.MaternalSurname,
			NationalID:      d.NationalID,
			Email:           d.Email,
			Phone:           d.Phone,
			Address:         d.Address,
			BirthDate:       person.DateOf(d.BirthDate),
			Sex:             d.Sex,
		},
		DriverLicense: d.DriverLicense,
		Available:     d.Available,
		UserID:        d.UserID,
		Capacity:      d.Capacity,
		ActiveOrders:  d.ActiveOrders,
		CreatedAt:     d.CreatedAt,
		UpdatedAt:     d.UpdatedAt,
	}
}

func toDeliveryManRequest(d DeliveryMan) DeliveryManRequest {
	return DeliveryManRequest{
		Request: d.Person.Request(), DriverLicense: d.DriverLicense, Available: d.Available,
		UserID: d.UserID, Capacity: d.Capacity,
	}
}

// AssignmentRequest assigns a delivery man to an order. The order id is the
// idempotency key.
type AssignmentRequest struct {
	OrderID       uuid.UUID `json:"order_id"`
	DeliveryManID uuid.UUID `json:"delivery_man_id"`
}

// Validate implements httpx.Validator.
func (r *AssignmentRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	v.Add(r.OrderID != uuid.Nil, "order_id", "is required")
	v.Add(r.DeliveryManID != uuid.Nil, "delivery_man_id", "is required")
	return v.Errors()
}

// Assignment statuses.
const (
	StatusActive   = "active"
	StatusReleased = "released"
)

// Assignment is the answer about one order's delivery man. DeliveryManID is
// null only for a tombstone: an order released before it was ever assigned.
type Assignment struct {
	OrderID       uuid.UUID  `json:"order_id"`
	DeliveryManID *uuid.UUID `json:"delivery_man_id"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func toAssignment(a db.Assignment) Assignment {
	return Assignment{OrderID: a.OrderID, DeliveryManID: a.DeliveryManID, Status: a.Status, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}
