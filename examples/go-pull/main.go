// Command go-pull is the same kind of JSON API as examples/go-push, but without any profiling SDK: it
// only exposes Go's standard net/http/pprof endpoints, on a separate internal port that is never
// published. Emberscope's pull mode (scrape_configs in emberscope.yaml) collects the profiles from there.
//
// Environment:
//
//	LISTEN        the API address (default :8080)
//	PPROF_LISTEN  the internal pprof address (default 127.0.0.1:6060)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type Order struct {
	ID        int               `json:"id"`
	Customer  string            `json:"customer"`
	CreatedAt time.Time         `json:"created_at"`
	Status    string            `json:"status"`
	Items     []Item            `json:"items"`
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
			CreatedAt: start.Add(time.Duration(i) * time.Minute),
			Status:    statuses[i%len(statuses)],
			Items:     items,
			Meta:      map[string]string{"source": "api", "campaign": "c" + strconv.Itoa(i%13)},
			Total:     total,
		})
	}
	return orders
}

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

func handleHealth(w http.ResponseWriter, r *http.Request) {
	count(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func main() {
	// The mutex and block profiles served by /debug/pprof are empty unless their rates are set.
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(5)

	// The pprof endpoints live on their own mux and port: importing net/http/pprof for its side effect
	// would put them on http.DefaultServeMux, and so on the public API if it used the default mux.
	debug := http.NewServeMux()
	debug.HandleFunc("/debug/pprof/", pprof.Index)
	debug.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	debug.HandleFunc("/debug/pprof/profile", pprof.Profile)
	debug.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	debug.HandleFunc("/debug/pprof/trace", pprof.Trace)
	internal := &http.Server{Addr: env("PPROF_LISTEN", "127.0.0.1:6060"), Handler: debug}

	api := http.NewServeMux()
	api.HandleFunc("GET /api/orders", handleOrders)
	api.HandleFunc("GET /api/health", handleHealth)
	public := &http.Server{Addr: env("LISTEN", ":8080"), Handler: api}

	for _, srv := range []*http.Server{internal, public} {
		go func() {
			log.Printf("listening on %s", srv.Addr)
			if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Fatal(err)
			}
		}()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = public.Shutdown(ctx)
	_ = internal.Shutdown(ctx)
	log.Print("stopped")
}
