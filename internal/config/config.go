// Package config reads the platform's configuration from the environment once,
// into a typed struct, with defaults that work for local development.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/delivery/platform/internal/pg"
)

// Service names, as used by `delivery serve <name>`.
const (
	Orders      = "orders"
	Users       = "users"
	Products    = "products"
	Customers   = "customers"
	DeliveryMen = "deliverymen"
)

// Services lists every service in start order (users first: the others read
// its JWKS).
var Services = []string{Users, Products, Customers, DeliveryMen, Orders}

var defaultPorts = map[string]int{Orders: 8080, Users: 8081, Products: 8082, Customers: 8083, DeliveryMen: 8084}

// Development defaults, printed by the run command when the variables are unset.
const (
	DevAdminEmail      = "admin@delivery.local"
	DevAdminPassword   = "admin-dev-password"
	DevServiceEmail    = "worker@delivery.local"
	DevServicePassword = "worker-dev-password"
)

// Service is one service's place: where it listens, where others reach it,
// and its database.
type Service struct {
	Name        string
	Addr        string // listen address, e.g. 127.0.0.1:8082
	URL         string // base URL other services use
	DatabaseURL string
}

// Config is the whole configuration.
type Config struct {
	DatabaseURL string // server-level URL; each service's database is derived from it
	Services    map[string]Service
	DBMaxConns  int32
	AutoMigrate bool

	JWTIssuer   string
	JWTAudience string
	JWTTTL      time.Duration
	JWKSURL     string
	// RevocationsURL is the users service's revocation feed, polled every
	// RevocationPoll by the other services (the bound on how long a token
	// of a deactivated, deleted or demoted user is still accepted).
	RevocationsURL string
	RevocationPoll time.Duration
	// AuthCacheSize bounds the verified-token cache of each service (0: off);
	// see auth.CacheTokens and BENCHMARKS.md.
	AuthCacheSize int

	// Login attempts that fail, per minute and burst, per account (email)
	// and per client address; beyond them POST /auth/login answers 429.
	LoginAccountPerMin, LoginAccountBurst int
	LoginAddressPerMin, LoginAddressBurst int

	AdminEmail      string
	AdminPassword   string
	ServiceEmail    string
	ServicePassword string

	// WorkerAddr is where the worker serves /metrics, /healthz and /readyz.
	WorkerAddr string

	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string

	VerdictWait    time.Duration // how long POST /orders waits for the verdict
	RetryWindow    time.Duration // how long a down service is retried before rejecting
	PickupDeadline time.Duration // after confirmation, when an order is late
	// DependencyDelay is injected before each entity call (benchmarks only).
	DependencyDelay time.Duration

	LogLevel  string
	LogFormat string
}

// Load reads the configuration from getenv.
func Load(getenv func(string) string) (Config, error) {
	var errs []string
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	dur := func(key string, def time.Duration) time.Duration {
		v := get(key, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("%s=%q is not a duration such as 5s or 2m", key, v))
			return def
		}
		return d
	}
	c := Config{
		DatabaseURL:       get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		Services:          map[string]Service{},
		JWTIssuer:         get("JWT_ISSUER", "delivery-users"),
		JWTAudience:       get("JWT_AUDIENCE", "delivery"),
		JWTTTL:            dur("JWT_TTL", 15*time.Minute),
		AdminEmail:        get("ADMIN_EMAIL", DevAdminEmail),
		AdminPassword:     get("ADMIN_PASSWORD", DevAdminPassword),
		ServiceEmail:      get("SERVICE_EMAIL", DevServiceEmail),
		ServicePassword:   get("SERVICE_PASSWORD", DevServicePassword),
		WorkerAddr:        get("WORKER_ADDR", "127.0.0.1:8085"),
		TemporalAddress:   get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: get("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         get("TEMPORAL_TASK_QUEUE", "orders"),
		VerdictWait:       dur("ORDER_VERDICT_WAIT", 5*time.Second),
		RetryWindow:       dur("ORDER_RETRY_WINDOW", 5*time.Minute),
		PickupDeadline:    dur("ORDER_PICKUP_DEADLINE", 2*time.Hour),
		DependencyDelay:   dur("DEPENDENCY_DELAY", 0),
		LogLevel:          get("LOG_LEVEL", "info"),
		LogFormat:         get("LOG_FORMAT", "json"),
	}
	if c.JWTTTL <= 0 || c.JWTTTL > 15*time.Minute {
		errs = append(errs, "JWT_TTL must be between 1s and 15m")
	}
	// 8 connections per pool: with 8 concurrent lookups, 8 beat pgx's default
	// of 4 by 1.1-1.3x and 16 did no better (BENCHMARKS.md); six processes
	// then hold at most 48 of PostgreSQL's default 100 connections.
	maxConns, err := strconv.Atoi(get("DB_MAX_CONNS", "8"))
	if err != nil || maxConns < 0 {
		errs = append(errs, "DB_MAX_CONNS must be a whole number")
	}
	c.DBMaxConns = int32(maxConns)
	c.AutoMigrate = get("AUTO_MIGRATE", "true") != "false"
	for _, name := range Services {
		key := strings.ToUpper(name)
		addr := get(key+"_ADDR", fmt.Sprintf("127.0.0.1:%d", defaultPorts[name]))
		dsn := get(key+"_DATABASE_URL", "")
		if dsn == "" {
			dsn, err = pg.WithDatabase(c.DatabaseURL, "delivery_"+name)
			if err != nil {
				errs = append(errs, "DATABASE_URL: "+err.Error())
			}
		}
		c.Services[name] = Service{
			Name:        name,
			Addr:        addr,
			URL:         strings.TrimRight(get(key+"_URL", "http://"+dialable(addr)), "/"),
			DatabaseURL: dsn,
		}
	}
	c.JWKSURL = get("JWKS_URL", c.Services[Users].URL+"/.well-known/jwks.json")
	c.RevocationsURL = get("REVOCATIONS_URL", c.Services[Users].URL+"/auth/revocations")
	c.RevocationPoll = dur("REVOCATION_POLL", 2*time.Second)
	if c.RevocationPoll <= 0 || c.RevocationPoll > time.Minute {
		errs = append(errs, "REVOCATION_POLL must be between 1ms and 1m")
	}
	if n, err := strconv.Atoi(get("AUTH_CACHE_SIZE", "10000")); err != nil || n < 0 {
		errs = append(errs, "AUTH_CACHE_SIZE must be a whole number (0 turns the cache off)")
	} else {
		c.AuthCacheSize = n
	}
	count := func(key string, def int) int {
		n, err := strconv.Atoi(get(key, strconv.Itoa(def)))
		if err != nil || n < 1 {
			errs = append(errs, key+" must be a whole number of at least 1")
			return def
		}
		return n
	}
	c.LoginAccountPerMin = count("LOGIN_ACCOUNT_PER_MIN", 5)
	c.LoginAccountBurst = count("LOGIN_ACCOUNT_BURST", 5)
	c.LoginAddressPerMin = count("LOGIN_ADDRESS_PER_MIN", 20)
	c.LoginAddressBurst = count("LOGIN_ADDRESS_BURST", 20)
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// dialable turns a listen address such as :8080 or 0.0.0.0:8080 into one a
// client can dial on this machine.
func dialable(addr string) string {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return addr
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return host + ":" + port
}
