package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The engine's floor: a workflow of the saga's shape (4 activities in
// parallel, then 1) whose activities do nothing, answered through the same
// Update-with-Start the orders service uses.

// FloorInput chooses the kind of activities.
type FloorInput struct {
	Local bool `json:"local"`
}

const floorUpdate = "verdict"

// FloorWorkflow is the no-op saga.
func FloorWorkflow(ctx workflow.Context, in FloorInput) error {
	done := false
	if err := workflow.SetUpdateHandler(ctx, floorUpdate, func(ctx workflow.Context) error {
		return workflow.Await(ctx, func() bool { return done })
	}); err != nil {
		return err
	}
	run := func(ctx workflow.Context) workflow.Future {
		if in.Local {
			return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx,
				workflow.LocalActivityOptions{StartToCloseTimeout: 15 * time.Second}), NoopActivity)
		}
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx,
			workflow.ActivityOptions{StartToCloseTimeout: 15 * time.Second}), NoopActivity)
	}
	fs := make([]workflow.Future, 4)
	for i := range fs {
		fs[i] = run(ctx)
	}
	for _, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	if err := run(ctx).Get(ctx, nil); err != nil {
		return err
	}
	done = true
	return nil
}

// NoopActivity does nothing.
func NoopActivity(context.Context) error { return nil }

// floor is a worker of FloorWorkflow in this process (worker and client in
// one process, as the first measurements were taken).
type floor struct {
	c     client.Client
	queue string
	w     worker.Worker
}

func startFloor(c client.Client, queue string, opts worker.Options) (*floor, error) {
	w := worker.New(c, queue, opts)
	w.RegisterWorkflow(FloorWorkflow)
	w.RegisterActivity(NoopActivity)
	if err := w.Start(); err != nil {
		return nil, err
	}
	return &floor{c: c, queue: queue, w: w}, nil
}

func (f *floor) stop() { f.w.Stop() }

// verdict starts one workflow with Update-with-Start and waits for the
// update's answer, like POST /orders does.
func (f *floor) verdict(ctx context.Context, local bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	op := f.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: "floor-" + uuid.NewString(), TaskQueue: f.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, FloorWorkflow, FloorInput{Local: local})
	h, err := f.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: floorUpdate, UpdateName: floorUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return fmt.Errorf("floor update-with-start: %w", err)
	}
	return h.Get(ctx, nil)
}

// run starts one workflow and waits for its result (eager: the server hands
// the first workflow task back in the start answer, to this process' worker).
func (f *floor) run(ctx context.Context, local, eager bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "floor-" + uuid.NewString(), TaskQueue: f.queue, EnableEagerStart: eager,
	}, FloorWorkflow, FloorInput{Local: local})
	if err != nil {
		return err
	}
	return r.Get(ctx, nil)
}
