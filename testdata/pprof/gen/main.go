// Command gen writes real Go runtime profiles (cpu, allocs, goroutine, mutex, block) that the pprof
// codec's tests and benchmarks decode. Run it from this directory with `go run . -out ..`.
//
// The workload walks a tree of eight non-inlined functions chosen by the digits of a random key, so the
// profiles hold many distinct, realistically deep stacks rather than one hot loop. Workers carry pprof
// labels, so CPU and goroutine samples have labels too.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

// treeDepth levels of 8 branches give 8^6 = 262144 possible leaf stacks.
const treeDepth = 6

type worker struct {
	rng    *rand.Rand
	shared *sharedState
	sink   []byte
}

type sharedState struct {
	mu      sync.Mutex
	counter uint64
	results chan [32]byte
}

var branches [8]func(depth int, key uint64, w *worker)

func init() {
	branches = [8]func(int, uint64, *worker){alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel}
}

func descend(depth int, key uint64, w *worker) {
	if depth == 0 {
		w.leaf(key)
		return
	}
	branches[key%8](depth-1, key/8, w)
}

//go:noinline
func alpha(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func bravo(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func charlie(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func delta(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func echo(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func foxtrot(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func golf(depth int, key uint64, w *worker) { descend(depth, key, w) }

//go:noinline
func hotel(depth int, key uint64, w *worker) { descend(depth, key, w) }

// leaf burns CPU, allocates a key-dependent amount, and now and then contends on the shared mutex
// (mutex and block profiles) and hands a result to the collector over a channel (block profile).
//
//go:noinline
func (w *worker) leaf(key uint64) {
	buf := make([]byte, 64+int(key%16)*64)
	for i := range buf {
		buf[i] = byte(key >> (i % 8))
	}
	sum := sha256.Sum256(buf)
	for i := 0; i < int(key%4); i++ {
		sum = sha256.Sum256(sum[:])
	}
	if key%7 == 0 {
		w.shared.mu.Lock()
		for i := 0; i < 16; i++ {
			sum = sha256.Sum256(sum[:])
		}
		w.shared.counter += uint64(sum[0])
		w.shared.mu.Unlock()
	}
	if key%31 == 0 {
		w.shared.results <- sum
	}
	w.sink = buf
}

// skewedKey favours a few hot subtrees, like real services, while still reaching cold stacks.
func (w *worker) skewedKey() uint64 {
	if w.rng.Intn(4) == 0 {
		return uint64(w.rng.Int63n(1 << (3 * treeDepth)))
	}
	return uint64(w.rng.Int63n(64))
}

func runWorkers(shared *sharedState, workers int, d time.Duration) {
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for id := 0; id < workers; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			labels := pprof.Labels("worker", strconv.Itoa(id), "kind", []string{"even", "odd"}[id%2])
			pprof.Do(context.Background(), labels, func(context.Context) {
				w := &worker{rng: rand.New(rand.NewSource(int64(id))), shared: shared}
				for time.Now().Before(deadline) {
					descend(treeDepth, w.skewedKey(), w)
				}
			})
		}(id)
	}
	wg.Wait()
}

// parkGoroutines leaves goroutines waiting in several ways so the goroutine profile has varied stacks.
func parkGoroutines() (release func()) {
	stop := make(chan struct{})
	var held sync.Mutex
	held.Lock()
	for i := 0; i < 4; i++ {
		labels := pprof.Labels("parked", strconv.Itoa(i))
		go pprof.Do(context.Background(), labels, func(context.Context) {
			switch i % 4 {
			case 0:
				<-stop
			case 1:
				select {
				case <-stop:
				case <-time.After(time.Hour):
				}
			case 2:
				held.Lock()
				held.Unlock()
			case 3:
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { <-stop; wg.Done() }()
				wg.Wait()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	return func() { close(stop); held.Unlock() }
}

func writeProfile(dir, name string, write func(f *os.File) error) {
	f, err := os.Create(filepath.Join(dir, "go-"+name+".pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	if err := write(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("out", "..", "directory to write go-<profile>.pb.gz files into")
	duration := flag.Duration("duration", 3*time.Second, "how long the workload runs")
	flag.Parse()

	// Sample every 4 KiB allocated (default 512 KiB) so the allocs profile holds many stacks.
	runtime.MemProfileRate = 4096
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)

	shared := &sharedState{results: make(chan [32]byte)}
	go func() {
		for range shared.results {
		}
	}()

	cpu, err := os.Create(filepath.Join(*out, "go-cpu.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		log.Fatal(err)
	}
	runWorkers(shared, 2*runtime.NumCPU(), *duration)
	pprof.StopCPUProfile()
	if err := cpu.Close(); err != nil {
		log.Fatal(err)
	}

	release := parkGoroutines()
	runtime.GC() // the allocs profile reports as of the last GC
	for _, name := range []string{"allocs", "goroutine", "mutex", "block"} {
		writeProfile(*out, name, func(f *os.File) error { return pprof.Lookup(name).WriteTo(f, 0) })
	}
	release()
	fmt.Printf("wrote profiles to %s\n", *out)
}
