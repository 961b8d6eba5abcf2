package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// RemoteKeys returns a keyfunc that reads the users service's JWKS at url,
// refreshes it every few minutes and, rate-limited, whenever a token names a kid
// it does not know (a key rotation). It does not fail when the users service is
// not up yet: keys are fetched on first use.
func RemoteKeys(ctx context.Context, url string) (keyfunc.Keyfunc, error) {
	noErr := true
	return keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:            &http.Client{Timeout: 5 * time.Second},
		HTTPTimeout:       5 * time.Second,
		RefreshInterval:   5 * time.Minute,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(5*time.Second), 1),
		// A token naming an unknown kid must not wait for the limiter: by
		// default it waits up to a minute, and tokens with made-up kids
		// then pile up requests (each held ~5 s more than the previous).
		// Beyond this wait it is refused at once; the refresh itself must
		// also answer within it.
		RateLimitWaitMax:          time.Second,
		NoErrorReturnFirstHTTPReq: &noErr,
	})
}
