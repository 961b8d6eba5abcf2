package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/delivery/platform/activities"
)

// a names the activities as method values; it is never dereferenced.
var a *activities.Activities

// Activity options. Entity checks retry technical failures with backoff until
// the order's retry window closes; compensations and database writes retry
// until they succeed (a release must not be lost).
const (
	callTimeout     = 15 * time.Second
	maxRetryBackoff = 30 * time.Second
)

// OrderWorkflow is the saga of one order; see the package comment.
func OrderWorkflow(ctx workflow.Context, in OrderInput) (OrderState, error) {
	o := &order{in: in, log: workflow.GetLogger(ctx)}
	o.state = OrderState{
		OrderID: in.OrderID, Status: StatusPending, UserID: in.UserID, CustomerID: in.CustomerID,
		DeliveryManID: in.DeliveryManID, Items: make([]PricedItem, len(in.Items)), Reasons: []Reason{},
	}
	for i, it := range in.Items {
		o.state.Items[i] = PricedItem{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	if err := o.handlers(ctx); err != nil {
		return o.state, err
	}
	// Version 1: the four checks and the commit run as local activities, in
	// the worker that runs the workflow: p50 0.26-0.30 and up to 2.5x the
	// throughput of regular ones on the engine's floor (BENCHMARKS.md).
	// Histories recorded before keep the regular activities they ran.
	o.localChecks = workflow.GetVersion(ctx, localChecksChange, workflow.DefaultVersion, 1) == 1
	o.track(ctx)
	err := o.run(ctx)
	o.done = true
	// Let running update handlers answer before the workflow closes.
	_ = workflow.Await(disconnected(ctx), func() bool { return workflow.AllHandlersFinished(ctx) })
	return o.state, err
}

type order struct {
	in    OrderInput
	state OrderState
	log   interface {
		Info(string, ...any)
		Warn(string, ...any)
	}
	// busy is held by whatever is carrying out a transition, so that pickup,
	// cancel and the deadline timer never interleave.
	busy bool
	// cancelRequested: a cancel update arrived while the order was checked.
	cancelRequested bool
	cancelChecks    workflow.CancelFunc
	// done: the saga is over (also when it failed), waiting handlers answer.
	done bool
	// observed is the last status counted in the metrics.
	observed Status
	// localChecks: the checks and the commit are local activities (version 1
	// of localChecksChange).
	localChecks bool
}

// localChecksChange names the versioned change to local activities.
const localChecksChange = "local-checks"

func (o *order) run(ctx workflow.Context) error {
	checkCtx, cancelChecks := workflow.WithCancel(ctx)
	o.cancelChecks = cancelChecks
	res, reasons, h := o.check(checkCtx)
	switch {
	case ctx.Err() != nil || o.cancelRequested:
		return o.cancel(ctx, h, o.cancelReason(ctx))
	case len(reasons) > 0:
		o.compensate(ctx, h)
		return o.finish(ctx, StatusRejected, reasons)
	}

	if err := o.commit(ctx, res); err != nil {
		o.compensate(ctx, h)
		return err
	}
	if ctx.Err() != nil || o.cancelRequested {
		return o.cancel(ctx, h, o.cancelReason(ctx))
	}

	// Follow the order: updates move it on; the deadline flags it late.
	timerCtx, stopTimer := workflow.WithCancel(ctx)
	defer stopTimer()
	if o.in.PickupDeadline > 0 {
		workflow.Go(timerCtx, o.pickupDeadline)
	}
	if err := workflow.Await(ctx, func() bool { return o.state.Status.Final() }); err != nil {
		// The workflow was cancelled: the order is cancelled, whatever it holds
		// is given back (stock only before pickup: after it, the goods left).
		dctx := disconnected(ctx)
		_ = workflow.Await(dctx, func() bool { return !o.busy })
		if o.state.Status.Final() {
			return nil
		}
		return o.cancel(ctx, held{stock: o.state.Status == StatusConfirmed, courier: true}, o.cancelReason(ctx))
	}
	return nil
}

// held says which reservations may exist and must be compensated.
type held struct{ stock, courier bool }

// check runs the four checks in parallel. It returns the reservation, the
// reasons of a refusal, and what may be held (every reservation whose outcome
// is not a definite refusal: released even when its outcome is unknown, which
// the services make safe with tombstones).
func (o *order) check(ctx workflow.Context) (activities.Reservation, []Reason, held) {
	retry := &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        maxRetryBackoff,
		NonRetryableErrorTypes: []string{activities.ErrRefused, activities.ErrUnexpected},
	}
	var run func(ctx workflow.Context, activity, arg any) workflow.Future
	if o.localChecks {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: callTimeout, ScheduleToCloseTimeout: o.in.RetryWindow, RetryPolicy: retry,
		})
		run = func(_ workflow.Context, activity, arg any) workflow.Future {
			return workflow.ExecuteLocalActivity(lctx, activity, arg)
		}
	} else {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: callTimeout, ScheduleToCloseTimeout: o.in.RetryWindow, RetryPolicy: retry,
		})
		run = func(_ workflow.Context, activity, arg any) workflow.Future {
			return workflow.ExecuteActivity(actx, activity, arg)
		}
	}
	in := o.in
	user := run(ctx, a.CheckUser, in.UserID)
	customer := run(ctx, a.CheckCustomer, in.CustomerID)
	stock := run(ctx, a.ReserveStock, activities.ReserveInput{OrderID: in.OrderID, Items: in.Items})
	courier := run(ctx, a.AssignCourier, activities.AssignInput{OrderID: in.OrderID, DeliveryManID: in.DeliveryManID})

	var res activities.Reservation
	var reasons []Reason
	var h held
	reasons = append(reasons, o.outcome(user.Get(ctx, nil), activities.EntityUser, in.UserID.String())...)
	reasons = append(reasons, o.outcome(customer.Get(ctx, nil), activities.EntityCustomer, in.CustomerID.String())...)
	err := stock.Get(ctx, &res)
	h.stock = !refused(err)
	reasons = append(reasons, o.outcome(err, activities.EntityProduct, productIDs(in.Items))...)
	err = courier.Get(ctx, nil)
	h.courier = !refused(err)
	reasons = append(reasons, o.outcome(err, activities.EntityDeliveryMan, in.DeliveryManID.String())...)
	return res, reasons, h
}

