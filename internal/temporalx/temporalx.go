// Package temporalx connects to Temporal: the client, configured from the
// platform's configuration, and the custom search attributes the workflows
// need.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/delivery/platform/internal/config"
)

// Dial connects to the Temporal frontend at cfg.TemporalAddress, namespace
// cfg.TemporalNamespace, logging through log.
func Dial(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (client.Client, error) {
	return DialAddress(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, log, opts...)
}

// Option changes the client options.
type Option func(*client.Options)

// WithMetrics reports the client's (and its worker's) metrics to h.
func WithMetrics(h client.MetricsHandler) Option {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// options are the client options every process of the platform uses: its
// logger and the propagation of the request id into workflows and activities.
func options(address, namespace string, log *slog.Logger, opts []Option) client.Options {
	if log == nil {
		log = slog.Default()
	}
	o := client.Options{
		HostPort:           address,
		Namespace:          namespace,
		Logger:             tlog.NewStructuredLogger(log.With("component", "temporal")),
		ContextPropagators: []workflow.ContextPropagator{RequestIDPropagator{}},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// DialAddress connects to the Temporal frontend at address (host:port).
func DialAddress(ctx context.Context, address, namespace string, log *slog.Logger, opts ...Option) (client.Client, error) {
	c, err := client.DialContext(ctx, options(address, namespace, log, opts))
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w: is it running? set TEMPORAL_ADDRESS", address, namespace, err)
	}
	return c, nil
}

// Lazy returns a client that connects on first use, so that a REST service
// starts (and stores orders) while Temporal is still coming up.
func Lazy(cfg config.Config, log *slog.Logger, opts ...Option) (client.Client, error) {
	return client.NewLazyClient(options(cfg.TemporalAddress, cfg.TemporalNamespace, log, opts))
}

// DialRetry dials until Temporal answers or ctx is done, so that a worker
// started before the server waits for it.
func DialRetry(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (client.Client, error) {
	for wait := time.Second; ; wait = min(2*wait, 15*time.Second) {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := Dial(dctx, cfg, log, opts...)
		cancel()
		if err == nil {
			return c, nil
		}
		log.Warn("waiting for Temporal", "address", cfg.TemporalAddress, "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// EnsureSearchAttributes registers the custom search attributes keys in
// namespace unless they are there already (idempotent, also when several
// processes do it at once) and waits until they can be used.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, keys ...temporal.SearchAttributeKey) error {
	missing, err := missingAttributes(ctx, c, namespace, keys)
	if err != nil || len(missing) == 0 {
		return err
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		SearchAttributes: missing, Namespace: namespace,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register search attributes: %w", err)
	}
	for {
		missing, err := missingAttributes(ctx, c, namespace, keys)
		if err != nil || len(missing) == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes %v not visible yet: %w", missing, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func missingAttributes(ctx context.Context, c client.Client, namespace string, keys []temporal.SearchAttributeKey) (map[string]enumspb.IndexedValueType, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, k := range keys {
		have, ok := resp.GetCustomAttributes()[k.GetName()]
		if !ok {
			missing[k.GetName()] = k.GetValueType()
			continue
		}
		if have != k.GetValueType() {
			return nil, fmt.Errorf("search attribute %s exists with type %s, want %s", k.GetName(), have, k.GetValueType())
		}
	}
	return missing, nil
}

// Healthy is a readiness check: the Temporal frontend answers.
func Healthy(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
}
