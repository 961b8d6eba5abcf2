package temporalx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/workflows"
)

func TestEnsureSearchAttributes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tp, err := testenv.StartTemporal(ctx) // registers the order attributes once
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Stop()
	// Again: nothing to do, no error.
	if err := temporalx.EnsureSearchAttributes(ctx, tp.Client, tp.Namespace, workflows.SearchAttributes()...); err != nil {
		t.Fatal(err)
	}
	// A new one is added and usable.
	extra := temporal.NewSearchAttributeKeyKeyword("TestExtra")
	if err := temporalx.EnsureSearchAttributes(ctx, tp.Client, tp.Namespace, extra); err != nil {
		t.Fatal(err)
	}
	// An existing name with another type is an error, not a silent success.
	clash := temporal.NewSearchAttributeKeyInt64("OrderStatus")
	if err := temporalx.EnsureSearchAttributes(ctx, tp.Client, tp.Namespace, clash); err == nil || !strings.Contains(err.Error(), "exists with type") {
		t.Fatalf("type clash: %v", err)
	}
	// Dial reaches the same server.
	c, err := temporalx.DialAddress(ctx, tp.Address, tp.Namespace, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