// outcome turns the error of one check into reasons: a refusal carries its
// own; a cancelled check none; any other failure (the retry window closed on
// a service that did not answer, or answered nonsense) is "service
// unavailable".
func (o *order) outcome(err error, entity, id string) []Reason {
	if err == nil || temporal.IsCanceledError(err) {
		return nil
	}
	if refused(err) {
		var appErr *temporal.ApplicationError
		errors.As(err, &appErr)
		var rs []Reason
		if appErr.HasDetails() && appErr.Details(&rs) == nil && len(rs) > 0 {
			return rs
		}
		return []Reason{{Entity: entity, ID: id, Reason: appErr.Message()}}
	}
	o.log.Warn("check failed", "entity", entity, "error", err)
	return []Reason{{Entity: entity, ID: id, Reason: activities.ReasonServiceUnavailable}}
}

func refused(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrRefused
}

func productIDs(items []Item) string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ProductID.String()
	}
	return strings.Join(ids, ",")
}

// commit writes the confirmed order with its prices and total.
func (o *order) commit(ctx workflow.Context, res activities.Reservation) error {
	in := activities.ConfirmInput{OrderID: o.in.OrderID, Items: res.Items, Total: res.Total}
	var f workflow.Future
	if o.localChecks {
		f = workflow.ExecuteLocalActivity(persistentLocal(disconnected(ctx)), a.ConfirmOrder, in)
	} else {
		f = workflow.ExecuteActivity(persistent(disconnected(ctx)), a.ConfirmOrder, in)
	}
	err := f.Get(ctx, nil)
	if err != nil {
		return err
	}
	o.state.Items, o.state.Total = res.Items, res.Total
	o.state.Status = StatusConfirmed
	o.track(ctx)
	return nil
}

