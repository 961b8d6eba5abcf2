package workflows

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/mock"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/delivery/platform/activities"
)

var (
	orderID  = uuid.MustParse("0190a000-0000-7000-8000-000000000001")
	userID   = uuid.MustParse("0190a000-0000-7000-8000-000000000002")
	custID   = uuid.MustParse("0190a000-0000-7000-8000-000000000003")
	courID   = uuid.MustParse("0190a000-0000-7000-8000-000000000004")
	product1 = uuid.MustParse("0190a000-0000-7000-8000-000000000005")
	product2 = uuid.MustParse("0190a000-0000-7000-8000-000000000006")
)

func input() OrderInput {
	return OrderInput{
		OrderID: orderID, UserID: userID, CustomerID: custID, DeliveryManID: courID,
		Items:       []Item{{ProductID: product1, Quantity: 2}, {ProductID: product2, Quantity: 1}},
		RetryWindow: 5 * time.Minute, PickupDeadline: 2 * time.Hour,
	}
}

var reservation = activities.Reservation{
	Items: []PricedItem{{ProductID: product1, Quantity: 2, UnitPrice: "10.25"}, {ProductID: product2, Quantity: 1, UnitPrice: "3.00"}},
	Total: "23.50",
}

// stubs are the activity outcomes of one test; nil errors succeed.
type stubs struct {
	user, customer, stock, courier error
	// transient fails customer checks this many times before succeeding.
	transient int
	// block makes the checks hang (until cancelled).
	block bool
	// customerCalls, when set, counts the customer checks (tries included).
	customerCalls *int
}

func newEnv(t *testing.T, s stubs) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := suite.NewTestWorkflowEnvironment()
	Register(env, nil)
	var acts *activities.Activities
	wait := func(d time.Duration) func(mock.Arguments) {
		return func(mock.Arguments) {
			if s.block {
				time.Sleep(d)
			}
		}
	}
	if s.transient > 0 {
		env.OnActivity(acts.CheckCustomer, mock.Anything, custID).Return(errors.New("dial tcp: connection refused")).Times(s.transient)
	}
	env.OnActivity(acts.CheckUser, mock.Anything, userID).Return(s.user)
	env.OnActivity(acts.CheckCustomer, mock.Anything, custID).Run(func(mock.Arguments) {
		if s.customerCalls != nil {
			*s.customerCalls++
		}
	}).Return(s.customer)
	env.OnActivity(acts.ReserveStock, mock.Anything, activities.ReserveInput{OrderID: orderID, Items: input().Items}).
		Run(wait(time.Second)).Return(reservation, s.stock)
	env.OnActivity(acts.AssignCourier, mock.Anything, activities.AssignInput{OrderID: orderID, DeliveryManID: courID}).
		Run(wait(time.Second)).Return(s.courier)
	env.OnActivity(acts.ConfirmOrder, mock.Anything, activities.ConfirmInput{OrderID: orderID, Items: reservation.Items, Total: "23.50"}).Return(nil).Maybe()
	env.OnActivity(acts.SetStatus, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(acts.ReleaseStock, mock.Anything, orderID).Return(nil).Maybe()
	env.OnActivity(acts.ReleaseCourier, mock.Anything, orderID).Return(nil).Maybe()
	env.OnActivity(acts.FulfillStock, mock.Anything, orderID).Return(nil).Maybe()
	env.OnActivity(acts.MarkLate, mock.Anything, orderID).Return(nil).Maybe()
	return env
}

func refusal(entity string, id uuid.UUID, why string) error {
	return activities.Refused(Reason{Entity: entity, ID: id.String(), Reason: why})
}

// result runs the workflow to its end and returns its final state.
func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) OrderState {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("the workflow did not complete")
	}
	var st OrderState
	if err := env.GetWorkflowResult(&st); err != nil {
		var canceled *temporal.CanceledError
		if !errors.As(err, &canceled) {
			t.Fatalf("workflow failed: %v", err)
		}
		return query(t, env)
	}
	return st
}

func query(t *testing.T, env *testsuite.TestWorkflowEnvironment) OrderState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st OrderState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// update sends an update after delay and records its outcome.
type outcome struct {
	rejected error
	err      error
	state    OrderState
	done     bool
}

func update(env *testsuite.TestWorkflowEnvironment, delay time.Duration, name string, out *outcome) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, name+"-"+delay.String(), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { out.rejected, out.done = err, true },
			OnComplete: func(v any, err error) {
				out.err, out.done = err, true
				if st, ok := v.(OrderState); ok {
					out.state = st
				}
			},
		}, TransitionRequest{By: userID})
	}, delay)
}

