package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/delivery/platform/internal/config"
)

const ordersUsage = `usage:
  delivery orders list [--status S] [--late] [--delivery-man ID] [--customer ID] [--limit N]
  delivery orders late                 confirmed orders past their pickup deadline
  delivery orders show <order-id>
  delivery orders cancel <order-id>    cancel through the API (stock and courier are released)
Signs in as DELIVERY_EMAIL / DELIVERY_PASSWORD (default: the admin of the configuration),
or uses DELIVERY_TOKEN when set.`

// orders is the dispatcher's terminal view of the orders, through the same
// REST API as everyone else.
func ordersCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(ordersUsage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	c, err := dispatcherClient(ctx, cfg, getenv)
	if err != nil {
		return err
	}
	base := cfg.Services[config.Orders].URL
	switch args[0] {
	case "list", "late":
		fs := flag.NewFlagSet("orders list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		status := fs.String("status", "", "PENDING, CONFIRMED, REJECTED, PICKED_UP, DELIVERED or CANCELLED")
		late := fs.Bool("late", false, "only orders past their pickup deadline")
		dm := fs.String("delivery-man", "", "only this delivery man's orders")
		customer := fs.String("customer", "", "only this customer's orders")
		limit := fs.Int("limit", 100, "at most this many orders (1-100)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		q := url.Values{"limit": {fmt.Sprint(*limit)}}
		if args[0] == "late" {
			*status, *late = "CONFIRMED", true
		}
		for k, v := range map[string]string{"status": *status, "delivery_man_id": *dm, "customer_id": *customer} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if *late {
			q.Set("late", "true")
		}
		var list struct {
			Items []struct {
				ID            string `json:"id"`
				Status        string `json:"status"`
				Late          bool   `json:"late"`
				DeliveryManID string `json:"delivery_man_id"`
				Total         string `json:"total"`
				DeliverAt     string `json:"deliver_at"`
				CreatedAt     string `json:"created_at"`
			} `json:"items"`
		}
		if _, err := c.do(ctx, "GET", base+"/orders?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORDER\tSTATUS\tLATE\tDELIVERY MAN\tTOTAL\tDELIVER AT\tCREATED")
		for _, o := range list.Items {
			late := ""
			if o.Late {
				late = "LATE"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Status, late, o.DeliveryManID, o.Total, o.DeliverAt, o.CreatedAt)
		}
		return tw.Flush()
	case "show", "cancel":
		if len(args) != 2 {
			return errors.New(ordersUsage)
		}
		method, path := "GET", "/orders/"+url.PathEscape(args[1])
		if args[0] == "cancel" {
			method, path = "POST", path+"/cancel"
		}
		var out json.RawMessage
		if _, err := c.do(ctx, method, base+path, nil, &out); err != nil {
			return err
		}
		var pretty strings.Builder
		enc := json.NewEncoder(&pretty)
		enc.SetIndent("", "  ")
		var v any
		_ = json.Unmarshal(out, &v)
		_ = enc.Encode(v)
		_, err := io.WriteString(stdout, pretty.String())
		return err
	}
	return errors.New(ordersUsage)
}

func dispatcherClient(ctx context.Context, cfg config.Config, getenv func(string) string) (*apiClient, error) {
	c := &apiClient{http: &http.Client{Timeout: 15 * time.Second}, token: getenv("DELIVERY_TOKEN")}
	if c.token != "" {
		return c, nil
	}
	email, password := getenv("DELIVERY_EMAIL"), getenv("DELIVERY_PASSWORD")
	if email == "" {
		email, password = cfg.AdminEmail, cfg.AdminPassword
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := c.do(ctx, "POST", cfg.Services[config.Users].URL+"/auth/login",
		map[string]any{"email": email, "password": password}, &login); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", email, err)
	}
	c.token = login.AccessToken
	return c, nil
}
