package temporalx

import (
	"context"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/delivery/platform/internal/httpx"
)

// requestIDHeader is the Temporal header that carries the request id.
const requestIDHeader = "request-id"

type requestIDKey struct{}

// RequestIDPropagator carries the request id of the call that placed an order
// (X-Request-Id) from the orders service into the workflow and on to every
// activity, whose calls to the entity services send it again, so one order
// can be followed across every log.
type RequestIDPropagator struct{}

var _ workflow.ContextPropagator = RequestIDPropagator{}

// Inject puts the request id of ctx into the headers of a client call.
func (RequestIDPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return inject(httpx.RequestID(ctx), w)
}

// Extract puts the request id of the headers into an activity's context.
func (RequestIDPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	id, err := extract(r)
	if err != nil || id == "" {
		return ctx, err
	}
	return httpx.WithRequestID(ctx, id), nil
}

// InjectFromWorkflow passes the workflow's request id to its activities.
func (RequestIDPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return inject(id, w)
}

// ExtractToWorkflow keeps the request id the workflow was started with.
func (RequestIDPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	id, err := extract(r)
	if err != nil || id == "" {
		return ctx, err
	}
	return workflow.WithValue(ctx, requestIDKey{}, id), nil
}

func inject(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(requestIDHeader, p)
	return nil
}

func extract(r workflow.HeaderReader) (string, error) {
	p, ok := r.Get(requestIDHeader)
	if !ok {
		return "", nil
	}
	var id string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &id); err != nil {
		return "", err
	}
	if !httpx.ValidRequestID(id) {
		return "", nil
	}
	return id, nil
}
