package orders_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/orders"
	"github.com/delivery/platform/workflows"
)

// One Temporal dev server for the package; each test has its own stack
// (services, databases, worker and task queue).
var temporal *testenv.Temporal

func TestMain(m *testing.M) {
	if flag.Parse(); fuzzOnly() {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tp, err := testenv.StartTemporal(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders tests need the Temporal dev server:", err)
		os.Exit(1)
	}
	temporal = tp
	code := m.Run()
	tp.Stop()
	os.Exit(code)
}

type env struct {
	*testenv.Stack
	api      *testenv.API
	operator string
}

func start(t *testing.T, o testenv.StackOptions) *env {
	t.Helper()
	s := testenv.StartStack(t, temporal, o)
	return &env{Stack: s, api: testenv.NewAPI(t, s.Orders, orders.OpenAPIDoc), operator: s.Users.Token(t, auth.RoleOperator)}
}

type order struct {
	ID            uuid.UUID `json:"id"`
	Status        string    `json:"status"`
	CustomerID    uuid.UUID `json:"customer_id"`
	DeliveryManID uuid.UUID `json:"delivery_man_id"`
	UserID        uuid.UUID `json:"user_id"`
	Items         []struct {
		ProductID uuid.UUID `json:"product_id"`
		Quantity  int       `json:"quantity"`
		UnitPrice *string   `json:"unit_price"`
	} `json:"items"`
	Total           *string  `json:"total"`
	Phone           string   `json:"phone"`
	DeliveryAddress string   `json:"delivery_address"`
	Reasons         []reason `json:"reasons"`
	Late            bool     `json:"late"`
}

type reason struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type line struct {
	product  uuid.UUID
	quantity int
}

func body(customer, courier uuid.UUID, lines ...line) map[string]any {
	items := make([]map[string]any, len(lines))
	for i, l := range lines {
		items[i] = map[string]any{"product_id": l.product, "quantity": l.quantity}
	}
	return map[string]any{
		"customer_id": customer, "delivery_man_id": courier, "items": items,
		"phone": "987654321", "delivery_address": "Jr. de la Unión 456, Lima",
		"deliver_at": time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339),
	}
}

func decode(t *testing.T, r testenv.Response) order {
	t.Helper()
	var o order
	r.JSON(t, &o)
	return o
}

