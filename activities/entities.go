package activities

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
)

// CheckUser checks that the user who placed the order exists and is active.
func (a *Activities) CheckUser(ctx context.Context, userID uuid.UUID) error {
	ans, err := a.users.call(ctx, http.MethodGet, "/users/"+userID.String(), nil)
	if err != nil {
		return err
	}
	switch ans.status {
	case http.StatusOK:
		var u struct {
			Active *bool `json:"active"`
		}
		if err := ans.decode(&u); err != nil || u.Active == nil {
			return a.users.unexpected(ans, "GET /users/{id}")
		}
		if !*u.Active {
			return Refused(Reason{Entity: EntityUser, ID: userID.String(), Reason: "user is inactive"})
		}
		return nil
	case http.StatusNotFound:
		return Refused(Reason{Entity: EntityUser, ID: userID.String(), Reason: "user not found"})
	}
	return a.users.unexpected(ans, "GET /users/{id}")
}

// CheckCustomer checks that the customer exists.
func (a *Activities) CheckCustomer(ctx context.Context, customerID uuid.UUID) error {
	ans, err := a.customers.call(ctx, http.MethodGet, "/customers/"+customerID.String(), nil)
	if err != nil {
		return err
	}
	switch ans.status {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		return Refused(Reason{Entity: EntityCustomer, ID: customerID.String(), Reason: "customer not found"})
	}
	return a.customers.unexpected(ans, "GET /customers/{id}")
}

// ReserveInput asks for the stock of every item of one order.
type ReserveInput struct {
	OrderID uuid.UUID `json:"order_id"`
	Items   []Item    `json:"items"`
}

// Reservation is the reserved stock with the price snapshot.
type Reservation struct {
	Items []PricedItem `json:"items"`
	Total string       `json:"total"`
}

// ReserveStock reserves the stock of every item (all or nothing) and takes
// the price snapshot. The products service keys the reservation by order id,
// so a repeated call reserves once.
func (a *Activities) ReserveStock(ctx context.Context, in ReserveInput) (Reservation, error) {
	ans, err := a.products.call(ctx, http.MethodPost, "/reservations", in)
	if err != nil {
		return Reservation{}, err
	}
	switch {
	case ans.status == http.StatusOK || ans.status == http.StatusCreated:
		var r Reservation
		if err := ans.decode(&r); err != nil || len(r.Items) != len(in.Items) {
			return Reservation{}, a.products.unexpected(ans, "POST /reservations")
		}
		// Answer in the order's own line order.
		byID := map[uuid.UUID]PricedItem{}
		for _, it := range r.Items {
			byID[it.ProductID] = it
		}
		out := Reservation{Total: r.Total, Items: make([]PricedItem, len(in.Items))}
		for i, it := range in.Items {
			p, ok := byID[it.ProductID]
			if !ok || p.Quantity != it.Quantity {
				return Reservation{}, a.products.unexpected(ans, "POST /reservations")
			}
			out.Items[i] = p
		}
		return out, nil
	case ans.status == http.StatusUnprocessableEntity && ans.problem.suffix() == "reservation-refused":
		var reasons []Reason
		for _, fe := range ans.problem.Errors {
			id := in.OrderID.String()
			entity := EntityOrder
			if i, ok := itemIndex(fe.Field); ok && i < len(in.Items) {
				id, entity = in.Items[i].ProductID.String(), EntityProduct
			}
			reasons = append(reasons, Reason{Entity: entity, ID: id, Reason: fe.Message})
		}
		if len(reasons) == 0 {
			reasons = []Reason{{Entity: EntityOrder, ID: in.OrderID.String(), Reason: "stock cannot be reserved: " + ans.problem.Detail}}
		}
		return Reservation{}, Refused(reasons...)
	case ans.status == http.StatusConflict && ans.problem.suffix() == "reservation-released":
		// The order was compensated while this call was on its way.
		return Reservation{}, Refused(Reason{Entity: EntityOrder, ID: in.OrderID.String(), Reason: "the stock reservation was already released"})
	case ans.status == http.StatusConflict && ans.problem.suffix() == "reservation-mismatch":
		return Reservation{}, Refused(Reason{Entity: EntityOrder, ID: in.OrderID.String(), Reason: "a different stock reservation exists for this order"})
	}
	return Reservation{}, a.products.unexpected(ans, "POST /reservations")
}

// itemIndex reads i from a field name "items[i]" (or "items[i].quantity").
func itemIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "items[")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0
}

// AssignInput assigns a delivery man to an order.
type AssignInput struct {
	OrderID       uuid.UUID `json:"order_id"`
	DeliveryManID uuid.UUID `json:"delivery_man_id"`
}

// AssignCourier assigns the delivery man to the order (idempotent by order id).
func (a *Activities) AssignCourier(ctx context.Context, in AssignInput) error {
	ans, err := a.deliveryMen.call(ctx, http.MethodPost, "/assignments", in)
	if err != nil {
		return err
	}
	refuse := func(why string) error {
		return Refused(Reason{Entity: EntityDeliveryMan, ID: in.DeliveryManID.String(), Reason: why})
	}
	switch {
	case ans.status == http.StatusOK || ans.status == http.StatusCreated:
		return nil
	case ans.status == http.StatusUnprocessableEntity:
		switch ans.problem.suffix() {
		case "delivery-man-not-found":
			return refuse("delivery man not found")
		case "delivery-man-unavailable":
			return refuse("delivery man is unavailable")
		case "delivery-man-at-capacity":
			return refuse("delivery man is at capacity")
		}
	case ans.status == http.StatusNotFound:
		return refuse("delivery man not found")
	case ans.status == http.StatusConflict && ans.problem.suffix() == "assignment-released":
		return refuse("the assignment was already released")
	case ans.status == http.StatusConflict:
		return refuse("the delivery man is assigned differently for this order")
	}
	return a.deliveryMen.unexpected(ans, "POST /assignments")
}

// ReleaseStock gives the order's stock back. It is idempotent, and releasing
// an order that has no reservation leaves a tombstone that refuses a late
// reservation, so compensation calls it whenever a reservation may exist.
func (a *Activities) ReleaseStock(ctx context.Context, orderID uuid.UUID) error {
	return a.post(ctx, a.products, "/reservations/"+orderID.String()+"/release")
}

// FulfillStock records that the reserved stock left with the order (pickup).
func (a *Activities) FulfillStock(ctx context.Context, orderID uuid.UUID) error {
	return a.post(ctx, a.products, "/reservations/"+orderID.String()+"/fulfill")
}

// ReleaseCourier frees the delivery man of the order (idempotent, tombstone
// like ReleaseStock).
func (a *Activities) ReleaseCourier(ctx context.Context, orderID uuid.UUID) error {
	return a.post(ctx, a.deliveryMen, "/assignments/"+orderID.String()+"/release")
}

func (a *Activities) post(ctx context.Context, s *service, path string) error {
	ans, err := s.call(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	if ans.status < 300 {
		return nil
	}
	activity.GetLogger(ctx).Warn("refused", "service", s.name, "path", path, "status", ans.status, "detail", ans.problem.Detail)
	return Refused(Reason{Entity: EntityOrder, ID: strings.Split(path, "/")[2],
		Reason: fmt.Sprintf("%s refused %s: %s", s.name, path, ans.problem.Detail)})
}
