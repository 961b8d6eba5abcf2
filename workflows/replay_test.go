package workflows_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/workflows"
)

// TestReplay replays the histories recorded from real runs under testdata/:
// a change to the workflow that would break orders already running fails
// here. Record them again (RECORD_HISTORIES=1 go test -run TestRecordHistories
// ./workflows/) only for a deliberate, versioned change.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("want the recorded histories under testdata/, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflowOptions())
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fakes answer like the services would, so that the recorded histories are
// real runs of the workflow on a real server.
type fakes struct {
	customerDown atomic.Int32 // fail this many customer checks first
	refuseStock  bool
}

func (f *fakes) CheckUser(context.Context, uuid.UUID) error { return nil }
func (f *fakes) CheckCustomer(_ context.Context, id uuid.UUID) error {
	if f.customerDown.Add(-1) >= 0 {
		return errors.New("dial tcp 127.0.0.1:8083: connect: connection refused")
	}
	return nil
}
func (f *fakes) ReserveStock(_ context.Context, in activities.ReserveInput) (activities.Reservation, error) {
	if f.refuseStock {
		return activities.Reservation{}, activities.Refused(activities.Reason{
			Entity: activities.EntityProduct, ID: in.Items[0].ProductID.String(), Reason: "insufficient stock: 2 requested, 1 available"})
	}
	out := activities.Reservation{Total: "25.00"}
	for _, it := range in.Items {
		out.Items = append(out.Items, activities.PricedItem{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: "12.50"})
	}
	return out, nil
}
func (f *fakes) AssignCourier(context.Context, activities.AssignInput) error { return nil }
func (f *fakes) ReleaseStock(context.Context, uuid.UUID) error               { return nil }
func (f *fakes) FulfillStock(context.Context, uuid.UUID) error               { return nil }
func (f *fakes) ReleaseCourier(context.Context, uuid.UUID) error             { return nil }
func (f *fakes) ConfirmOrder(context.Context, activities.ConfirmInput) error { return nil }
func (f *fakes) SetStatus(context.Context, activities.StatusInput) error     { return nil }
func (f *fakes) MarkLate(context.Context, uuid.UUID) error                   { return nil }

// TestRecordHistories runs each scenario on a Temporal dev server and writes
// its history to testdata/. Behind RECORD_HISTORIES=1.
func TestRecordHistories(t *testing.T) {
	if os.Getenv("RECORD_HISTORIES") == "" {
		t.Skip("set RECORD_HISTORIES=1 to record the replay histories")
	}
	ctx := context.Background()
	tp, err := testenv.StartTemporal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Stop()
	f := &fakes{}
	const queue = "record"
	w := worker.New(tp.Client, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflowOptions())
	w.RegisterActivity(f)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	record := func(name string, in workflows.OrderInput, steps ...string) {
		t.Helper()
		id := workflows.OrderWorkflowID(in.OrderID)
		start := tp.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: queue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, workflows.WorkflowName, in)
		h, err := tp.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{UpdateID: workflows.VerdictUpdateID, UpdateName: workflows.UpdateVerdict,
				WaitForStage: client.WorkflowUpdateStageCompleted},
		})
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.OrderState
		if err := h.Get(ctx, &st); err != nil {
			t.Fatal(err)
		}
		for _, step := range steps {
			switch step {
			case "wait":
				time.Sleep(2 * time.Second)
			case "cancel-workflow":
				if err := tp.Client.CancelWorkflow(ctx, id, ""); err != nil {
					t.Fatal(err)
				}
			default:
				uh, err := tp.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: step,
					Args: []any{workflows.TransitionRequest{By: in.UserID}}, WaitForStage: client.WorkflowUpdateStageCompleted})
				if err == nil {
					err = uh.Get(ctx, nil)
				}
				t.Logf("%s %s: %v", name, step, err)
			}
		}
		run := tp.Client.GetWorkflow(ctx, id, "")
		_ = run.Get(ctx, nil) // a cancelled workflow returns its cancellation
		var hist historypb.History
		it := tp.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			hist.Events = append(hist.Events, ev)
		}
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func() workflows.OrderInput {
		return workflows.OrderInput{
			OrderID: uuid.Must(uuid.NewV7()), UserID: uuid.New(), CustomerID: uuid.New(), DeliveryManID: uuid.New(),
			Items:       []workflows.Item{{ProductID: uuid.New(), Quantity: 2}},
			RetryWindow: 30 * time.Second, PickupDeadline: time.Hour,
		}
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	record("delivered", in(), workflows.UpdateDeliver, workflows.UpdatePickup, workflows.UpdatePickup, workflows.UpdateDeliver)
	record("cancelled", in(), workflows.UpdateCancel)
	f.refuseStock = true
	record("rejected", in())
	f.refuseStock = false
	f.customerDown.Store(2)
	record("retried-then-cancelled-workflow", in(), "cancel-workflow")
	late := in()
	late.PickupDeadline = time.Second
	record("late-pickup", late, "wait", workflows.UpdatePickup, workflows.UpdateDeliver)
}

func workflowOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: workflows.WorkflowName}
}
