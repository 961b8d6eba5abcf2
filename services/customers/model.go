package customers

import (
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/person"
	"github.com/delivery/platform/services/customers/db"
)

// CustomerRequest is the body of POST, PUT and (merged onto the current state)
// PATCH /customers: the person fields.
type CustomerRequest struct {
	person.Request
}

func newCustomerRequest() CustomerRequest { return CustomerRequest{} }

// Validate implements httpx.Validator.
func (r *CustomerRequest) Validate() []httpx.FieldError {
	var v httpx.Check
	r.Check(&v, person.MinAge, person.Today())
	return v.Errors()
}

// Customer is a customer as clients see it.
type Customer struct {
	ID uuid.UUID `json:"id"`
	person.Person
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toCustomer(c db.Customer) Customer {
	return Customer{
		ID: c.ID,
		Person: person.Person{
			FirstName:       c.FirstName,
			PaternalSurname: c.PaternalSurname,
			MaternalSurname: c.MaternalSurname,
			NationalID:      c.NationalID,
			Email:           c.Email,
			Phone:           c.Phone,
			Address:         c.Address,
			BirthDate:       person.DateOf(c.BirthDate),
			Sex:             c.Sex,
		},
		CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt,
	}
}

func toCustomerRequest(c Customer) CustomerRequest {
	return CustomerRequest{Request: c.Person.Request()}
}
