package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/config"
)

// answer is one HTTP response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(v any) error { return json.Unmarshal(a.body, v) }

// call sends one request to a service of the stack; err is set only when no
// answer came (connection refused, timeout).
func (s *stack) call(method, svc, path, token string, body any, headers ...string) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.urls[svc]+path, r)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// must sends a request that has to answer want.
func (s *stack) must(t *testing.T, want int, method, svc, path string, body any, v any) {
	t.Helper()
	a, err := s.call(method, svc, path, s.admin, body)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, svc, path, err)
	}
	if a.status != want {
		t.Fatalf("%s %s%s: %d %s (want %d)", method, svc, path, a.status, a.body, want)
	}
	if v != nil {
		if err := a.decode(v); err != nil {
			t.Fatalf("%s %s%s: %v: %s", method, svc, path, err, a.body)
		}
	}
}

func (s *stack) login(t *testing.T) string {
	t.Helper()
	var lr struct {
		AccessToken string `json:"access_token"`
	}
	a, err := s.call("POST", config.Users, "/auth/login", "",
		map[string]string{"email": config.DevAdminEmail, "password": config.DevAdminPassword})
	if err != nil || a.status != 200 || a.decode(&lr) != nil || lr.AccessToken == "" {
		t.Fatalf("login: %v %d %s", err, a.status, a.body)
	}
	return lr.AccessToken
}

var seq atomic.Int64

