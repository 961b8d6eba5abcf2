package orders

import (
	"context"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/delivery/platform/services/orders/db"

	"github.com/delivery/platform/workflows"
)

// Reconcile starts the workflow of every PENDING order older than olderThan
// that has none running: the REST process may have died between storing an
// order and starting its workflow, or Temporal may have been down. A running
// workflow is joined (nothing happens); a completed one is never run again
// (it wrote the order's final status before completing); one that failed or
// was terminated while the order was PENDING runs again (every activity is
// idempotent). It returns how many orders it looked at.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Duration) (int, error) {
	before := time.Now().Add(-olderThan)
	seen := 0
	// Page through all of them: the oldest may still be PENDING with their
	// workflow running (a service down), and must not hide the others.
	params := db.ListStalePendingOrdersParams{Before: before, AfterCreated: time.Time{}, AfterID: uuid.Nil, Lim: int32(reconcilePage)}
	for {
		rows, err := s.q.ListStalePendingOrders(ctx, params)
		if err != nil {
			return seen, err
		}
		for _, o := range rows {
			if err := s.ensureWorkflow(ctx, o); err != nil {
				return seen, err
			}
			seen++
		}
		if len(rows) < reconcilePage {
			return seen, nil
		}
		last := rows[len(rows)-1]
		params.AfterCreated, params.AfterID = last.CreatedAt, last.ID
	}
}

// reconcilePage is how many orders the reconciler reads at a time.
var reconcilePage = 100

// ensureWorkflow starts the workflow of a PENDING order unless it runs.
func (s *Service) ensureWorkflow(ctx context.Context, o db.Order) error {
	items, err := s.q.ListOrderItems(ctx, []uuid.UUID{o.ID})
	if err != nil {
		return err
	}
	run, err := s.c.ExecuteWorkflow(ctx,
		s.startOptions(o, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY),
		workflows.WorkflowName, s.workflowInput(o, items))
	switch {
	case isAlreadyStarted(err):
	case err != nil:
		return err
	default:
		s.log.DebugContext(ctx, "reconciler: order workflow running", "order_id", o.ID, "run_id", run.GetRunID())
	}
	return nil
}

// RunReconciler reconciles every interval until ctx is done.
func (s *Service) RunReconciler(ctx context.Context, every, olderThan time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Reconcile(ctx, olderThan); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "reconciler", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "reconciler: pending orders checked", "count", n)
		}
	}
}
