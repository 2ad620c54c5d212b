// Command goclient runs the published Pyroscope Go SDK (github.com/grafana/pyroscope-go) against a
// server, with all ten Go profile types, for Emberscope's real-client conformance tests
// (test/e2e/clients.test.ts).
//
// Environment:
//
//	SERVER_ADDRESS  e.g. http://127.0.0.1:4040 (required)
//	APP_NAME        application name (default "go-conformance")
//	RUN_SECONDS     how long to generate load (default 7)
//	UPLOAD_RATE_MS  SDK UploadRate in milliseconds (default 2000)
//	HOSTNAME_TAG    value of the static "hostname" tag (default "e2e-host")
//	BASIC_AUTH_USER, BASIC_AUTH_PASSWORD, TENANT_ID  credentials and X-Scope-OrgID (default none)
//
// On exit it prints one JSON line to stdout describing what it did.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/grafana/pyroscope-go"
)

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	v := envOr(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bad %s=%q: %v\n", name, v, err)
		os.Exit(2)
	}
	return n
}

type stderrLogger struct{}

func (stderrLogger) Infof(a string, b ...interface{})  { fmt.Fprintf(os.Stderr, "[info] "+a+"\n", b...) }
func (stderrLogger) Debugf(a string, b ...interface{}) {}
func (stderrLogger) Errorf(a string, b ...interface{}) {
	fmt.Fprintf(os.Stderr, "[error] "+a+"\n", b...)
}

// Sinks keep the compiler from optimising the work away.
var (
	sinkHash  [32]byte
	sinkBytes [][]byte
	sinkMu    sync.Mutex
)

//go:noinline
func burnCPU(d time.Duration) {
	deadline := time.Now().Add(d)
	buf := []byte("emberscope")
	for time.Now().Before(deadline) {
		for i := 0; i < 200; i++ {
			sinkHash = sha256.Sum256(append(buf, sinkHash[:]...))
		}
	}
}

//go:noinline
func allocate(n int) {
	keep := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, 1024+i%4096))
	}
	sinkMu.Lock()
	// Keep a bounded amount live so inuse_* has something to show.
	sinkBytes = append(sinkBytes, keep[:n/8]...)
	if len(sinkBytes) > 20000 {
		sinkBytes = sinkBytes[len(sinkBytes)-20000:]
	}
	sinkMu.Unlock()
}

//go:noinline
func mutexContention(stop <-chan struct{}) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				time.Sleep(200 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

//go:noinline
func channelContention(stop <-chan struct{}) {
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Microsecond):
			}
			select {
			case ch <- 1:
			case <-stop:
				return
			}
		}
	}()
	for {
		select {
		case <-stop:
			wg.Wait()
			return
		case <-ch:
		}
	}
}

func main() {
	serverAddress := envOr("SERVER_ADDRESS", "")
	if serverAddress == "" {
		fmt.Fprintln(os.Stderr, "SERVER_ADDRESS is required")
		os.Exit(2)
	}
	appName := envOr("APP_NAME", "go-conformance")
	runFor := time.Duration(envInt("RUN_SECONDS", 7)) * time.Second
	uploadRate := time.Duration(envInt("UPLOAD_RATE_MS", 2000)) * time.Millisecond
	hostname := envOr("HOSTNAME_TAG", "e2e-host")

	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(5)

	profiler, err := pyroscope.Start(pyroscope.Config{
		ApplicationName:   appName,
		ServerAddress:     serverAddress,
		Tags:              map[string]string{"hostname": hostname},
		BasicAuthUser:     envOr("BASIC_AUTH_USER", ""),
		BasicAuthPassword: envOr("BASIC_AUTH_PASSWORD", ""),
		TenantID:          envOr("TENANT_ID", ""),
		UploadRate:        uploadRate,
		Logger:            stderrLogger{},
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
		fmt.Fprintf(os.Stderr, "pyroscope.Start: %v\n", err)
		os.Exit(1)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); mutexContention(stop) }()
	go func() { defer wg.Done(); channelContention(stop) }()

	deadline := time.Now().Add(runFor)
	ctx := context.Background()
	for time.Now().Before(deadline) {
		pprof.Do(ctx, pprof.Labels("handler", "hash"), func(context.Context) {
			burnCPU(30 * time.Millisecond)
		})
		pprof.Do(ctx, pprof.Labels("handler", "alloc"), func(context.Context) {
			allocate(2000)
		})
		burnCPU(10 * time.Millisecond) // unlabelled work
	}
	close(stop)
	wg.Wait()

	// Flush(true) forces an upload of every profile type and waits for it; Stop() then ends the
	// session (the CPU collector uploads its last, short window) and the uploader.
	profiler.Flush(true)
	if err := profiler.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "Stop: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{
		"ok": true, "appName": appName, "hostname": hostname,
		"uploadRateMs": uploadRate.Milliseconds(), "ranMs": runFor.Milliseconds(),
		"goVersion": runtime.Version(),
	})
	fmt.Println(string(out))
}
