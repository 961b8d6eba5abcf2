package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/delivery/platform/internal/config"
)

type demoData struct {
	OrderJSON            string
	CourierEmail         string
	CourierPassword      string
	CourierDeliveryManID string
}

// loadDemo creates sample records through the public APIs, as an operator
// would. Running it again finds the records it made before.
func loadDemo(ctx context.Context, cfg config.Config) (*demoData, error) {
	c := &apiClient{http: &http.Client{Timeout: 10 * time.Second}}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := c.do(ctx, "POST", cfg.Services[config.Users].URL+"/auth/login",
		map[string]any{"email": cfg.AdminEmail, "password": cfg.AdminPassword}, &login); err != nil {
		return nil, fmt.Errorf("log in as the admin: %w", err)
	}
	c.token = login.AccessToken
	url := func(svc, path string) string { return cfg.Services[svc].URL + path }

	d := &demoData{CourierEmail: "courier@delivery.local", CourierPassword: "courier-dev-password"}
	courier, err := c.ensure(ctx, url(config.Users, "/users"), "q="+d.CourierEmail, "email", map[string]any{
		"email": d.CourierEmail, "name": "Carla Courier", "password": d.CourierPassword, "role": "courier",
	})
	if err != nil {
		return nil, err
	}
	var productIDs []string
	for _, p := range []map[string]any{
		{"name": "Lomo saltado", "description": "Beef, onions, tomatoes, fries", "price": "32.50", "stock": 50},
		{"name": "Ceviche clásico", "description": "Fish cured in lime", "price": "28.00", "stock": 30},
		{"name": "Chicha morada 1L", "description": "Purple corn drink", "price": "8.90", "stock": 100},
	} {
		id, err := c.ensure(ctx, url(config.Products, "/products"), "q="+p["name"].(string), "name", p)
		if err != nil {
			return nil, err
		}
		productIDs = append(productIDs, id)
	}
	customer, err := c.ensure(ctx, url(config.Customers, "/customers"), "national_id=45678912", "national_id", map[string]any{
		"first_name": "Lucía", "paternal_surname": "Quispe", "maternal_surname": "Mamani", "national_id": "45678912",
		"email": "lucia.quispe@example.com", "phone": "987654321", "address": "Av. Arequipa 1234, Lima",
		"birth_date": "1990-05-17", "sex": "female",
	})
	if err != nil {
		return nil, err
	}
	dm, err := c.ensure(ctx, url(config.DeliveryMen, "/delivery-men"), "user_id="+courier, "driver_license", map[string]any{
		"first_name": "Carla", "paternal_surname": "Rojas", "maternal_surname": "Flores", "national_id": "41234567",
		"email": "carla.rojas@example.com", "phone": "912345678", "address": "Jr. Cusco 456, Lima",
		"birth_date": "1994-11-02", "sex": "female", "driver_license": "Q41234567", "available": true, "user_id": courier,
	})
	if err != nil {
		return nil, err
	}
	d.CourierDeliveryManID = dm
	order, _ := json.Marshal(map[string]any{
		"customer_id": customer, "delivery_man_id": dm,
		"items": []map[string]any{{"product_id": productIDs[0], "quantity": 2}, {"product_id": productIDs[2], "quantity": 1}},
		"phone": "987654321", "delivery_address": "Av. Arequipa 1234, Lima",
		"deliver_at": time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339),
	})
	d.OrderJSON = string(order)
	return d, nil
}

type apiClient struct {
	http  *http.Client
	token string
}

// ensure returns the id of the record of collection whose key field equals
// body's (found through filter), creating it from body when there is none.
func (c *apiClient) ensure(ctx context.Context, collection, filter, key string, body map[string]any) (string, error) {
	q, _ := url.ParseQuery(filter)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if _, err := c.do(ctx, "GET", collection+"?limit=100&"+q.Encode(), nil, &list); err != nil {
		return "", err
	}
	for _, it := range list.Items {
		if fmt.Sprint(it[key]) == fmt.Sprint(body[key]) {
			return fmt.Sprint(it["id"]), nil
		}
	}
	var created struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, "POST", collection, body, &created); err != nil {
		return "", fmt.Errorf("demo data: %w", err)
	}
	return created.ID, nil
}

func (c *apiClient) do(ctx context.Context, method, url string, body, out any) (int, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, &buf)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, p.Detail)
	}
	if out != nil {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}
