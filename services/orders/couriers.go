package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
)

// courierTTL is how long a courier's delivery-man id is remembered.
const courierTTL = time.Minute

// courierCache learns which delivery man a courier is from the delivery-men
// service (GET /delivery-men/me with the courier's own token), and remembers
// it briefly.
type courierCache struct {
	url  string
	http *http.Client
	mu   sync.Mutex
	m    map[uuid.UUID]courierEntry
}

type courierEntry struct {
	id      uuid.UUID // uuid.Nil: this courier is no delivery man
	expires time.Time
}

func newCourierCache(url string, hc *http.Client) *courierCache {
	return &courierCache{url: strings.TrimRight(url, "/"), http: hc, m: map[uuid.UUID]courierEntry{}}
}

// lookup returns the delivery man of courier user (uuid.Nil when they have
// none). authorization is the courier's own Authorization header.
func (cc *courierCache) lookup(ctx context.Context, user uuid.UUID, authorization string) (uuid.UUID, error) {
	cc.mu.Lock()
	e, ok := cc.m[user]
	cc.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.id, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cc.url+"/delivery-men/me", nil)
	if err != nil {
		return uuid.Nil, err
	}
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Accept", "application/json")
	resp, err := cc.http.Do(req)
	if err != nil {
		return uuid.Nil, httpx.Errorf(httpx.CodeUnavailable, "the delivery-men service cannot tell which delivery man you are: try again")
	}
	defer resp.Body.Close()
	var id uuid.UUID
	switch resp.StatusCode {
	case http.StatusOK:
		var dm struct {
			ID uuid.UUID `json:"id"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&dm); err != nil || dm.ID == uuid.Nil {
			return uuid.Nil, fmt.Errorf("delivery-men /me: undecodable answer: %v", err)
		}
		id = dm.ID
	case http.StatusNotFound:
		// A courier account that belongs to no delivery man sees no order.
	default:
		return uuid.Nil, httpx.Errorf(httpx.CodeUnavailable,
			"the delivery-men service cannot tell which delivery man you are (%d): try again", resp.StatusCode)
	}
	cc.mu.Lock()
	cc.m[user] = courierEntry{id: id, expires: time.Now().Add(courierTTL)}
	cc.mu.Unlock()
	return id, nil
}