// eventually polls the order until it has status want.
func (e *env) eventually(t *testing.T, id uuid.UUID, want string, within time.Duration) order {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := e.api.Do(t, "GET", "/orders/"+id.String(), e.operator, nil)
		if r.Status != 200 {
			t.Fatalf("GET order: %d %s", r.Status, r.Body)
		}
		o := decode(t, r)
		if o.Status == want {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s is %s after %s, want %s: %s", id, o.Status, within, want, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func wantStock(t *testing.T, e *env, p uuid.UUID, stock, reserved int) {
	t.Helper()
	if s, r := e.Stock(t, p); s != stock || r != reserved {
		t.Fatalf("product %s: stock %d reserved %d, want %d and %d", p, s, r, stock, reserved)
	}
}

func wantActive(t *testing.T, e *env, dm uuid.UUID, n int) {
	t.Helper()
	if got := e.ActiveOrders(t, dm); got != n {
		t.Fatalf("delivery man %s carries %d orders, want %d", dm, got, n)
	}
}

func TestConfirmedOrder(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	pizza, soda := e.NewProduct(t, "12.50", 5), e.NewProduct(t, "3.00", 2)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 3, uuid.Nil)
	opID, _ := e.Users.NewUser(t, auth.RoleOperator)
	_ = opID

	r := e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{pizza, 2}, line{soda, 1}))
	if r.Status != 201 {
		t.Fatalf("POST /orders: %d %s", r.Status, r.Body)
	}
	o := decode(t, r)
	if o.Status != "CONFIRMED" || o.Total == nil || *o.Total != "28.00" || len(o.Items) != 2 ||
		*o.Items[0].UnitPrice != "12.50" || *o.Items[1].UnitPrice != "3.00" || o.Items[0].Quantity != 2 ||
		o.Phone != "987654321" || len(o.Reasons) != 0 || o.Late {
		t.Fatalf("confirmed order: %s", r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "/orders/"+o.ID.String() {
		t.Fatalf("Location %q", loc)
	}
	// Stock and courier capacity were really taken.
	wantStock(t, e, pizza, 3, 2)
	wantStock(t, e, soda, 1, 1)
	wantActive(t, e, courier, 1)

	got := decode(t, e.api.Do(t, "GET", "/orders/"+o.ID.String(), e.operator, nil))
	if got.Status != "CONFIRMED" || *got.Total != "28.00" {
		t.Fatalf("GET: %+v", got)
	}

	// The workflow is tracked: status query and search attributes.
	ctx := context.Background()
	v, err := temporal.Client.QueryWorkflow(ctx, workflows.OrderWorkflowID(o.ID), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st workflows.OrderState
	if err := v.Get(&st); err != nil || st.Status != workflows.StatusConfirmed || st.Total != "28.00" {
		t.Fatalf("status query: %+v %v", st, err)
	}
	desc, err := temporal.Client.DescribeWorkflow(ctx, workflows.OrderWorkflowID(o.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := desc.TypedSearchAttributes.GetKeyword(workflows.OrderStatusKey); s != "CONFIRMED" {
		t.Fatalf("OrderStatus search attribute %q", s)
	}
	// Findable by the search attribute, as an operator would in the Web UI.
	query := fmt.Sprintf(`OrderStatus="CONFIRMED" AND CustomerId=%q`, customer.String())
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := temporal.Client.ListWorkflow(ctx, listRequest(query))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == workflows.OrderWorkflowID(o.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s finds %d workflows", query, len(resp.Executions))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRejectedOrderListsEveryReason(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	scarce, fine := e.NewProduct(t, "5.00", 1), e.NewProduct(t, "2.00", 10)
	courier := e.NewDeliveryMan(t, 3, uuid.Nil)
	unknownCustomer := uuid.New()

	r := e.api.Do(t, "POST", "/orders", e.operator, body(unknownCustomer, courier, line{fine, 2}, line{scarce, 3}))
	if r.Status != 422 {
		t.Fatalf("POST /orders: %d %s", r.Status, r.Body)
	}
	p := r.Problem(t)
	if !strings.HasSuffix(p.Type, "/order-rejected") {
		t.Fatalf("type %s", p.Type)
	}
	fields := map[string]string{}
	for _, f := range p.Errors {
		fields[f.Field] = f.Message
	}
	if fields["customer"] != "customer not found" || !strings.Contains(fields["product"], "insufficient stock: 3 requested, 1 available") {
		t.Fatalf("errors %+v", p.Errors)
	}
	var ext struct {
		OrderID uuid.UUID `json:"order_id"`
		Reasons []reason  `json:"reasons"`
	}
	r.JSON(t, &ext)
	want := map[reason]bool{
		{"customer", unknownCustomer.String(), "customer not found"}:                 true,
		{"product", scarce.String(), "insufficient stock: 3 requested, 1 available"}: true,
	}
	if len(ext.Reasons) != 2 || !want[ext.Reasons[0]] || !want[ext.Reasons[1]] {
		t.Fatalf("reasons %+v", ext.Reasons)
	}
	// Nothing stays reserved: the courier's assignment was released, the
	// stock was never taken.
	wantActive(t, e, courier, 0)
	wantStock(t, e, fine, 10, 0)
	wantStock(t, e, scarce, 1, 0)
	o := decode(t, e.api.Do(t, "GET", "/orders/"+ext.OrderID.String(), e.operator, nil))
	if o.Status != "REJECTED" || len(o.Reasons) != 2 || o.Total != nil {
		t.Fatalf("rejected order: %+v", o)
	}
}

func TestCourierAtCapacity(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "1.00", 5)
	customer := e.NewCustomer(t)
	courier := e.NewDeliveryMan(t, 1, uuid.Nil)
	// The courier's only slot is taken by a first order.
	if r := e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 1})); r.Status != 201 {
		t.Fatalf("first order: %d %s", r.Status, r.Body)
	}
	r := e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 1}))
	if r.Status != 422 {
		t.Fatalf("second order: %d %s", r.Status, r.Body)
	}
	pr := r.Problem(t)
	if len(pr.Errors) != 1 || pr.Errors[0].Field != "delivery_man" || pr.Errors[0].Message != "delivery man is at capacity" {
		t.Fatalf("errors %+v", pr.Errors)
	}
	// The stock of the refused order was given back.
	wantStock(t, e, p, 4, 1)
}

