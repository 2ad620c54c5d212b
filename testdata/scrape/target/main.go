// Command target is a Go service that exposes only net/http/pprof, for Emberscope's pull-mode tests.
//
// It prints "listening on HOST:PORT" once it serves. Endpoints besides /debug/pprof/:
//
//	/alloc?bytes=N   allocates N bytes (in 1 KiB objects) in main.allocate, then runs the GC twice so
//	                 that the allocation is published in the allocs profile.
//	/health          answers "ok".
//
// Background goroutines keep the CPU, a contended mutex and a blocking channel busy, so every default
// profile type has samples.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Every allocation is recorded: allocation deltas are then exact.
func init() { runtime.MemProfileRate = 1 }

var sink []byte

// allocate allocates n bytes rounded up to whole KiB, as 1 KiB objects (a Go size class, so the profile
// records exactly 1024 bytes each), and nothing else.
//
//go:noinline
func allocate(n int) {
	for ; n > 0; n -= 1024 {
		sink = make([]byte, 1024)
	}
	sink = nil
}

//go:noinline
func burnCPU(stop <-chan struct{}) {
	x := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := 0; i < 1_000_000; i++ {
			x += i * i % 7
		}
		if x == -1 {
			fmt.Println(x)
		}
	}
}

//go:noinline
func contendMutex(mu *sync.Mutex) {
	for {
		mu.Lock()
		time.Sleep(time.Millisecond)
		mu.Unlock()
	}
}

//go:noinline
func blockOnChannel(ch chan int) {
	for {
		<-ch
	}
}

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)

	stop := make(chan struct{})
	go burnCPU(stop)
	var mu sync.Mutex
	for i := 0; i < 3; i++ {
		go contendMutex(&mu)
	}
	ch := make(chan int)
	go blockOnChannel(ch)
	go func() {
		for {
			time.Sleep(5 * time.Millisecond)
			ch <- 1
		}
	}()

	http.HandleFunc("/alloc", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("bytes"))
		if err != nil || n < 0 {
			http.Error(w, "bytes must be a non-negative integer", http.StatusBadRequest)
			return
		}
		allocate(n)
		runtime.GC()
		runtime.GC()
		fmt.Fprintf(w, "allocated %d\n", n)
	})
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
