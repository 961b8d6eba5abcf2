package compose

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
)

const root = "../.."

// TestComposeFile checks the real docker-compose.yml and Dockerfile.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := load(data, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range check(p) {
		t.Error(problem)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range checkDockerfile(string(dockerfile)) {
		t.Error("Dockerfile: " + problem)
	}
}

// TestCheckerCatchesMistakes feeds the checker broken variants of the real
// file and asserts that each mistake is reported.
func TestCheckerCatchesMistakes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	svc := func(doc map[string]any, name string) map[string]any {
		return doc["services"].(map[string]any)[name].(map[string]any)
	}
	env := func(doc map[string]any, name string) map[string]any {
		return svc(doc, name)["environment"].(map[string]any)
	}
	deps := func(doc map[string]any, name string) map[string]any {
		return svc(doc, name)["depends_on"].(map[string]any)
	}
	cases := []struct {
		name   string
		break_ func(doc map[string]any)
		want   string
	}{
		{"variable the code does not read", func(d map[string]any) { env(d, "orders")["ORDERS_PORT"] = "8080" }, "ORDERS_PORT"},
		{"listen port not the default", func(d map[string]any) { env(d, "products")["PRODUCTS_ADDR"] = "0.0.0.0:9999" }, "listens on 0.0.0.0:9999"},
		{"listen on loopback", func(d map[string]any) { env(d, "users")["USERS_ADDR"] = "127.0.0.1:8081" }, "not reachable from other containers"},
		{"published port not the service's", func(d map[string]any) { svc(d, "customers")["ports"] = []any{"127.0.0.1:8083:9083"} }, "publishes no port 8083"},
		{"service missing", func(d map[string]any) { delete(d["services"].(map[string]any), "customers") }, `no service "customers" runs "serve customers"`},
		{"worker missing", func(d map[string]any) { delete(d["services"].(map[string]any), "worker") }, `no service runs "worker"`},
		{"health check on another port", func(d map[string]any) {
			svc(d, "deliverymen")["healthcheck"].(map[string]any)["test"] = []any{"CMD", "/usr/local/bin/healthcheck", "http://127.0.0.1:8081/readyz"}
		}, "deliverymen: health check"},
		{"no health check", func(d map[string]any) { delete(svc(d, "users"), "healthcheck") }, "users: no health check"},
		{"image tagged latest", func(d map[string]any) { svc(d, "temporal-ui")["image"] = "temporalio/ui:latest" }, "not pinned"},
		{"image untagged", func(d map[string]any) { svc(d, "postgres")["image"] = "postgres" }, "not pinned"},
		{"deprecated auto-setup image", func(d map[string]any) { svc(d, "temporal")["image"] = "temporalio/auto-setup:1.29.0" }, "auto-setup"},
		{"depends on a service that does not exist", func(d map[string]any) {
			deps(d, "worker")["ghost"] = map[string]any{"condition": "service_started"}
		}, `"ghost"`},
		{"dependency cycle", func(d map[string]any) {
			deps(d, "users")["orders"] = map[string]any{"condition": "service_healthy"}
		}, "cycle"},
		{"UI pointing elsewhere", func(d map[string]any) { env(d, "temporal-ui")["TEMPORAL_ADDRESS"] = "localhost:7233" }, "temporal-ui: TEMPORAL_ADDRESS"},
		{"tctl pointing elsewhere", func(d map[string]any) { delete(env(d, "admin-tools"), "TEMPORAL_CLI_ADDRESS") }, "admin-tools: TEMPORAL_CLI_ADDRESS"},
		{"service URL on a wrong port", func(d map[string]any) { env(d, "orders")["PRODUCTS_URL"] = "http://products:9000" }, "PRODUCTS_URL"},
		{"database elsewhere", func(d map[string]any) {
			env(d, "products")["DATABASE_URL"] = "postgres://delivery@localhost:5432/postgres"
		}, "database"},
		{"search attribute missing", func(d map[string]any) {
			env(d, "temporal-init")["SEARCH_ATTRIBUTES"] = "OrderStatus=Keyword CustomerId=Keyword"
		}, "DeliveryManId"},
		{"orders started before the search attributes exist", func(d map[string]any) { delete(deps(d, "orders"), "temporal-init") }, "orders: must start after temporal-init"},
		{"service started before users is healthy", func(d map[string]any) {
			deps(d, "products")["users"] = map[string]any{"condition": "service_started"}
		}, "products: must start after users"},
		{"mounted file missing", func(d map[string]any) {
			svc(d, "temporal-init")["volumes"] = []any{"./deploy/temporal/nope.sh:/scripts/init.sh:ro"}
		}, "nope.sh"},
		{"variable without a default", func(d map[string]any) { env(d, "users")["ADMIN_PASSWORD"] = "${ADMIN_PASSWORD}" }, "no default"},
		{"two services on one host port", func(d map[string]any) { svc(d, "temporal-ui")["ports"] = []any{"127.0.0.1:8080:8080"} }, "host port 8080"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			tc.break_(doc)
			broken, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			p, err := load(broken, root)
			if err != nil {
				t.Fatal(err)
			}
			problems := check(p)
			for _, problem := range problems {
				if strings.Contains(problem, tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got:\n%s", tc.want, strings.Join(problems, "\n"))
		})
	}

	t.Run("Dockerfile base image tagged latest", func(t *testing.T) {
		problems := checkDockerfile("ARG GO=1.26.8\nFROM golang:${GO} AS build\nFROM alpine:latest\nFROM scratch\nCOPY --from=build /x /x\n")
		if len(problems) != 1 || !strings.Contains(problems[0], "alpine:latest") {
			t.Errorf("got %q, want one problem about alpine:latest", problems)
		}
	})
}