func TestServiceDownDuringSubmission(t *testing.T) {
	e := start(t, testenv.StackOptions{LateCustomers: true, VerdictWait: 2 * time.Second})
	p := e.NewProduct(t, "4.20", 3)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 2, uuid.Nil)

	r := e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 1}))
	if r.Status != 202 {
		t.Fatalf("POST /orders with customers down: %d %s", r.Status, r.Body)
	}
	o := decode(t, r)
	if o.Status != "PENDING" || r.Header.Get("Location") != "/orders/"+o.ID.String() {
		t.Fatalf("202: %s %v", r.Body, r.Header)
	}
	e.StartCustomers(t)
	done := e.eventually(t, o.ID, "CONFIRMED", 45*time.Second)
	if *done.Total != "4.20" {
		t.Fatalf("total %v", *done.Total)
	}
	wantStock(t, e, p, 2, 1)
}

func TestIdempotentResubmission(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "7.00", 100)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 5, uuid.Nil)
	b := body(customer, courier, line{p, 2})

	first := e.api.Do(t, "POST", "/orders", e.operator, b, "Idempotency-Key", "order-1")
	again := e.api.Do(t, "POST", "/orders", e.operator, b, "Idempotency-Key", "order-1")
	if first.Status != 201 || again.Status != 201 || decode(t, first).ID != decode(t, again).ID {
		t.Fatalf("repeat: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a replay is not marked")
	}
	wantStock(t, e, p, 98, 2)

	// The same key with another body is refused.
	other := body(customer, courier, line{p, 3})
	r := e.api.Do(t, "POST", "/orders", e.operator, other, "Idempotency-Key", "order-1")
	if r.Status != 409 || !strings.HasSuffix(r.Problem(t).Type, "/idempotency-key-reused") {
		t.Fatalf("other body: %d %s", r.Status, r.Body)
	}
	// The key belongs to its user: another operator's same key is another order.
	_, op2 := e.Users.NewUser(t, auth.RoleOperator)
	r = e.api.Do(t, "POST", "/orders", op2, b, "Idempotency-Key", "order-1")
	if r.Status != 201 || decode(t, r).ID == decode(t, first).ID {
		t.Fatalf("other user: %d %s", r.Status, r.Body)
	}
	// Without a key every POST is a new order.
	r1 := e.api.Do(t, "POST", "/orders", e.operator, b)
	r2 := e.api.Do(t, "POST", "/orders", e.operator, b)
	if decode(t, r1).ID == decode(t, r2).ID {
		t.Fatal("two POSTs without a key gave one order")
	}
	wantStock(t, e, p, 92, 8)

	// After the order is cancelled, the key still answers about it.
	id := decode(t, first).ID
	if r := e.api.Do(t, "POST", "/orders/"+id.String()+"/cancel", e.operator, nil); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	r = e.api.Do(t, "POST", "/orders", e.operator, b, "Idempotency-Key", "order-1")
	if r.Status != 201 || decode(t, r).ID != id || decode(t, r).Status != "CANCELLED" {
		t.Fatalf("after cancel: %d %s", r.Status, r.Body)
	}
	wantStock(t, e, p, 94, 6)
}

func TestConcurrentIdenticalSubmissions(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "1.50", 100)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 5, uuid.Nil)
	b := body(customer, courier, line{p, 3})
	buf := mustJSON(t, b)

	const n = 50
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := testenv.Send(t, "POST", e.OrdersURL+"/orders", e.operator, buf, "Idempotency-Key", "burst")
			statuses[i] = r.Status
			var o order
			if r.Status < 300 {
				_ = jsonUnmarshal(r.Body, &o)
			}
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != 201 || ids[i] != ids[0] || ids[0] == uuid.Nil {
			t.Fatalf("request %d: %d %s (first %s)", i, statuses[i], ids[i], ids[0])
		}
	}
	var count int
	if err := e.OrdersPool.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&count); err != nil || count != 1 {
		t.Fatalf("%d orders stored (%v)", count, err)
	}
	wantStock(t, e, p, 97, 3)
	wantActive(t, e, courier, 1)
}