// compensate releases what may be held, in parallel, in a context that a
// cancellation of the workflow does not stop.
func (o *order) compensate(ctx workflow.Context, h held) {
	dctx := persistent(disconnected(ctx))
	var fs []workflow.Future
	if h.stock {
		fs = append(fs, workflow.ExecuteActivity(dctx, a.ReleaseStock, o.in.OrderID))
	}
	if h.courier {
		fs = append(fs, workflow.ExecuteActivity(dctx, a.ReleaseCourier, o.in.OrderID))
	}
	for _, f := range fs {
		if err := f.Get(dctx, nil); err != nil {
			o.log.Warn("compensation refused", "error", err)
		}
	}
}

// cancel compensates and ends the order CANCELLED.
func (o *order) cancel(ctx workflow.Context, h held, why Reason) error {
	o.compensate(ctx, h)
	return o.finish(ctx, StatusCancelled, []Reason{why})
}

func (o *order) cancelReason(ctx workflow.Context) Reason {
	why := "cancelled by request"
	if ctx.Err() != nil {
		why = "the workflow was cancelled"
	}
	return Reason{Entity: activities.EntityOrder, ID: o.in.OrderID.String(), Reason: why}
}

// finish records a final status with its reasons.
func (o *order) finish(ctx workflow.Context, s Status, reasons []Reason) error {
	err := o.setStatus(ctx, s, reasons)
	if err == nil {
		o.state.Reasons = reasons
		o.state.Status = s
		o.track(ctx)
	}
	return err
}

func (o *order) setStatus(ctx workflow.Context, s Status, reasons []Reason) error {
	dctx := persistent(disconnected(ctx))
	return workflow.ExecuteActivity(dctx, a.SetStatus, activities.StatusInput{
		OrderID: o.in.OrderID, Status: string(s), Reasons: reasons,
	}).Get(dctx, nil)
}

// pickupDeadline flags the order late when it is still waiting for pickup
// after the deadline.
func (o *order) pickupDeadline(ctx workflow.Context) {
	if err := workflow.NewTimer(ctx, o.in.PickupDeadline).Get(ctx, nil); err != nil {
		return // picked up, delivered or cancelled in time
	}
	if err := workflow.Await(ctx, func() bool { return !o.busy }); err != nil {
		return
	}
	if o.state.Status != StatusConfirmed {
		return
	}
	o.busy = true
	defer func() { o.busy = false }()
	if err := workflow.ExecuteActivity(persistent(ctx), a.MarkLate, o.in.OrderID).Get(ctx, nil); err != nil {
		o.log.Warn("could not flag the order late", "error", err)
		return
	}
	o.state.Late = true
	o.log.Info("order late: not picked up before the deadline")
	o.track(ctx)
}