// project is the part of a compose file the checks read, interpolated with
// the defaults of its ${VAR:-default} references.
type project struct {
	dir      string
	services map[string]*service
	problems []string // found while loading (interpolation)
}

type service struct {
	name        string
	image       string
	buildTarget string // "" without build
	hasBuild    bool
	command     []string
	env         map[string]string
	ports       []port
	healthcheck []string // nil: none
	dependsOn   map[string]string
	volumes     []string
}

type port struct{ hostIP, host, container string }

func load(data []byte, dir string) (*project, error) {
	var doc struct {
		Services map[string]map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	p := &project{dir: dir, services: map[string]*service{}}
	str := func(where string, v any) string {
		s, err := interpolate(fmt.Sprint(v))
		if err != nil {
			p.problems = append(p.problems, where+": "+err.Error())
		}
		return s
	}
	list := func(where string, v any) []string {
		switch v := v.(type) {
		case nil:
			return nil
		case string:
			return strings.Fields(str(where, v))
		case []any:
			out := make([]string, len(v))
			for i, x := range v {
				out[i] = str(where, x)
			}
			return out
		}
		p.problems = append(p.problems, fmt.Sprintf("%s: want a string or a list, got %T", where, v))
		return nil
	}
	for name, raw := range doc.Services {
		s := &service{name: name, env: map[string]string{}, dependsOn: map[string]string{}}
		where := name
		if v, ok := raw["image"]; ok {
			s.image = str(where+": image", v)
		}
		switch b := raw["build"].(type) {
		case nil:
		case string:
			s.hasBuild = true
		case map[string]any:
			s.hasBuild = true
			if t, ok := b["target"]; ok {
				s.buildTarget = str(where+": build", t)
			}
		}
		s.command = list(where+": command", raw["command"])
		switch e := raw["environment"].(type) {
		case map[string]any:
			for k, v := range e {
				if v == nil {
					v = ""
				}
				s.env[k] = str(where+": "+k, v)
			}
		case []any:
			for _, kv := range e {
				k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
				s.env[k] = str(where+": "+k, v)
			}
		}
		for _, v := range asList(raw["ports"]) {
			s.ports = append(s.ports, parsePort(p, where, v, str))
		}
		if hc, ok := raw["healthcheck"].(map[string]any); ok && hc["disable"] != true {
			s.healthcheck = list(where+": healthcheck", hc["test"])
		}
		switch d := raw["depends_on"].(type) {
		case []any:
			for _, n := range d {
				s.dependsOn[fmt.Sprint(n)] = "service_started"
			}
		case map[string]any:
			for n, v := range d {
				cond := "service_started"
				if m, ok := v.(map[string]any); ok && m["condition"] != nil {
					cond = fmt.Sprint(m["condition"])
				}
				s.dependsOn[n] = cond
			}
		}
		for _, v := range asList(raw["volumes"]) {
			if vs, ok := v.(string); ok {
				s.volumes = append(s.volumes, str(where+": volumes", vs))
			}
		}
		p.services[name] = s
	}
	return p, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func parsePort(p *project, where string, v any, str func(string, any) string) port {
	if m, ok := v.(map[string]any); ok { // long syntax
		pt := port{container: str(where, m["target"])}
		if m["published"] != nil {
			pt.host = str(where, m["published"])
		}
		if m["host_ip"] != nil {
			pt.hostIP = str(where, m["host_ip"])
		}
		return pt
	}
	spec, _, _ := strings.Cut(str(where+": ports", v), "/")
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 1:
		return port{container: parts[0]}
	case 2:
		return port{host: parts[0], container: parts[1]}
	case 3:
		return port{hostIP: parts[0], host: parts[1], container: parts[2]}
	}
	p.problems = append(p.problems, fmt.Sprintf("%s: cannot read port %q", where, spec))
	return port{}
}

var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)((:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate resolves compose's ${VAR:-default} references as they resolve
// with no .env file and an empty environment: the stack must come up with
// zero configuration, so a reference without a default is a mistake.
func interpolate(s string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := varRef.FindStringSubmatch(m)
		name, op, def := sub[1], sub[3], sub[4]
		if name == "" {
			name = sub[5]
		}
		switch op {
		case ":-", "-":
			return def
		case ":+", "+":
			return ""
		}
		err = fmt.Errorf("${%s} has no default: the stack must start without an .env file", name)
		return ""
	})
	return out, err
}