func TestPickupDeliverAndCancel(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "9.90", 10)
	customer := e.NewCustomer(t)
	courier, courierToken := e.NewCourier(t, 3)

	// Delivered: the stock left with the order, the courier is free again.
	o := decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 2})))
	path := "/orders/" + o.ID.String()
	if r := e.api.Do(t, "POST", path+"/deliver", courierToken, nil); r.Status != 409 ||
		!strings.Contains(r.Problem(t).Detail, "is CONFIRMED and cannot be delivered") {
		t.Fatalf("deliver before pickup: %d %s", r.Status, r.Body)
	}
	r := e.api.Do(t, "POST", path+"/pickup", courierToken, nil)
	if r.Status != 200 || decode(t, r).Status != "PICKED_UP" {
		t.Fatalf("pickup: %d %s", r.Status, r.Body)
	}
	wantStock(t, e, p, 8, 0)
	if r := e.api.Do(t, "POST", path+"/cancel", e.operator, nil); r.Status != 409 {
		t.Fatalf("cancel after pickup: %d %s", r.Status, r.Body)
	}
	if r := e.api.Do(t, "POST", path+"/pickup", courierToken, nil); r.Status != 409 {
		t.Fatalf("pickup twice: %d %s", r.Status, r.Body)
	}
	r = e.api.Do(t, "POST", path+"/deliver", courierToken, nil)
	if r.Status != 200 || decode(t, r).Status != "DELIVERED" {
		t.Fatalf("deliver: %d %s", r.Status, r.Body)
	}
	wantActive(t, e, courier, 0)
	if r := e.api.Do(t, "POST", path+"/deliver", courierToken, nil); r.Status != 409 {
		t.Fatalf("deliver twice: %d %s", r.Status, r.Body)
	}

	// Cancelled before pickup: stock and courier are released.
	o = decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 3})))
	wantStock(t, e, p, 5, 3)
	wantActive(t, e, courier, 1)
	if r := e.api.Do(t, "POST", "/orders/"+o.ID.String()+"/cancel", courierToken, nil); r.Status != 403 {
		t.Fatalf("a courier cancels: %d %s", r.Status, r.Body)
	}
	r = e.api.Do(t, "POST", "/orders/"+o.ID.String()+"/cancel", e.operator, nil)
	if r.Status != 200 || decode(t, r).Status != "CANCELLED" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	wantStock(t, e, p, 8, 0)
	wantActive(t, e, courier, 0)
	if r := e.api.Do(t, "POST", "/orders/"+o.ID.String()+"/pickup", courierToken, nil); r.Status != 409 {
		t.Fatalf("pickup after cancel: %d %s", r.Status, r.Body)
	}
	// An admin may act for the courier.
	o = decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 1})))
	if r := e.api.Do(t, "POST", "/orders/"+o.ID.String()+"/pickup", e.Users.AdminToken, nil); r.Status != 200 {
		t.Fatalf("admin pickup: %d %s", r.Status, r.Body)
	}
}

func TestCourierSeesOnlyTheirOrders(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "2.00", 10)
	customer := e.NewCustomer(t)
	mine, mineToken := e.NewCourier(t, 3)
	_, otherToken := e.NewCourier(t, 3)
	_, strayToken := e.Users.NewUser(t, auth.RoleCourier) // no delivery-man record

	o := decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, mine, line{p, 1})))
	path := "/orders/" + o.ID.String()
	for _, tok := range []string{otherToken, strayToken} {
		for _, req := range [][2]string{{"GET", path}, {"POST", path + "/pickup"}, {"POST", path + "/deliver"}} {
			if r := e.api.Do(t, req[0], req[1], tok, nil); r.Status != 404 {
				t.Fatalf("another courier %s %s: %d %s", req[0], req[1], r.Status, r.Body)
			}
		}
		var l struct{ Items []order }
		e.api.Do(t, "GET", "/orders", tok, nil).JSON(t, &l)
		if len(l.Items) != 0 {
			t.Fatalf("another courier lists %d orders", len(l.Items))
		}
	}
	if r := e.api.Do(t, "GET", path, mineToken, nil); r.Status != 200 {
		t.Fatalf("own order: %d %s", r.Status, r.Body)
	}
	var l struct{ Items []order }
	e.api.Do(t, "GET", "/orders", mineToken, nil).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != o.ID {
		t.Fatalf("own list: %+v", l.Items)
	}
	wantStock(t, e, p, 9, 1) // the other couriers changed nothing
}