func verdict(env *testsuite.TestWorkflowEnvironment, out *outcome) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateVerdict, VerdictUpdateID, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { out.rejected, out.done = err, true },
			OnComplete: func(v any, err error) {
				out.err, out.done = err, true
				if st, ok := v.(OrderState); ok {
					out.state = st
				}
			},
		})
	}, 0)
}

func wantStatus(t *testing.T, st OrderState, want Status) {
	t.Helper()
	if st.Status != want {
		t.Fatalf("status %s, want %s (reasons %v)", st.Status, want, st.Reasons)
	}
}

func wantReasons(t *testing.T, st OrderState, want ...Reason) {
	t.Helper()
	if len(st.Reasons) != len(want) {
		t.Fatalf("reasons %v, want %v", st.Reasons, want)
	}
	for i := range want {
		if st.Reasons[i] != want[i] {
			t.Fatalf("reason %d: %v, want %v", i, st.Reasons[i], want[i])
		}
	}
}

func calls(t *testing.T, env *testsuite.TestWorkflowEnvironment, counts map[string]int) {
	t.Helper()
	for name, n := range counts {
		env.AssertActivityNumberOfCalls(t, name, n)
	}
}

func TestConfirmedThenPickedUpAndDelivered(t *testing.T) {
	env := newEnv(t, stubs{})
	var v, pickup, deliver outcome
	verdict(env, &v)
	update(env, time.Minute, UpdatePickup, &pickup)
	update(env, 2*time.Minute, UpdateDeliver, &deliver)
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusDelivered)
	if !v.done || v.err != nil || v.state.Status != StatusConfirmed || v.state.Total != "23.50" || v.state.Items[0].UnitPrice != "10.25" {
		t.Fatalf("verdict %+v", v)
	}
	if pickup.err != nil || pickup.state.Status != StatusPickedUp || deliver.err != nil || deliver.state.Status != StatusDelivered {
		t.Fatalf("pickup %+v deliver %+v", pickup, deliver)
	}
	if st.Late {
		t.Fatal("picked up in time but flagged late")
	}
	calls(t, env, map[string]int{"ConfirmOrder": 1, "FulfillStock": 1, "ReleaseCourier": 1, "ReleaseStock": 0, "MarkLate": 0, "SetStatus": 2})
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stubs  stubs
		reason Reason
		// what the compensation releases
		stock, courier int
	}{
		{"user inactive", stubs{user: refusal("user", userID, "user is inactive")},
			rsn("user", userID.String(), "user is inactive"), 1, 1},
		{"user not found", stubs{user: refusal("user", userID, "user not found")},
			rsn("user", userID.String(), "user not found"), 1, 1},
		{"customer not found", stubs{customer: refusal("customer", custID, "customer not found")},
			rsn("customer", custID.String(), "customer not found"), 1, 1},
		{"out of stock", stubs{stock: refusal("product", product2, "insufficient stock: 1 requested, 0 available")},
			rsn("product", product2.String(), "insufficient stock: 1 requested, 0 available"), 0, 1},
		{"delivery man unavailable", stubs{courier: refusal("delivery_man", courID, "delivery man is unavailable")},
			rsn("delivery_man", courID.String(), "delivery man is unavailable"), 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.stubs)
			var v outcome
			verdict(env, &v)
			env.ExecuteWorkflow(WorkflowName, input())
			st := result(t, env)
			wantStatus(t, st, StatusRejected)
			wantReasons(t, st, tc.reason)
			if v.state.Status != StatusRejected {
				t.Fatalf("verdict %+v", v)
			}
			calls(t, env, map[string]int{"ConfirmOrder": 0, "ReleaseStock": tc.stock, "ReleaseCourier": tc.courier})
			env.AssertActivityCalled(t, "SetStatus", mock.Anything, activities.StatusInput{OrderID: orderID, Status: "REJECTED", Reasons: []Reason{tc.reason}})
		})
	}
}

func TestEveryRefusalIsListed(t *testing.T) {
	env := newEnv(t, stubs{
		customer: refusal("customer", custID, "customer not found"),
		stock: activities.Refused(
			rsn("product", product1.String(), "product is inactive"),
			rsn("product", product2.String(), "product not found")),
	})
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusRejected)
	wantReasons(t, st,
		rsn("customer", custID.String(), "customer not found"),
		rsn("product", product1.String(), "product is inactive"),
		rsn("product", product2.String(), "product not found"))
	calls(t, env, map[string]int{"ReleaseStock": 0, "ReleaseCourier": 1})
}