// check returns every mismatch between the compose project and the code.
func check(p *project) []string {
	problems := slices.Clone(p.problems)
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	defaults, err := config.Load(func(string) string { return "" })
	if err != nil {
		add("config defaults: %v", err)
		return problems
	}
	defaultPort := func(svc string) string {
		_, port, _ := net.SplitHostPort(defaults.Services[svc].Addr)
		return port
	}

	names := sortedKeys(p.services)
	byImage := func(prefix string) []*service {
		var out []*service
		for _, n := range names {
			if s := p.services[n]; strings.HasPrefix(s.image, prefix) {
				out = append(out, s)
			}
		}
		return out
	}
	var ours []*service
	serving := map[string]*service{} // config service name → compose service
	var worker, migrate, searchAttrs *service
	for _, n := range names {
		s := p.services[n]
		if s.buildTarget != "delivery" {
			if _, ok := s.env["SEARCH_ATTRIBUTES"]; ok {
				searchAttrs = s
			}
			continue
		}
		ours = append(ours, s)
		switch {
		case len(s.command) == 2 && s.command[0] == "serve":
			if !slices.Contains(config.Services, s.command[1]) {
				add("%s: serves %q, which is not one of %v", n, s.command[1], config.Services)
			}
			serving[s.command[1]] = s
		case slices.Equal(s.command, []string{"worker"}):
			worker = s
		case len(s.command) > 0 && s.command[0] == "migrate":
			migrate = s
		default:
			add("%s: command %q is none of serve <service>, worker, migrate", n, s.command)
		}
	}

	// Every service of the code, under its own name (the URLs use it), and the worker.
	for _, name := range config.Services {
		if s := serving[name]; s == nil || s.name != name {
			add("no service %q runs \"serve %s\"", name, name)
		}
	}
	if worker == nil {
		add("no service runs \"worker\"")
	}

	postgres := byImage("postgres:")
	temporal := byImage("temporalio/server:")
	if len(postgres) != 1 {
		add("want one postgres service, found %d", len(postgres))
	}
	if len(temporal) != 1 {
		add("want one temporalio/server service, found %d", len(temporal))
	}
	isService := func(host, prefix string) bool {
		s := p.services[host]
		return s != nil && strings.HasPrefix(s.image, prefix)
	}
	temporalAddr := ""
	if len(temporal) == 1 {
		temporalAddr = temporal[0].name + ":7233"
	}

	// reaches reports whether from starts after to (directly or through other
	// services) with the given condition on the edge into to.
	reaches := func(from *service, to, cond string) bool {
		seen := map[string]bool{}
		queue := []string{from.name}
		for len(queue) > 0 {
			cur := p.services[queue[0]]
			queue = queue[1:]
			if cur == nil || seen[cur.name] {
				continue
			}
			seen[cur.name] = true
			for dep, c := range cur.dependsOn {
				if dep == to && c == cond {
					return true
				}
				queue = append(queue, dep)
			}
		}
		return false
	}
	needs := func(s *service, to *service, cond string) {
		if to != nil && !reaches(s, to.name, cond) {
			add("%s: must start after %s (depends_on with condition %s)", s.name, to.name, cond)
		}
	}

	for _, s := range ours {
		// Only variables that internal/config reads.
		read := map[string]bool{}
		cfg, err := config.Load(func(k string) string { read[k] = true; return s.env[k] })
		if err != nil {
			add("%s: internal/config rejects its environment: %v", s.name, err)
			continue
		}
		for _, k := range sortedKeys(s.env) {
			if !read[k] {
				add("%s: sets %s, which internal/config does not read", s.name, k)
			}
		}

		// Where the other services, the databases and Temporal are.
		for _, name := range config.Services {
			want := "http://" + name + ":" + defaultPort(name)
			if got := cfg.Services[name].URL; got != want {
				add("%s: %s_URL is %q, want %q", s.name, strings.ToUpper(name), got, want)
			}
			u, err := url.Parse(cfg.Services[name].DatabaseURL)
			if err != nil || !isService(u.Hostname(), "postgres:") {
				add("%s: the %s database %q is not on the compose postgres service", s.name, name, cfg.Services[name].DatabaseURL)
			}
		}
		if want := "http://users:" + defaultPort(config.Users) + "/.well-known/jwks.json"; cfg.JWKSURL != want {
			add("%s: JWKS_URL is %q, want %q", s.name, cfg.JWKSURL, want)
		}

		// Start order: PostgreSQL and the migrated schema; the JWKS (users)
		// for every other service and the worker; Temporal's namespace and
		// search attributes for orders and the worker.
		if len(postgres) == 1 {
			needs(s, postgres[0], "service_healthy")
		}
		if s == migrate {
			continue
		}
		if !cfg.AutoMigrate {
			if migrate == nil {
				add("%s: AUTO_MIGRATE=false but no service runs \"migrate\"", s.name)
			}
			needs(s, migrate, "service_completed_successfully")
		}
		if s != serving[config.Users] {
			needs(s, serving[config.Users], "service_healthy")
		}
		if s == worker || s == serving[config.Orders] {
			if cfg.TemporalAddress != temporalAddr {
				add("%s: TEMPORAL_ADDRESS is %q, want %q", s.name, cfg.TemporalAddress, temporalAddr)
			}
			if searchAttrs == nil {
				add("no service registers the search attributes (SEARCH_ATTRIBUTES)")
			}
			needs(s, searchAttrs, "service_completed_successfully")
		}
		if s == worker {
			for _, name := range []string{config.Products, config.Customers, config.DeliveryMen} {
				needs(s, serving[name], "service_healthy")
			}
		}

		// A service listens on its default port on every interface, publishes
		// it, and has a health check on it.
		if len(s.command) != 2 || s.command[0] != "serve" {
			continue
		}
		name := s.command[1]
		want := defaultPort(name)
		host, listenPort, _ := net.SplitHostPort(cfg.Services[name].Addr)
		if listenPort != want {
			add("%s: listens on %s, want port %s (%s_ADDR)", s.name, cfg.Services[name].Addr, want, strings.ToUpper(name))
		}
		if host != "0.0.0.0" && host != "" {
			add("%s: listens on %s, not reachable from other containers: set %s_ADDR=0.0.0.0:%s", s.name, cfg.Services[name].Addr, strings.ToUpper(name), want)
		}
		if !slices.ContainsFunc(s.ports, func(pt port) bool { return pt.container == want }) {
			add("%s: publishes no port %s", s.name, want)
		}
		if s.healthcheck == nil {
			add("%s: no health check", s.name)
			continue
		}
		hc := healthURL(s.healthcheck)
		u, err := url.Parse(hc)
		if hc == "" || err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") || u.Port() != want ||
			(u.Path != "/readyz" && u.Path != "/healthz") {
			add("%s: health check %q, want http://127.0.0.1:%s/readyz (or /healthz)", s.name, s.healthcheck, want)
		}
	}

	// depends_on: existing services, known conditions, no cycle.
	for _, n := range names {
		s := p.services[n]
		for _, dep := range sortedKeys(s.dependsOn) {
			target := p.services[dep]
			switch cond := s.dependsOn[dep]; {
			case target == nil:
				add("%s: depends on %q, which is not a service", n, dep)
			case cond == "service_healthy" && target.healthcheck == nil:
				add("%s: waits for %s to be healthy, but %s has no health check", n, dep, dep)
			case cond != "service_started" && cond != "service_healthy" && cond != "service_completed_successfully":
				add("%s: unknown depends_on condition %q", n, cond)
			}
		}
		if cycle := findCycle(p, n, nil); cycle != nil {
			add("depends_on cycle: %s", strings.Join(cycle, " → "))
			break
		}
	}

	// Images: pinned; Temporal's current images, not auto-setup.
	for _, n := range names {
		s := p.services[n]
		if s.image == "" && !s.hasBuild {
			add("%s: no image", n)
			continue
		}
		if strings.Contains(s.image, "auto-setup") {
			add("%s: %s: temporalio/auto-setup is deprecated; use temporalio/server with a schema setup container", n, s.image)
		}
		if !s.hasBuild && !pinned(s.image) {
			add("%s: image %q is not pinned to a version", n, s.image)
		}
	}

	// The Web UI and the CLIs talk to the compose Temporal server.
	for _, n := range names {
		s := p.services[n]
		tool := strings.HasPrefix(s.image, "temporalio/ui:") || strings.HasPrefix(s.image, "temporalio/admin-tools:") || s.buildTarget == "admin-tools"
		if !tool {
			continue
		}
		if got := s.env["TEMPORAL_ADDRESS"]; got != temporalAddr && s.env["POSTGRES_SEEDS"] == "" {
			add("%s: TEMPORAL_ADDRESS is %q, want %q", n, got, temporalAddr)
		}
		if s.buildTarget == "admin-tools" && s.env["TEMPORAL_CLI_ADDRESS"] != temporalAddr { // tctl's variable
			add("%s: TEMPORAL_CLI_ADDRESS is %q, want %q (tctl reads it)", n, s.env["TEMPORAL_CLI_ADDRESS"], temporalAddr)
		}
	}
	var adminTools bool
	for _, n := range names {
		adminTools = adminTools || p.services[n].buildTarget == "admin-tools"
	}
	if !adminTools {
		add("no admin-tools service (the admin-tools target of the Dockerfile, with tctl and the temporal CLI)")
	}
	if len(byImage("temporalio/ui:")) != 1 {
		add("want one temporalio/ui service")
	}
	for _, s := range append(temporal, byImage("temporalio/admin-tools:")...) {
		if seeds, ok := s.env["POSTGRES_SEEDS"]; ok && !isService(seeds, "postgres:") {
			add("%s: POSTGRES_SEEDS %q is not the compose postgres service", s.name, seeds)
		}
	}
	if len(temporal) == 1 && temporal[0].healthcheck == nil {
		add("%s: no health check", temporal[0].name)
	}

	// The search attributes the workflow writes.
	if searchAttrs != nil {
		got := map[string]string{}
		for _, f := range strings.Fields(searchAttrs.env["SEARCH_ATTRIBUTES"]) {
			k, v, _ := strings.Cut(f, "=")
			got[k] = v
		}
		for k, v := range devstack.SearchAttributes {
			if got[k] != v {
				add("%s: SEARCH_ATTRIBUTES registers %s as %q, want %q", searchAttrs.name, k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := devstack.SearchAttributes[k]; !ok {
				add("%s: SEARCH_ATTRIBUTES registers %s, which the workflow does not use", searchAttrs.name, k)
			}
		}
	}

	// Published host ports are unique; mounted files exist; the PostgreSQL
	// init script creates every service's database.
	hostPorts := map[string]string{}
	for _, n := range names {
		for _, pt := range p.services[n].ports {
			if pt.host == "" {
				continue
			}
			if other, ok := hostPorts[pt.host]; ok {
				add("%s and %s both publish host port %s", other, n, pt.host)
			}
			hostPorts[pt.host] = n
		}
		for _, v := range p.services[n].volumes {
			src, dst, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") {
				continue
			}
			path := filepath.Join(p.dir, src)
			if _, err := os.Stat(path); err != nil {
				add("%s: mounts %s, which does not exist", n, src)
				continue
			}
			if strings.HasPrefix(dst, "/docker-entrypoint-initdb.d/") {
				script, _ := os.ReadFile(path)
				for _, name := range config.Services {
					if !strings.Contains(string(script), "CREATE DATABASE delivery_"+name+" ") {
						add("%s: %s does not create the database delivery_%s", n, src, name)
					}
				}
			}
		}
	}
	return problems
}

// healthURL is the URL a health check test requests.
func healthURL(test []string) string {
	for _, arg := range test {
		for _, f := range strings.Fields(arg) {
			if strings.HasPrefix(f, "http://") {
				return f
			}
		}
	}
	return ""
}

// pinned reports whether image names a version: a digest, or a tag other
// than latest with a version number in it or in the name (distroless images
// carry theirs in the name: static-debian12:nonroot).
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	slash := strings.LastIndex(image, "/")
	name, tag, ok := strings.Cut(image[slash+1:], ":")
	return ok && tag != "" && tag != "latest" && strings.ContainsAny(name+tag, "0123456789")
}

func findCycle(p *project, start string, path []string) []string {
	if i := slices.Index(path, start); i >= 0 {
		return append(slices.Clone(path[i:]), start)
	}
	s := p.services[start]
	if s == nil {
		return nil
	}
	for _, dep := range sortedKeys(s.dependsOn) {
		if c := findCycle(p, dep, append(path, start)); c != nil {
			return c
		}
	}
	return nil
}

// checkDockerfile checks that every base image of the Dockerfile is pinned.
func checkDockerfile(text string) []string {
	var problems []string
	args := map[string]string{}
	stages := map[string]bool{"scratch": true}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				args[k] = v
			}
		case "FROM":
			img := f[1]
			if strings.HasPrefix(img, "--") && len(f) > 2 { // --platform=...
				f = f[1:]
				img = f[1]
			}
			img = os.Expand(img, func(k string) string { return args[k] })
			if !stages[img] && !pinned(img) {
				problems = append(problems, fmt.Sprintf("base image %q is not pinned to a version", img))
			}
			if len(f) >= 4 && strings.EqualFold(f[2], "AS") {
				stages[f[3]] = true
			}
		}
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
