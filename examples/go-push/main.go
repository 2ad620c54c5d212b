// Command go-push is a small JSON API instrumented with the Pyroscope Go SDK, as a Go developer would do
// it: the profiler starts in main, pushes every profile type to the server, and tags the process with its
// host name. One handler is deliberately heavy: GET /api/orders builds a large report and encodes it with
// encoding/json, so after some load the flame graph shows the HTTP handling and the JSON encoding as the
// hot paths.
//
// Environment:
//
//	PYROSCOPE_SERVER_ADDRESS  the Emberscope (or Pyroscope) server (default http://localhost:4040)
//	PYROSCOPE_APPLICATION_NAME application name (default go-push-example)
//	PYROSCOPE_UPLOAD_RATE     how often profiles are pushed (default 15s)
//	LISTEN                    the API address (default :8080)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/grafana/pyroscope-go"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Order is one row of the report; the nesting and the strings make encoding/json work for its money.
type Order struct {
	ID        int               `json:"id"`
	Customer  string            `json:"customer"`
	Email     string            `json:"email"`
	CreatedAt time.Time         `json:"created_at"`
	Status    string            `json:"status"`
	Items     []Item            `json:"items"`
	Tags      []string          `json:"tags"`
	Meta      map[string]string `json:"meta"`
	Total     float64           `json:"total"`
}

type Item struct {
	SKU      string  `json:"sku"`
	Name     string  `json:"name"`
	Quantity int     `json:"quantity"`
	Price    float64 `json:"price"`
}

var statuses = []string{"new", "paid", "shipped", "delivered", "returned"}

// buildOrders builds the report: n orders of up to 8 items each.
//
//go:noinline
func buildOrders(n int) []Order {
	orders := make([]Order, 0, n)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		items := make([]Item, 1+i%8)
		total := 0.0
		for j := range items {
			price := float64((i*31+j*17)%10000) / 100
			items[j] = Item{
				SKU:      fmt.Sprintf("SKU-%06d-%02d", i, j),
				Name:     fmt.Sprintf("Product number %d in category %d", (i*7+j)%5000, j),
				Quantity: 1 + (i+j)%5,
				Price:    price,
			}
			total += price * float64(items[j].Quantity)
		}
		orders = append(orders, Order{
			ID:        i,
			Customer:  "Customer " + strconv.Itoa(i%977),
			Email:     "customer" + strconv.Itoa(i%977) + "@example.com",
			CreatedAt: start.Add(time.Duration(i) * time.Minute),
			Status:    statuses[i%len(statuses)],
			Items:     items,
			Tags:      []string{"web", statuses[(i+1)%len(statuses)], "region-" + strconv.Itoa(i%7)},
			Meta:      map[string]string{"source": "api", "campaign": "c" + strconv.Itoa(i%13)},
			Total:     total,
		})
	}
	return orders
}

// Request statistics behind one mutex: under load the goroutines contend for it (mutex and block profiles).
var (
	statsMu  sync.Mutex
	requests = map[string]int{}
)

func count(path string) {
	statsMu.Lock()
	requests[path]++
	statsMu.Unlock()
}

// handleOrders is the heavy handler: GET /api/orders?n=1000.
func handleOrders(w http.ResponseWriter, r *http.Request) {
	count(r.URL.Path)
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n <= 0 || n > 100000 {
		n = 1000
	}
	body, err := json.Marshal(map[string]any{"count": n, "orders": buildOrders(n)})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// handleHealth is the cheap handler: GET /api/health.
func handleHealth(w http.ResponseWriter, r *http.Request) {
	count(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// withLabels runs each request under a pprof "handler" label, so flame graphs can be split per endpoint.
func withLabels(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pyroscope.TagWrapper(r.Context(), pyroscope.Labels("handler", name), func(context.Context) { h(w, r) })
	}
}

func main() {
	// Mutex and block profiles are empty unless their rates are set.
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(5)

	hostname, _ := os.Hostname()
	uploadRate, err := time.ParseDuration(env("PYROSCOPE_UPLOAD_RATE", "15s"))
	if err != nil {
		log.Fatalf("PYROSCOPE_UPLOAD_RATE: %v", err)
	}
	profiler, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: env("PYROSCOPE_APPLICATION_NAME", "go-push-example"),
		ServerAddress:   env("PYROSCOPE_SERVER_ADDRESS", "http://localhost:4040"),
		Tags:            map[string]string{"hostname": hostname},
		UploadRate:      uploadRate,
		ProfileTypes: []pyroscope.ProfileType{
			pyroscope.ProfileCPU,
			pyroscope.ProfileAllocObjects,
			pyroscope.ProfileAllocSpace,
			pyroscope.ProfileInuseObjects,
			pyroscope.ProfileInuseSpace,
			pyroscope.ProfileGoroutines,
			pyroscope.ProfileMutexCount,
			pyroscope.ProfileMutexDuration,
			pyroscope.ProfileBlockCount,
			pyroscope.ProfileBlockDuration,
		},
	})
	if err != nil {
		log.Fatalf("pyroscope.Start: %v", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/orders", withLabels("orders", handleOrders))
	mux.HandleFunc("GET /api/health", withLabels("health", handleHealth))
	srv := &http.Server{Addr: env("LISTEN", ":8080"), Handler: mux}

	go func() {
		log.Printf("go-push example listening on %s", srv.Addr)
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	// Stop flushes the last profiles to the server.
	_ = profiler.Stop()
	log.Print("stopped")
}