// handlers registers the status query and the updates.
func (o *order) handlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (OrderState, error) {
		return o.state, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateVerdict, func(ctx workflow.Context) (OrderState, error) {
		// Disconnected: a cancelled order still gets its verdict (CANCELLED).
		err := workflow.Await(disconnected(ctx), func() bool { return o.state.Status != StatusPending || o.done })
		return o.state, err
	}); err != nil {
		return err
	}
	for _, name := range []string{UpdatePickup, UpdateDeliver, UpdateCancel} {
		name := name
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, req TransitionRequest) (OrderState, error) {
				return o.transition(ctx, name, req)
			},
			workflow.UpdateHandlerOptions{Validator: func(req TransitionRequest) error {
				return o.allowed(name)
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// allowed says whether the update may move the order now.
func (o *order) allowed(update string) error {
	s := o.state.Status
	ok := false
	verb := ""
	switch update {
	case UpdatePickup:
		ok, verb = s == StatusConfirmed, "picked up"
	case UpdateDeliver:
		ok, verb = s == StatusPickedUp, "delivered"
	case UpdateCancel:
		ok, verb = s == StatusPending || s == StatusConfirmed, "cancelled"
	}
	if ok {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("order %s is %s and cannot be %s", o.in.OrderID, s, verb), ErrTransitionNotAllowed, nil)
}

// transition carries out pickup, deliver or cancel.
func (o *order) transition(ctx workflow.Context, update string, req TransitionRequest) (OrderState, error) {
	if err := workflow.Await(ctx, func() bool { return !o.busy }); err != nil {
		return o.state, err
	}
	// The order may have moved on while this update waited.
	if err := o.allowed(update); err != nil {
		return o.state, err
	}
	o.log.Info("transition", "update", update, "by", req.By)
	if update == UpdateCancel && o.state.Status == StatusPending {
		// The checks are still running: stop them; the saga compensates.
		o.cancelRequested = true
		o.cancelChecks()
		err := workflow.Await(disconnected(ctx), func() bool { return o.state.Status.Final() || o.done })
		return o.state, err
	}
	o.busy = true
	defer func() { o.busy = false }()
	dctx := persistent(ctx)
	var err error
	switch update {
	case UpdatePickup:
		if err = workflow.ExecuteActivity(dctx, a.FulfillStock, o.in.OrderID).Get(ctx, nil); err == nil {
			if err = o.setStatus(ctx, StatusPickedUp, nil); err == nil {
				o.state.Status = StatusPickedUp
				o.track(ctx)
			}
		}
	case UpdateDeliver:
		if err = workflow.ExecuteActivity(dctx, a.ReleaseCourier, o.in.OrderID).Get(ctx, nil); err == nil {
			err = o.finish(ctx, StatusDelivered, nil)
		}
	case UpdateCancel:
		err = o.cancel(ctx, held{stock: true, courier: true},
			Reason{Entity: activities.EntityOrder, ID: o.in.OrderID.String(), Reason: "cancelled by request"})
	}
	return o.state, err
}

// track keeps the search attributes, the memo and the current details in
// step with the state.
func (o *order) track(ctx workflow.Context) {
	s := o.state
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		OrderStatusKey.ValueSet(string(s.Status)),
		CustomerIDKey.ValueSet(s.CustomerID.String()),
		DeliveryManIDKey.ValueSet(s.DeliveryManID.String()),
	); err != nil {
		o.log.Warn("upsert search attributes", "error", err)
	}
	summary := o.summary()
	if err := workflow.UpsertMemo(ctx, map[string]any{"summary": summary, "status": string(s.Status), "late": s.Late}); err != nil {
		o.log.Warn("upsert memo", "error", err)
	}
	workflow.SetCurrentDetails(ctx, summary)
	o.observe(ctx)
}

// observe counts each status an order reaches and, at the verdict, how long
// it took from the start. The workflow's metrics handler reports nothing while
// a history is replayed, so each figure is counted once.
func (o *order) observe(ctx workflow.Context) {
	s := o.state.Status
	if s == o.observed {
		return
	}
	m := workflow.GetMetricsHandler(ctx)
	m.WithTags(map[string]string{"status": string(s)}).Counter("delivery_orders").Inc(1)
	if o.observed == StatusPending {
		took := workflow.Now(ctx).Sub(workflow.GetInfo(ctx).WorkflowStartTime)
		m.WithTags(map[string]string{"outcome": string(s)}).Timer("delivery_order_verdict_latency").Record(took)
	}
	o.observed = s
}

// summary is one readable line about the order (ids only, no personal data).
func (o *order) summary() string {
	s := o.state
	var b strings.Builder
	b.WriteString(fmt.Sprintf("Order %s: %s, %d item line(s)", s.OrderID, s.Status, len(s.Items)))
	if s.Total != "" {
		b.WriteString(", total " + s.Total)
	}
	b.WriteString(", delivery man " + s.DeliveryManID.String())
	if s.Late {
		b.WriteString(", LATE for pickup")
	}
	for _, r := range s.Reasons {
		b.WriteString("; " + r.Entity + " " + r.ID + ": " + r.Reason)
	}
	return b.String()
}

func disconnected(ctx workflow.Context) workflow.Context {
	d, _ := workflow.NewDisconnectedContext(ctx)
	return d
}

// persistent gives activities that must eventually succeed (compensations,
// database writes): retried with backoff without a deadline; only a refusal
// stops them.
func persistent(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: callTimeout, RetryPolicy: persistentRetry(),
	})
}

// persistentLocal is persistent for a local activity.
func persistentLocal(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: callTimeout, RetryPolicy: persistentRetry(),
	})
}

func persistentRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrRefused, activities.ErrUnexpected, activities.ErrOrderGone},
	}
}