func TestTransientFailureThenSuccess(t *testing.T) {
	env := newEnv(t, stubs{transient: 3})
	var v outcome
	verdict(env, &v)
	// The order then waits for pickup: cancel the workflow to end the test.
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(WorkflowName, input())
	if v.err != nil || v.state.Status != StatusConfirmed {
		t.Fatalf("verdict %+v", v)
	}
	calls(t, env, map[string]int{"CheckCustomer": 4, "ConfirmOrder": 1})
}

func TestRetryWindowExhausted(t *testing.T) {
	customerCalls := 0
	env := newEnv(t, stubs{customer: errors.New("dial tcp 127.0.0.1:8083: connection refused"), customerCalls: &customerCalls})
	var v outcome
	verdict(env, &v)
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusRejected)
	wantReasons(t, st, rsn("customer", custID.String(), "service unavailable"))
	if v.state.Status != StatusRejected {
		t.Fatalf("verdict %+v", v)
	}
	// Stock and courier were reserved: both are given back.
	calls(t, env, map[string]int{"ConfirmOrder": 0, "ReleaseStock": 1, "ReleaseCourier": 1})
	if customerCalls < 5 {
		t.Fatalf("customer checked %d times: want retries with backoff within the window", customerCalls)
	}
}

func TestUnknownReservationOutcomeIsReleased(t *testing.T) {
	// The products service never answered: whether stock was taken is unknown,
	// so it is released (the release tombstones a late reservation).
	env := newEnv(t, stubs{stock: errors.New("context deadline exceeded")})
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusRejected)
	wantReasons(t, st, rsn("product", product1.String()+","+product2.String(), "service unavailable"))
	calls(t, env, map[string]int{"ReleaseStock": 1, "ReleaseCourier": 1})
}

func TestCancelUpdateAfterConfirmation(t *testing.T) {
	env := newEnv(t, stubs{})
	var cancel outcome
	update(env, time.Minute, UpdateCancel, &cancel)
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusCancelled)
	wantReasons(t, st, rsn("order", orderID.String(), "cancelled by request"))
	if cancel.err != nil || cancel.state.Status != StatusCancelled {
		t.Fatalf("cancel %+v", cancel)
	}
	calls(t, env, map[string]int{"ConfirmOrder": 1, "ReleaseStock": 1, "ReleaseCourier": 1, "FulfillStock": 0})
}

func TestCancelUpdateWhileChecking(t *testing.T) {
	env := newEnv(t, stubs{block: true})
	var v, cancel outcome
	verdict(env, &v)
	update(env, 100*time.Millisecond, UpdateCancel, &cancel)
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusCancelled)
	if cancel.err != nil || cancel.state.Status != StatusCancelled || v.state.Status != StatusCancelled {
		t.Fatalf("cancel %+v verdict %+v", cancel, v)
	}
	calls(t, env, map[string]int{"ConfirmOrder": 0, "ReleaseStock": 1, "ReleaseCourier": 1})
}

func TestWorkflowCancelledWhileChecking(t *testing.T) {
	env := newEnv(t, stubs{block: true})
	var v outcome
	verdict(env, &v)
	env.RegisterDelayedCallback(env.CancelWorkflow, 100*time.Millisecond)
	env.ExecuteWorkflow(WorkflowName, input())
	st := result(t, env)
	wantStatus(t, st, StatusCancelled)
	wantReasons(t, st, rsn("order", orderID.String(), "the workflow was cancelled"))
	if v.state.Status != StatusCancelled {
		t.Fatalf("verdict %+v", v)
	}
	calls(t, env, map[string]int{"ConfirmOrder": 0, "ReleaseStock": 1, "ReleaseCourier": 1})
	env.AssertActivityCalled(t, "SetStatus", mock.Anything, activities.StatusInput{
		OrderID: orderID, Status: "CANCELLED", Reasons: []Reason{rsn("order", orderID.String(), "the workflow was cancelled")}})
}

func TestWorkflowCancelledAfterPickup(t *testing.T) {
	env := newEnv(t, stubs{})
	var pickup outcome
	update(env, time.Minute, UpdatePickup, &pickup)
	env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Minute)
	env.ExecuteWorkflow(WorkflowName, input())
	wantStatus(t, result(t, env), StatusCancelled)
	// The goods left with the courier: only the courier is released.
	calls(t, env, map[string]int{"FulfillStock": 1, "ReleaseStock": 0, "ReleaseCourier": 1})
}