func person(extra ...any) map[string]any {
	n := seq.Add(1)
	tag := uuid.NewString()[:8]
	b := map[string]any{
		"first_name": "Ana", "paternal_surname": "Quispe", "maternal_surname": "Mamani",
		"national_id": fmt.Sprintf("%08d", 10000000+(time.Now().UnixNano()/1000+n)%89999999),
		"email":       fmt.Sprintf("f%d-%s@example.com", n, tag),
		"phone":       "987654321", "address": "Av. Arequipa 123, Lima", "birth_date": "1990-05-04", "sex": "female",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

type idOnly struct {
	ID uuid.UUID `json:"id"`
}

func (s *stack) newProduct(t *testing.T, stock int) uuid.UUID {
	t.Helper()
	var v idOnly
	s.must(t, 201, "POST", config.Products, "/products",
		map[string]any{"name": "Product " + uuid.NewString()[:8], "price": "12.50", "stock": stock}, &v)
	return v.ID
}

func (s *stack) newCustomer(t *testing.T) uuid.UUID {
	t.Helper()
	var v idOnly
	s.must(t, 201, "POST", config.Customers, "/customers", person(), &v)
	return v.ID
}

func (s *stack) newDeliveryMan(t *testing.T, capacity int) uuid.UUID {
	t.Helper()
	var v idOnly
	s.must(t, 201, "POST", config.DeliveryMen, "/delivery-men",
		person("driver_license", fmt.Sprintf("Q%08d", seq.Add(1)%100000000), "available", true, "capacity", capacity), &v)
	return v.ID
}

// line is one line of an order.
type line struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int       `json:"quantity"`
}

// orderReq is the body of POST /orders.
type orderReq struct {
	CustomerID      uuid.UUID `json:"customer_id"`
	DeliveryManID   uuid.UUID `json:"delivery_man_id"`
	Items           []line    `json:"items"`
	Phone           string    `json:"phone"`
	DeliveryAddress string    `json:"delivery_address"`
	DeliverAt       time.Time `json:"deliver_at"`
}

func newOrderReq(customer, courier uuid.UUID, items ...line) orderReq {
	return orderReq{CustomerID: customer, DeliveryManID: courier, Items: items, Phone: "987654321",
		DeliveryAddress: "Av. Arequipa 1234, Lima", DeliverAt: time.Date(2040, 1, 1, 12, 0, 0, 0, time.UTC)}
}

// order is an order as GET /orders answers it.
type order struct {
	ID            uuid.UUID `json:"id"`
	Status        string    `json:"status"`
	CustomerID    uuid.UUID `json:"customer_id"`
	DeliveryManID uuid.UUID `json:"delivery_man_id"`
	Items         []line    `json:"items"`
	Reasons       []struct {
		Entity string `json:"entity"`
		Reason string `json:"reason"`
	} `json:"reasons"`
}

// placed is the answer to one POST /orders.
type placed struct {
	key    string
	status int // 201, 202, 422; 0 when no definite answer came
	id     uuid.UUID
	state  string // the order's status in the answer
	took   time.Duration
	tries  int
	at     time.Time // when the answer came
	err    string    // the last non-answer
	// failed counts the answers that were not definite, by status ("conn"
	// when no answer came).
	failed map[string]int
}

// place sends POST /orders with an Idempotency-Key, repeating it (as a client
// should) while the answer is not definite (no connection, 5xx), for up to
// patience. Every repeat must answer about the same order.
func (s *stack) place(req orderReq, key string, patience time.Duration) placed {
	start := time.Now()
	p := placed{key: key, failed: map[string]int{}}
	for {
		p.tries++
		a, err := s.call("POST", config.Orders, "/orders", s.admin, req, "Idempotency-Key", key)
		switch {
		case err != nil:
			p.err = err.Error()
			p.failed["conn"]++
		case a.status == 201 || a.status == 202:
			var o order
			if err := a.decode(&o); err != nil {
				p.err = fmt.Sprintf("%d %s", a.status, a.body)
				break
			}
			p.status, p.id, p.state = a.status, o.ID, o.Status
		case a.status == 422:
			var pr struct {
				OrderID     uuid.UUID `json:"order_id"`
				OrderStatus string    `json:"order_status"`
			}
			if err := a.decode(&pr); err != nil || pr.OrderID == uuid.Nil {
				p.err = fmt.Sprintf("%d %s", a.status, a.body)
				p.status = -a.status // a 422 that is no verdict: the request itself is wrong
				p.took = time.Since(start)
				return p
			}
			p.status, p.id, p.state = a.status, pr.OrderID, pr.OrderStatus
		default:
			p.err = fmt.Sprintf("%d %s", a.status, strings.TrimSpace(string(a.body)))
			p.failed[fmt.Sprint(a.status)]++
			if a.status < 500 {
				p.status = -a.status
				p.took = time.Since(start)
				return p
			}
		}
		if p.status > 0 {
			p.took, p.at = time.Since(start), time.Now()
			return p
		}
		if time.Since(start) > patience {
			p.took = time.Since(start)
			return p
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// orders reads every order through GET /orders.
func (s *stack) orders() ([]order, error) {
	var all []order
	cursor := ""
	for {
		path := "/orders?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		a, err := s.call("GET", config.Orders, path, s.admin, nil)
		if err != nil {
			return nil, err
		}
		if a.status != 200 {
			return nil, fmt.Errorf("GET /orders: %d %s", a.status, a.body)
		}
		var page struct {
			Items      []order `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := a.decode(&page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}

// getOrder reads one order.
func (s *stack) getOrder(id uuid.UUID) (order, error) {
	var o order
	a, err := s.call("GET", config.Orders, "/orders/"+id.String(), s.admin, nil)
	if err != nil {
		return o, err
	}
	if a.status != 200 {
		return o, fmt.Errorf("GET /orders/%s: %d %s", id, a.status, a.body)
	}
	return o, a.decode(&o)
}

// transition sends pickup, deliver or cancel; it answers the status code.
func (s *stack) transition(id uuid.UUID, what string) (int, error) {
	a, err := s.call("POST", config.Orders, "/orders/"+id.String()+"/"+what, s.admin, nil)
	if err != nil {
		return 0, err
	}
	return a.status, nil
}

// parallel runs f(i) for i in [0, n) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	next := make(chan int)
	done := make(chan struct{})
	for range workers {
		go func() {
			for i := range next {
				f(i)
			}
			done <- struct{}{}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	for range workers {
		<-done
	}
}