func TestBadRequestsAreRefusedBeforeAnyWorkflow(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	c, dm, p := uuid.New(), uuid.New(), uuid.New()
	with := func(k string, v any) map[string]any {
		b := body(c, dm, line{p, 1})
		b[k] = v
		return b
	}
	many := make([]line, 51)
	for i := range many {
		many[i] = line{uuid.New(), 1}
	}
	cases := map[string]struct {
		body   any
		status int
		field  string
	}{
		"malformed":           {`{"customer_id": `, 400, ""},
		"unknown field":       {with("user_id", uuid.New()), 400, ""},
		"not an object":       {`[]`, 400, ""},
		"quantity zero":       {body(c, dm, line{p, 0}), 422, "items[0].quantity"},
		"quantity negative":   {body(c, dm, line{p, -2}), 422, "items[0].quantity"},
		"no items":            {body(c, dm), 422, "items"},
		"duplicated product":  {body(c, dm, line{p, 1}, line{p, 2}), 422, "items[1].product_id"},
		"too many items":      {body(c, dm, many...), 422, "items"},
		"bad phone":           {with("phone", "12345"), 422, "phone"},
		"long address":        {with("delivery_address", strings.Repeat("a", 101)), 422, "delivery_address"},
		"deliver in the past": {with("deliver_at", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), 422, "deliver_at"},
		"no customer":         {with("customer_id", nil), 422, "customer_id"},
		"string quantity":     {with("items", []map[string]any{{"product_id": p, "quantity": "2"}}), 422, "items.quantity"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.api.Do(t, "POST", "/orders", e.operator, tc.body)
			if r.Status != tc.status {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			pr := r.Problem(t)
			if tc.field != "" && (len(pr.Errors) == 0 || pr.Errors[0].Field != tc.field) {
				t.Fatalf("errors %+v, want %s", pr.Errors, tc.field)
			}
		})
	}
	// Wrong roles and no token.
	for _, role := range []auth.Role{auth.RoleCourier, auth.RoleService} {
		if r := e.api.Do(t, "POST", "/orders", e.Users.Token(t, role), body(c, dm, line{p, 1})); r.Status != 403 {
			t.Fatalf("%s: %d", role, r.Status)
		}
	}
	if r := e.api.Do(t, "POST", "/orders", "", body(c, dm, line{p, 1})); r.Status != 401 {
		t.Fatalf("anonymous: %d", r.Status)
	}
	var count int
	if err := e.OrdersPool.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&count); err != nil || count != 0 {
		t.Fatalf("%d orders stored (%v)", count, err)
	}
	ctx := context.Background()
	resp, err := temporal.Client.ListWorkflow(ctx, listRequest(fmt.Sprintf("TaskQueue=%q", e.TaskQueue)))
	if err != nil || len(resp.Executions) != 0 {
		t.Fatalf("%d workflows started (%v)", len(resp.GetExecutions()), err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "1.00", 3)
	c1, c2 := e.NewCustomer(t), e.NewCustomer(t)
	dm := e.NewDeliveryMan(t, 10, uuid.Nil)
	for _, c := range []uuid.UUID{c1, c1, c2} {
		e.api.Do(t, "POST", "/orders", e.operator, body(c, dm, line{p, 1}))
	}
	e.api.Do(t, "POST", "/orders", e.operator, body(c2, dm, line{p, 5})) // rejected: out of stock
	var l struct {
		Items      []order `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	e.api.Do(t, "GET", "/orders?customer_id="+c1.String(), e.operator, nil).JSON(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("customer filter: %d", len(l.Items))
	}
	e.api.Do(t, "GET", "/orders?status=REJECTED", e.operator, nil).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].CustomerID != c2 {
		t.Fatalf("status filter: %+v", l.Items)
	}
	e.api.Do(t, "GET", "/orders?limit=3", e.operator, nil).JSON(t, &l)
	if len(l.Items) != 3 || l.NextCursor == nil {
		t.Fatalf("first page: %d %v", len(l.Items), l.NextCursor)
	}
	e.api.Do(t, "GET", "/orders?limit=3&cursor="+*l.NextCursor, e.operator, nil).JSON(t, &l)
	if len(l.Items) != 1 || l.NextCursor != nil {
		t.Fatalf("second page: %d", len(l.Items))
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.api.Do(t, "GET", "/orders?created_after="+future, e.operator, nil).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("created_after: %d", len(l.Items))
	}
	if r := e.api.Do(t, "GET", "/orders?status=LOST&created_before=yesterday", e.operator, nil); r.Status != 422 || len(r.Problem(t).Errors) != 2 {
		t.Fatalf("bad filters: %d %s", r.Status, r.Body)
	}
}

func TestReconcilerStartsAnOrphanedOrder(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "6.00", 4)
	customer, dm := e.NewCustomer(t), e.NewDeliveryMan(t, 2, uuid.Nil)
	user, _ := e.Users.NewUser(t, auth.RoleOperator)
	// An order stored by a REST process that died before starting its workflow.
	id := uuid.Must(uuid.NewV7())
	ctx := context.Background()
	_, err := e.OrdersPool.Exec(ctx, `INSERT INTO orders (id, user_id, customer_id, delivery_man_id, phone, delivery_address, deliver_at, request_hash, created_at)
		VALUES ($1, $2, $3, $4, '987654321', 'Av. Sol 1', now() + interval '1 day', 'x', now() - interval '5 minutes')`, id, user, customer, dm)
	if err == nil {
		_, err = e.OrdersPool.Exec(ctx, `INSERT INTO order_items (order_id, line, product_id, quantity) VALUES ($1, 0, $2, 2)`, id, p)
	}
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.OrdersService.Reconcile(ctx, time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	e.eventually(t, id, "CONFIRMED", 20*time.Second)
	// Running it again joins the running workflow: nothing is reserved twice.
	if _, err := e.OrdersService.Reconcile(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	wantStock(t, e, p, 2, 2)
}

func TestInactiveUser(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "1.00", 5)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 2, uuid.Nil)
	id, tok := e.Users.NewUser(t, auth.RoleOperator)
	// Deactivated after logging in: the token still verifies here, the
	// workflow's check at the users service refuses the order.
	r := testenv.Send(t, "PATCH", e.Users.URL+"/users/"+id.String(), e.Users.AdminToken, []byte(`{"active": false}`))
	if r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	r = e.api.Do(t, "POST", "/orders", tok, body(customer, courier, line{p, 2}))
	if r.Status != 422 {
		t.Fatalf("POST by an inactive user: %d %s", r.Status, r.Body)
	}
	if pr := r.Problem(t); len(pr.Errors) != 1 || pr.Errors[0].Field != "user" || pr.Errors[0].Message != "user is inactive" {
		t.Fatalf("errors %+v", pr.Errors)
	}
	wantStock(t, e, p, 5, 0)
	wantActive(t, e, courier, 0)
}

func TestServiceDownPastTheRetryWindow(t *testing.T) {
	e := start(t, testenv.StackOptions{LateCustomers: true, VerdictWait: time.Second, RetryWindow: 4 * time.Second})
	p := e.NewProduct(t, "1.00", 5)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 2, uuid.Nil)
	r := e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 2}))
	if r.Status != 202 {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	o := e.eventually(t, decode(t, r).ID, "REJECTED", 30*time.Second)
	if len(o.Reasons) != 1 || o.Reasons[0] != (reason{"customer", customer.String(), "service unavailable"}) {
		t.Fatalf("reasons %+v", o.Reasons)
	}
	// What was reserved meanwhile is given back.
	wantStock(t, e, p, 5, 0)
	wantActive(t, e, courier, 0)
}

func TestWorkflowCancelledByAnOperator(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	p := e.NewProduct(t, "1.00", 5)
	customer, courier := e.NewCustomer(t), e.NewDeliveryMan(t, 2, uuid.Nil)
	o := decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 2})))
	wantStock(t, e, p, 3, 2)
	// As `temporal workflow cancel --workflow-id order-<id>` does.
	if err := temporal.Client.CancelWorkflow(context.Background(), workflows.OrderWorkflowID(o.ID), ""); err != nil {
		t.Fatal(err)
	}
	done := e.eventually(t, o.ID, "CANCELLED", 20*time.Second)
	if len(done.Reasons) != 1 || done.Reasons[0].Reason != "the workflow was cancelled" {
		t.Fatalf("reasons %+v", done.Reasons)
	}
	wantStock(t, e, p, 5, 0)
	wantActive(t, e, courier, 0)
}

func TestLateOrder(t *testing.T) {
	e := start(t, testenv.StackOptions{PickupDeadline: time.Second})
	p := e.NewProduct(t, "1.00", 5)
	customer := e.NewCustomer(t)
	courier, tok := e.NewCourier(t, 2)
	o := decode(t, e.api.Do(t, "POST", "/orders", e.operator, body(customer, courier, line{p, 1})))
	if o.Late {
		t.Fatal("late at once")
	}
	deadline := time.Now().Add(20 * time.Second)
	for !decode(t, e.api.Do(t, "GET", "/orders/"+o.ID.String(), e.operator, nil)).Late {
		if time.Now().After(deadline) {
			t.Fatal("never flagged late")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A dispatcher finds it among the late orders, and only it.
	var late struct {
		Items []order `json:"items"`
	}
	e.api.Do(t, "GET", "/orders?late=true&status=CONFIRMED", e.operator, nil).JSON(t, &late)
	if len(late.Items) != 1 || late.Items[0].ID != o.ID {
		t.Fatalf("late orders: %+v", late.Items)
	}
	// Late is a flag, not a status: the order can still be picked up.
	r := e.api.Do(t, "POST", "/orders/"+o.ID.String()+"/pickup", tok, nil)
	if got := decode(t, r); r.Status != 200 || got.Status != "PICKED_UP" || !got.Late {
		t.Fatalf("late pickup: %d %s", r.Status, r.Body)
	}
	desc, err := temporal.Client.DescribeWorkflow(context.Background(), workflows.OrderWorkflowID(o.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	if f, ok := desc.Memo.GetFields()["summary"]; !ok {
		t.Fatal("no memo summary")
	} else if err := converterGet(f, &summary); err != nil || !strings.Contains(summary, "LATE") {
		t.Fatalf("memo summary %q (%v)", summary, err)
	}
}

// The reconciler pages through every orphaned order in one pass, so the
// oldest (still PENDING while their workflow waits for a service) cannot hide
// the others.
func TestReconcilerPagesThroughEveryOrphan(t *testing.T) {
	e := start(t, testenv.StackOptions{})
	defer orders.SetReconcilePage(2)()
	p := e.NewProduct(t, "1.00", 20)
	customer, dm := e.NewCustomer(t), e.NewDeliveryMan(t, 10, uuid.Nil)
	user, _ := e.Users.NewUser(t, auth.RoleOperator)
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 5 {
		id := uuid.Must(uuid.NewV7())
		ids = append(ids, id)
		_, err := e.OrdersPool.Exec(ctx, `INSERT INTO orders (id, user_id, customer_id, delivery_man_id, phone, delivery_address, deliver_at, request_hash, created_at)
			VALUES ($1, $2, $3, $4, '987654321', 'Av. Sol 1', now() + interval '1 day', 'x', now() - interval '5 minutes' + $5 * interval '1 second')`,
			id, user, customer, dm, i)
		if err == nil {
			_, err = e.OrdersPool.Exec(ctx, `INSERT INTO order_items (order_id, line, product_id, quantity) VALUES ($1, 0, $2, 1)`, id, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.OrdersService.Reconcile(ctx, time.Minute)
	if err != nil || n != 5 {
		t.Fatalf("reconcile: %d orders seen (want 5), %v", n, err)
	}
	for _, id := range ids {
		e.eventually(t, id, "CONFIRMED", 20*time.Second)
	}
	wantStock(t, e, p, 15, 5)
}