func TestIllegalTransitionsAreRejected(t *testing.T) {
	env := newEnv(t, stubs{})
	var deliverEarly, pickup, pickupAgain, cancelAfterPickup, deliver outcome
	update(env, time.Minute, UpdateDeliver, &deliverEarly)
	update(env, 2*time.Minute, UpdatePickup, &pickup)
	update(env, 3*time.Minute, UpdatePickup, &pickupAgain)
	update(env, 4*time.Minute, UpdateCancel, &cancelAfterPickup)
	update(env, 5*time.Minute, UpdateDeliver, &deliver)
	// After delivery the workflow has closed: no update reaches it (the REST
	// side answers from the database). The validator of a rejected order is
	// tested directly below.
	env.ExecuteWorkflow(WorkflowName, input())
	wantStatus(t, result(t, env), StatusDelivered)
	for name, o := range map[string]outcome{"deliver before pickup": deliverEarly, "pickup twice": pickupAgain, "cancel after pickup": cancelAfterPickup} {
		var appErr *temporal.ApplicationError
		if !errors.As(o.rejected, &appErr) || appErr.Type() != ErrTransitionNotAllowed {
			t.Errorf("%s: want rejected with %s, got %+v", name, ErrTransitionNotAllowed, o)
		}
	}
	if msg := deliverEarly.rejected.Error(); msg == "" || !strings.Contains(msg, "is CONFIRMED and cannot be delivered") {
		t.Errorf("message %q", msg)
	}
	if pickup.err != nil || deliver.err != nil || pickup.rejected != nil || deliver.rejected != nil {
		t.Fatalf("pickup %+v deliver %+v", pickup, deliver)
	}
	calls(t, env, map[string]int{"FulfillStock": 1, "ReleaseCourier": 1, "ReleaseStock": 0})
}

func TestRejectedOrderRefusesTransitions(t *testing.T) {
	o := &order{state: OrderState{Status: StatusRejected}}
	for _, u := range []string{UpdatePickup, UpdateDeliver, UpdateCancel} {
		if err := o.allowed(u); err == nil {
			t.Errorf("%s allowed on a rejected order", u)
		}
	}
	o.state.Status = StatusPending
	if o.allowed(UpdateCancel) != nil || o.allowed(UpdatePickup) == nil {
		t.Error("a pending order may be cancelled and not picked up")
	}
}

func TestLatePickup(t *testing.T) {
	env := newEnv(t, stubs{})
	var pickup outcome
	update(env, 3*time.Hour, UpdatePickup, &pickup)
	env.RegisterDelayedCallback(func() {
		st := query(t, env)
		if !st.Late || st.Status != StatusPickedUp {
			t.Errorf("after a late pickup: %+v", st)
		}
		env.CancelWorkflow()
	}, 4*time.Hour)
	env.ExecuteWorkflow(WorkflowName, input())
	if pickup.err != nil || !pickup.state.Late {
		t.Fatalf("pickup %+v", pickup)
	}
	calls(t, env, map[string]int{"MarkLate": 1})
}

func TestPickupInTimeIsNotLate(t *testing.T) {
	env := newEnv(t, stubs{})
	var pickup outcome
	update(env, time.Hour, UpdatePickup, &pickup)
	env.RegisterDelayedCallback(env.CancelWorkflow, 5*time.Hour)
	env.ExecuteWorkflow(WorkflowName, input())
	calls(t, env, map[string]int{"MarkLate": 0})
}

func TestSearchAttributesFollowTheStatus(t *testing.T) {
	env := newEnv(t, stubs{})
	var statuses []string
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		st, _ := sa.GetKeyword(OrderStatusKey)
		cust, _ := sa.GetKeyword(CustomerIDKey)
		dm, _ := sa.GetKeyword(DeliveryManIDKey)
		if cust != custID.String() || dm != courID.String() {
			t.Errorf("CustomerId %q DeliveryManId %q", cust, dm)
		}
		statuses = append(statuses, st)
	}).Return(nil)
	var memo []string
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		memo = append(memo, args.Get(0).(map[string]any)["summary"].(string))
	}).Return(nil)
	update(env, time.Minute, UpdatePickup, &outcome{})
	update(env, 2*time.Minute, UpdateDeliver, &outcome{})
	env.ExecuteWorkflow(WorkflowName, input())
	if got := strings.Join(statuses, ","); got != "PENDING,CONFIRMED,PICKED_UP,DELIVERED" {
		t.Fatalf("OrderStatus went %s", got)
	}
	if last := memo[len(memo)-1]; !strings.Contains(last, "DELIVERED") || !strings.Contains(last, "total 23.50") {
		t.Fatalf("memo %q", last)
	}
}

func rsn(entity, id, why string) Reason { return Reason{Entity: entity, ID: id, Reason: why} }
